"""Every page, form and query string of the app, fed hostile input by every kind of user.

The table is built from `app.url_map`, so a new route is fuzzed without anyone adding it
here. Form fields come from the forms the app itself renders (each role's pages are
crawled and their <form>s read), completed by valid baselines for the main forms so that
a single bad field also reaches the code behind a passing validation. Each value is sent
as-is, as a file part, repeated, and in bulk; the checks are: never a 5xx, and a refused
request (4xx, or a redirect with an error flash) leaves every table as it was.
"""
from __future__ import annotations

import io
import re
from datetime import timedelta
from dataclasses import dataclass, field
from html.parser import HTMLParser

from flask import message_flashed
from sqlalchemy import event, select

from marketplace.bidding import services as bidding
from marketplace.core.time import utcnow
from marketplace.engagements import transitions
from marketplace.extensions import db
from marketplace.messaging import services as messaging
from marketplace.moderation import flags, holds
from marketplace.moderation.access import MFA_SESSION_KEY
from marketplace.notifications.services import notify
from marketplace.outbox.services import send_mail
from marketplace.payments.models import Transfer
from marketplace.schedules import blocks as schedule_blocks, claims as shift_claims
from marketplace.schedules.models import Shift
from marketplace.timesheets.models import TimeEntry
from marketplace.timesheets.weeks import week_start
from marketplace.files.models import Attachment
from marketplace.api import tokens as api_tokens
from marketplace.webhooks import services as webhooks
from marketplace.webhooks.models import WebhookDelivery
from tests import factories
from tests.payments.helpers import sandbox_fund
from tests.reviews.helpers import ended_engagement
from tests.tasks.helpers import make_profile, sign_in, task_form
from tests.timesheets.conftest import create_hourly_contract

WRITE = re.compile(r'\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)
ROLES = ("anonymous", "specialist", "business", "operator")

# Routes left out, and why.
SKIPPED_ENDPOINTS = {
    "static", "bootstrap.static",   # files on disk, no input
    "payments.stripe_webhook",      # signed JSON, fuzzed by the webhook tests with real signatures
}
# The JSON API takes JSON and tokens, not forms and cookies: schemathesis fuzzes it (tests/api).
API_PREFIX = "/api/v1/"

BAD_VALUES = {
    "digits": "9" * 5000,            # past Python's int() digit limit
    "int_overflow": "2147483648",    # past PostgreSQL's INTEGER
    "negative": "-1",
    "exponent": "1e999999999",
    "snan": "sNaN",
    "infinity": "-Infinity",
    "other_digits": "١٢٣",           # str.isdigit() says yes, most parsers say no
    "text": "abc",
    "empty": "",
    "blank": "   ",
    "long": "x" * 20_000,
    "newline": "a\r\nb",
    "far_date": "9999-12-31",
    "nul": "a\x00b",
}
FILE, REPEATED = "file", "repeated"   # two more shapes: a file part, and the field sent twice

# Every kind goes to every field at once; one field at a time (the others valid) gets the kinds
# that can pass a form's validation and reach the code behind it.
ALL_KINDS = [*BAD_VALUES, REPEATED, FILE]
FIELD_KINDS = ["digits", "int_overflow", "negative", "snan", "other_digits", "long", "newline", REPEATED, FILE]
OTHER_ROLE_KINDS = ["digits", "long", FILE]   # roles a route is not for: refused early, a few shapes suffice


def field_kinds(name: str) -> list[str]:
    return FIELD_KINDS + (["far_date"] if re.search(r"date|from|to$", name) else [])


def without_files(kinds: list[str]) -> list[str]:
    return [kind for kind in kinds if kind != FILE]

# Query arguments the views read (a route not listed still gets all of them at once).
QUERY_ARGS = {
    "tasks.browse": ["q", "skill", "language", "channel", "pricing", "sort", "timezone", "budget_min",
                     "budget_max", "page"],
    "profiles.directory": ["skill", "min_level", "language", "channel", "rate_max", "min_rating", "sort", "page",
                           "q", "available"],
    "moderation.next_case": ["after"],
    "moderation.queue": ["tab", "type", "age", "page"],
    "moderation.audit": ["q", "action", "actor", "target_type", "target_id", "subject", "from", "to", "page"],
    "metrics.index": ["days", "from", "to", "currency"],
    "outbox.index": ["to", "page"],
    "messaging.inbox": ["page"],
    "messaging.thread": ["before", "page"],
    "notifications.index": ["page"],
    "bidding.quote": ["task_id", "amount", "estimated_hours"],
    "accounts.login": ["next"], "accounts.reauthenticate": ["next"], "accounts.signup": ["role"],
    "moderation.two_factor": ["next"], "reports.new": ["back"],
    "timesheets.show": ["week", "day", "start", "end", "channel", "memo"],
    "schedules.task_schedule": ["week"], "schedules.find_specialists": ["shift"], "schedules.my_shifts": ["past"],
}
ALL_QUERY_ARGS = sorted({name for names in QUERY_ARGS.values() for name in names})

# A failed credential check is recorded on purpose (the lockout counts it), even though the answer is a 400.
CREDENTIAL_CHECKS = {"accounts.login", "accounts.reauthenticate", "moderation.two_factor",
                     "accounts.change_password", "accounts.change_email"}
# A lockout also ends the sessions and is audited. These routes are fuzzed last, so the lockout hides nothing.
CREDENTIAL_TABLES = {"users", "audit_entries", "login_throttles"}

# Routes that end the session or change who may act: fuzzed last, each role signed in again after.
LAST = {"accounts.logout", "accounts.signup", "moderation.suspend_user", "tasks.cancel", "tasks.close",
        "engagements.cancel", "bidding.withdraw", "invoicing.end", *CREDENTIAL_CHECKS}


@dataclass
class World:
    users: dict
    ids: dict
    baselines: dict = field(default_factory=dict)   # endpoint -> (role, valid form data)


def build_world() -> World:
    business, specialist, operator = (factories.create_business(), factories.create_freelancer(),
                                      factories.create_operator())
    other_specialist = factories.create_freelancer()
    make_profile(specialist, skills={"zendesk": 4}, languages={"en": "native"}, channels=["chat"])
    task = factories.create_task(business, title="Chat cover for a launch weekend")
    free_task = factories.create_task(business, title="Email backlog before the holidays")
    factories.create_task(business, status="draft", title="A draft nobody sees")
    bid = bidding.place_bid(specialist, task, amount=40_000, estimated_hours=None, cover_note="I can help.")
    invitation = bidding.invite(business, free_task, other_specialist.id, "Join us?")
    thread = messaging.get_or_create_thread(task, specialist.id)
    messaging.post_message(business, thread, "Hello, are you free on Saturday?")
    from marketplace.files.attachments import PendingFile
    message = messaging.post_message(specialist, thread, "The script", PendingFile(b"%PDF-1.4\n%%EOF\n", "script.pdf"))
    attachment = db.session.scalar(select(Attachment).where(Attachment.message_id == message.id))
    awaiting = factories.create_engagement(business, specialist)
    charge = transitions.begin_funding(business, awaiting, "sandbox")
    working = factories.create_engagement(business, specialist)
    sandbox_fund(working)
    disputed = factories.create_engagement(business, specialist)
    sandbox_fund(disputed)
    transitions.open_dispute(business, disputed, "Half the shifts were missed.")
    ended = ended_engagement(business, specialist)
    held = factories.create_task(business, title="A task waiting for review")
    case = holds.hold("task", held, business.id, ["Mentions payment outside the platform."])
    flags.report(specialist, "task", task.id, "spam", "Looks copied.")
    note = notify(business, "fuzz", "A notification", "Body", "/dashboard", email=False)
    mail = send_mail(business.email, "Hello", "Body")
    hourly = create_hourly_contract(business, specialist)
    opened = week_start(utcnow())
    entry = TimeEntry(contract_id=hourly.id, started_at=opened, ended_at=opened + timedelta(minutes=30),
                      week_start=opened, minutes=30, memo="Chat queue")
    db.session.add(entry)
    db.session.flush()
    # Last week closed into an invoice (awaiting payment: the payable the on-session pay page is for).
    last_week = opened - timedelta(days=7)
    hourly.created_at = last_week
    db.session.add(TimeEntry(contract_id=hourly.id, started_at=last_week + timedelta(hours=9),
                             ended_at=last_week + timedelta(hours=10), week_start=last_week, minutes=60,
                             memo="Last week's queue"))
    db.session.flush()
    from marketplace.invoicing.closing import close_week, lock_contract
    invoice = close_week(lock_contract(hourly.id), last_week, now=opened + timedelta(minutes=1))
    # A coverage schedule on the hourly task: two one-off shifts, held by the specialist and by a
    # second specialist hired on the same task, with a swap offered between them.
    first_day = hourly.task.start_date
    schedule = [schedule_blocks.add_block(business, hourly.task, schedule_blocks.BlockInput(
        None, day, 9 * 60, 17 * 60, "chat", 2), now=utcnow()) for day in (first_day, first_day + timedelta(days=1))]
    second = create_hourly_contract(business, other_specialist)
    second.task_id = hourly.task_id
    db.session.flush()
    shift, other_shift = (db.session.scalar(select(Shift).where(Shift.block_id == b.id)) for b in schedule)
    seat = shift_claims.claim(specialist, shift, now=utcnow())
    other_seat = shift_claims.claim(other_specialist, other_shift, now=utcnow())
    swap = shift_claims.offer_swap(specialist, shift, other_seat.id, now=utcnow())
    api_token, _secret = api_tokens.create_token(business, "Fuzzed", "write", 30)
    endpoint = webhooks.create_endpoint(business, "http://127.0.0.1:9/hooks", ["message.received"])
    webhooks.record_event("message.received", recipients=[business.id], data={"thread_id": thread.id})
    delivery = db.session.scalar(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id))
    users = {"business": business, "specialist": specialist, "operator": operator}
    ids = {
        "task_id": task.id, "bid_id": bid.id, "engagement_id": working.id, "thread_id": thread.id,
        "invitation_id": invitation.id, "notification_id": note.id, "message_id": mail.id, "case_id": case.id,
        "user_id": specialist.id, "freelancer_id": specialist.id, "charge_id": charge.id,
        "target_type": "task", "target_id": task.id, "token": "not-a-real-token", "answer": "accept",
        "outcome": "pay",
        # An open fixed-price contract and its unfunded milestone (the one its checkout was started for).
        "contract_id": awaiting.contract_id, "milestone_id": awaiting.id,
        # Payments needing attention: the ended engagement's payout (retrying a paid one is refused).
        "kind": "transfer",
        "row_id": db.session.scalar(select(Transfer.id).where(Transfer.engagement_id == ended.id)) or ended.id,
        # An hourly contract's timesheet and one of its entries; last week's invoice and its payable.
        "entry_id": entry.id, "invoice_id": invoice.id, "payable_id": invoice.engagement_id,
        # The coverage schedule.
        "block_id": schedule[0].id, "shift_id": shift.id, "seat_id": seat.id, "swap_id": swap.id,
        # A PDF attached to a message of the thread; an avatar rendition size; a footer page.
        "attachment_id": attachment.id, "size": 64, "page": "terms",
        # The business's API token, webhook endpoint and one delivery of its log.
        "token_id": api_token.id, "endpoint_id": endpoint.id, "delivery_id": delivery.id,
        # A dead-letter job (none exists: jobs run in-process in the tests).
        "job_id": "00000000-0000-0000-0000-000000000000", "job_action": "retry",
    }
    world = World(users, ids)
    world.ids.update(free_task=free_task.id, awaiting=awaiting.id, disputed=disputed.id, ended=ended.id,
                     hourly_contract=hourly.id, hourly_task=hourly.task_id)
    world.baselines = {
        "accounts.login": ("anonymous", {"email": "nobody@example.com", "password": "not-the-password-1"}),
        "accounts.signup": ("anonymous", {"role": "business", "full_name": "Ada Fuzz", "email": "ada@example.com",
                                          "password": "a-long-enough-password"}),
        "accounts.forgot_password": ("anonymous", {"email": "nobody@example.com"}),
        "accounts.change_password": ("business", {"pw-current_password": "wrong-password-1",
                                                  "pw-new_password": "another-long-password"}),
        "accounts.change_email": ("business", {"email-email": "moved@example.com",
                                               "email-current_password": "wrong-pass-1"}),
        "tasks.new": ("business", task_form()),
        "tasks.edit": ("business", task_form()),
        "bidding.place": ("specialist", {"amount": "120.50", "estimated_hours": "10", "cover_note": "I can help.",
                                         "availability_note": "Weekends"}),
        "bidding.edit": ("specialist", {"amount": "300", "estimated_hours": "", "cover_note": "Still keen.",
                                        "availability_note": ""}),
        "bidding.accept": ("business", {"seen_amount": "40000", "seen_hours": ""}),
        "bidding.invite": ("business", {"task_id": str(free_task.id), "message": "Join us"}),
        "bidding.decline": ("business", {"note": "Thanks"}),
        "profiles.edit": ("specialist", {"headline": "Calm", "bio": "Kind", "hourly_rate": "25", "timezone": "UTC",
                                         "hours_per_week": "20", "preferred_hours": "", "channels": "chat",
                                         "languages-0-language": "en", "languages-0-proficiency": "native"}),
        "messaging.send": ("business", {"body": "See you Saturday."}),
        "reports.new": ("business", {"reason": "spam", "details": "Copied text."}),
        "disputes.add_statement": ("specialist", {"body": "I covered every shift."}),
        "disputes.operator_decide": ("operator", {"confirm": "y", "refund": "100", "release": "356.78", "note": "Split."}),
        "reviews.write": ("business", {"stars": "5", "listening": "5", "acknowledging": "4", "patience": "5",
                                       "positive_language": "5", "follow_through": "5",
                                       "public_comment": "Great.", "private_feedback": ""}),
        "engagements.request_changes": ("business", {"note": "Please redo Sunday."}),
        "engagements.deliver": ("specialist", {"note": "All done."}),
        "engagements.dispute": ("business", {"note": "Nothing was done."}),
        "engagements.cancel": ("business", {"note": "No longer needed."}),
        "moderation.warn_user": ("operator", {"warn-reason": "Please keep it polite."}),
        "moderation.suspend_user": ("operator", {"suspend-reason": "Spam."}),
        "moderation.reject_case": ("operator", {"reject-reason": "Not allowed."}),
        "moderation.approve_case": ("operator", {"approve-reason": ""}),
        "moderation.act_on_flags": ("operator", {"action": "warn", "act-reason": "Careful.", "reported": "1"}),
        "moderation.dismiss_flags": ("operator", {"dismiss-reason": "Fine."}),
        "moderation.two_factor": ("operator", {"code": "123456"}),
        "contracts.add_milestone": ("business", {"title": "Follow-up week", "amount": "10", "due_on": ""}),
        "contracts.split_milestone": ("business", {"title": "Second half", "amount": "10", "due_on": ""}),
        "timesheets.log": ("specialist", _entry_form()),
        "timesheets.edit": ("specialist", _entry_form()),
        "timesheets.change_limit": ("business", {"hours": "12.5"}),
        "billing.sandbox_card": ("business", {"behaviour": "succeeds"}),
        "invoicing.add_bonus": ("business", {"title": "Great week", "amount": "25"}),
        "invoicing.dispute": ("business", {"entries": "1", "reason": "Not worked."}),
        "schedules.add_block": ("business", {"kind": "weekly", "weekday": "0", "on_date": "", "start": "09:00",
                                             "end": "17:00", "channel": "chat", "seats": "1"}),
        "schedules.edit_block": ("business", {"kind": "once", "weekday": "0", "on_date": first_day.isoformat(),
                                              "start": "10:00", "end": "18:00", "channel": "chat", "seats": "2"}),
        "schedules.assign": ("business", {"specialist_id": str(specialist.id)}),
        "schedules.offer_swap": ("specialist", {"seat_id": str(other_seat.id)}),
        "schedules.claim": ("specialist", {"series": "1"}),
    }
    return world


ENDPOINT_IDS = {   # where the default id would not reach the interesting code
    "bidding.place": {"task_id": "free_task"},
    "engagements.fund": {"engagement_id": "awaiting"}, "engagements.funding_return": {"engagement_id": "awaiting"},
    "disputes.add_statement": {"engagement_id": "disputed"}, "disputes.operator_decide": {"engagement_id": "disputed"},
    "disputes.operator_show": {"engagement_id": "disputed"},
    "reviews.write": {"engagement_id": "ended"}, "engagements.receipt": {"engagement_id": "ended"},
    **{f"timesheets.{name}": {"contract_id": "hourly_contract"}
       for name in ("show", "log", "edit", "delete", "change_limit")},
    "billing.pay": {"payable_id": "awaiting"},
    **{f"invoicing.{name}": {"contract_id": "hourly_contract"}
       for name in ("invoice", "dispute", "add_bonus", "pause", "resume", "end")},
    **{f"schedules.{name}": {"task_id": "hourly_task"}
       for name in ("task_schedule", "add_block", "edit_block", "remove_block", "find_specialists")},
}


def _entry_form() -> dict[str, str]:
    return {"day": utcnow().date().isoformat(), "start": "00:00", "end": "00:01", "memo": "Chat queue",
            "channel": "chat"}


def path_for(app, rule, world: World) -> str:
    values = {}
    for name in rule.arguments:
        alias = ENDPOINT_IDS.get(rule.endpoint, {}).get(name)
        values[name] = world.ids[alias or name]
    with app.test_request_context():
        return app.url_map.bind("localhost").build(rule.endpoint, values)


class FormReader(HTMLParser):
    """The POST forms of a page: action -> {field name: default value}."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: dict[str, dict[str, str]] = {}
        self._form: dict[str, str] | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("method") or "get").lower() == "post":
            self._form = self.forms.setdefault(re.split(r"[?#]", a.get("action") or "")[0], {})
        elif self._form is None or not a.get("name"):
            return
        elif tag == "input" and a.get("type") not in ("submit", "button", "image"):
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a or a["name"] not in self._form:
                    self._form[a["name"]] = a.get("value", "y") if "checked" in a else self._form.get(a["name"], "")
            else:
                self._form[a["name"]] = a.get("value", "")
        elif tag == "select":
            self._select = a["name"]
            self._form.setdefault(a["name"], "")
        elif tag == "option" and self._select and ("selected" in a or not self._form[self._select]):
            self._form[self._select] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = a["name"]
            self._form[a["name"]] = ""

    def handle_data(self, data):
        if self._form is not None and self._textarea:
            self._form[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


class Fuzzer:
    def __init__(self, app, world: World):
        self.app, self.world = app, world
        self.clients = {role: app.test_client() for role in ROLES}
        self.failures: list[str] = []
        self.requests = 0
        self.written: set[str] = set()
        self.flashed: list[str] = []
        self.snapshot = {table.name: self._rows(table) for table in db.metadata.sorted_tables}
        event.listen(db.engine, "before_cursor_execute", self._saw_statement)
        message_flashed.connect(self._saw_flash, app)

    def close(self):
        event.remove(db.engine, "before_cursor_execute", self._saw_statement)
        message_flashed.disconnect(self._saw_flash, self.app)

    def _saw_flash(self, sender, message, category, **extra):
        self.flashed.append(category)

    def _saw_statement(self, conn, cursor, statement, parameters, context, executemany):
        match = WRITE.match(statement)
        if match:
            self.written.add(match.group(1))

    def sign_in(self, role: str) -> None:
        client = self.clients[role] = self.app.test_client()
        if role == "anonymous":
            return
        user = self.world.users[role]
        db.session.refresh(user)
        sign_in(client, user)
        if role == "operator":
            with client.session_transaction() as session:
                session[MFA_SESSION_KEY] = user.get_id()

    @staticmethod
    def _rows(table) -> set[tuple]:
        return {tuple(repr(value) for value in row) for row in db.session.execute(select(table))}

    def send(self, role: str, method: str, path: str, endpoint: str, what: str, **kwargs) -> None:
        client = self.clients[role]
        self.written, self.flashed = set(), []
        response = client.open(path, method=method, **kwargs)
        self.requests += 1
        if self.flashed:   # redirects aren't followed, so flashes would pile up in the session cookie
            with client.session_transaction() as session:
                session.pop("_flashes", None)
        label = f"{role} {method} {path[:80]} [{what}]"
        if response.status_code >= 500:
            self.failures.append(f"{label}: {response.status_code}")
        if not self.written:
            return
        tables = {t.name: t for t in db.metadata.sorted_tables}
        after = {name: self._rows(tables[name]) for name in self.written if name in tables}
        changed = {name for name, rows in after.items() if rows != self.snapshot[name]}
        refused = 400 <= response.status_code < 500 or (300 <= response.status_code < 400 and "danger" in self.flashed)
        if refused and endpoint in CREDENTIAL_CHECKS:
            changed -= CREDENTIAL_TABLES
        if refused and changed:
            self.failures.append(f"{label}: refused ({response.status_code}) but changed {sorted(changed)}")
        self.snapshot.update(after)


def bad(kind: str, name: str):
    """The value sent for `name` in the `kind` of attack (a list means the field repeats)."""
    if kind == FILE:
        return (io.BytesIO(b"not text"), f"{name}.txt")
    if kind == REPEATED:
        return ["1", "2"]
    return BAD_VALUES[kind]


def post_kwargs(data: dict) -> dict:
    multipart = any(isinstance(v, tuple) for v in data.values())
    return {"data": data, "content_type": "multipart/form-data" if multipart else None}


def discover_forms(fuzzer: Fuzzer, get_paths: list[tuple[str, str]]) -> dict[str, dict[str, str]]:
    """Every POST form any role is shown: action path -> field defaults."""
    forms: dict[str, dict[str, str]] = {}
    for role in ROLES:
        fuzzer.sign_in(role)
        for endpoint, path in get_paths:
            response = fuzzer.clients[role].get(path)
            if response.status_code != 200 or not response.mimetype == "text/html":
                continue
            reader = FormReader()
            reader.feed(response.get_data(as_text=True))
            for action, fields in reader.forms.items():
                for name, value in fields.items():
                    forms.setdefault(action or path, {}).setdefault(name, value)
    return forms


def field_shapes(names) -> list[str]:
    """One field of each shape: `skill_12`/`skill_13` or `required-0-skill`/`required-1-skill` are fuzzed once."""
    seen, picked = set(), []
    for name in names:
        shape = re.sub(r"\d+", "#", name)
        if shape not in seen:
            seen.add(shape)
            picked.append(name)
    return picked




def test_no_input_gives_a_5xx_and_refused_input_changes_nothing(app):
    world = build_world()
    fuzzer = Fuzzer(app, world)
    try:
        rules = sorted((r for r in app.url_map.iter_rules()
                        if r.endpoint not in SKIPPED_ENDPOINTS and not r.rule.startswith(API_PREFIX)),
                       key=lambda r: (r.endpoint in LAST, r.endpoint))
        paths = {r.endpoint: path_for(app, r, world) for r in rules}
        get_paths = [(r.endpoint, paths[r.endpoint]) for r in rules if "GET" in r.methods]
        forms = discover_forms(fuzzer, get_paths)

        for role in ROLES:
            fuzzer.sign_in(role)
            for rule in rules:
                endpoint, path = rule.endpoint, paths[rule.endpoint]
                owner = world.baselines.get(endpoint, (None,))[0] or owner_of(endpoint)
                if "GET" in rule.methods:
                    fuzz_query(fuzzer, role, endpoint, path, owner, world)
                if "POST" in rule.methods:
                    fields = dict(forms.get(path, {}))
                    fields.update(world.baselines.get(endpoint, (None, {}))[1])
                    fuzz_form(fuzzer, role, endpoint, path, owner, fields)
                if endpoint in LAST:
                    fuzzer.sign_in(role)
        print(f"fuzzed {len(rules)} routes with {fuzzer.requests} requests")
        assert fuzzer.requests > 3000
        assert not fuzzer.failures, "\n".join(fuzzer.failures[:60]) + f"\n({len(fuzzer.failures)} in all)"
    finally:
        fuzzer.close()


def fuzz_query(fuzzer: Fuzzer, role: str, endpoint: str, path: str, owner: str, world: World) -> None:
    names = QUERY_ARGS.get(endpoint)
    if names is None:   # a page that reads no arguments: they must not matter, whatever they hold
        for kind in ("digits", "long", "nul"):
            fuzzer.send(role, "GET", path, endpoint, f"all args {kind}",
                        query_string={n: bad(kind, n) for n in ALL_QUERY_ARGS})
        return
    kinds = without_files(ALL_KINDS if role == owner else OTHER_ROLE_KINDS)
    for kind in kinds:
        fuzzer.send(role, "GET", path, endpoint, f"all args {kind}", query_string={n: bad(kind, n) for n in names})
    if role != owner:
        return
    base = {"task_id": str(world.ids["task_id"]), "amount": "10"} if endpoint == "bidding.quote" else {}
    for name in names:
        for kind in without_files(field_kinds(name)):
            fuzzer.send(role, "GET", path, endpoint, f"{name}={kind}", query_string={**base, name: bad(kind, name)})


def fuzz_form(fuzzer: Fuzzer, role: str, endpoint: str, path: str, owner: str, fields: dict) -> None:
    names = list(fields) or ["note"]
    for kind in ALL_KINDS if role == owner else OTHER_ROLE_KINDS:
        fuzzer.send(role, "POST", path, endpoint, f"all fields {kind}",
                    **post_kwargs({n: bad(kind, n) for n in names}))
    if role != owner:
        return
    for name in field_shapes(names):
        for kind in field_kinds(name):
            fuzzer.send(role, "POST", path, endpoint, f"{name}={kind}",
                        **post_kwargs({**fields, name: bad(kind, name)}))


def owner_of(endpoint: str) -> str:
    """The role a route is for, when no baseline names it (by the blueprint that serves it)."""
    blueprint = endpoint.split(".")[0]
    if blueprint in ("moderation", "disputes", "metrics", "outbox"):
        return "operator"
    if blueprint in ("tasks", "web", "notifications", "messaging", "payments", "engagements", "api_tokens",
                     "webhooks"):
        return "business"
    if blueprint == "accounts" and endpoint not in ("accounts.settings", "accounts.logout"):
        return "anonymous"
    return "specialist"
