"""Hourly billing in the browser, on the sandbox gateway.

(1) A business hires on an hourly task with a 10 h weekly limit and is sent to save a card (a sandbox
test card); the specialist logs 12 h over the week; the week closes (`flask jobs run-due` with the
clock moved to Monday); 10 h are invoiced and charged to the card; after the review window (jobs run
again on Saturday) the specialist is paid.
(2) A business disputes one entry of a charged weekly invoice and an operator splits it, seeing the
disputed entry on the dispute page.

Each journey has a server of its own whose clock (FAKE_NOW) is pinned; the scheduled jobs run as the
command line would, with their own FAKE_NOW.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.e2e.conftest import REPO_ROOT, STARTUP_TIMEOUT, _free_port, _healthy, _server_env, _stop

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (make install-dev)")
expect = sync_api.expect
pyotp = pytest.importorskip("pyotp")

pytestmark = pytest.mark.e2e

_HIRING_WORLD = """
import json
from marketplace import create_app
from marketplace.bidding.models import Bid
from marketplace.extensions import db
from marketplace.payments import services as payments
from tests import factories

app = create_app()
with app.app_context():
    business = factories.create_business(email="weekly-business@example.com", full_name="Hana Okafor")
    specialist = factories.create_freelancer(email="weekly-specialist@example.com", full_name="Diego Ramos")
    payments.sandbox_connect(specialist)
    task = factories.create_task(business, title="Spanish chat coverage by the hour", pricing="hourly",
                                 budget=None, max_rate=3000, estimated_hours=10)
    bid = Bid(task_id=task.id, freelancer_id=specialist.id, amount=3000, estimated_hours=10,
              cover_note="Native Spanish, five years of chat support.")
    db.session.add(bid)
    db.session.commit()
    print(json.dumps({"task": task.id}))
"""

_DISPUTE_WORLD = """
import json, sys
from datetime import datetime, timedelta
import pyotp
from marketplace import create_app
from marketplace.bidding.models import Bid
from marketplace.core.time import utcnow
from marketplace.engagements.hiring import hire
from marketplace.extensions import db
from marketplace.invoicing.charging import charge_due_invoices
from marketplace.invoicing.closing import close_due_weeks
from marketplace.payments import saved_methods, services as payments
from marketplace.timesheets.models import TimeEntry
from tests import factories

monday = datetime.fromisoformat(sys.argv[1])       # the last finished week starts here
app = create_app()
with app.app_context():
    business = factories.create_business(email="dispute-business@example.com", full_name="Bea Lindqvist")
    specialist = factories.create_freelancer(email="dispute-specialist@example.com", full_name="Luis Garcia")
    operator = factories.create_operator(email="dispute-operator@example.com", full_name="Olu Operator")
    secret = pyotp.random_base32()
    operator.totp_secret, operator.totp_enabled_at = secret, utcnow()
    payments.sandbox_connect(specialist)
    saved_methods.save_sandbox_card(business, "succeeds")
    task = factories.create_task(business, title="Weekend email coverage by the hour", pricing="hourly",
                                 budget=None, max_rate=4000, estimated_hours=20)
    bid = Bid(task_id=task.id, freelancer_id=specialist.id, amount=4000, estimated_hours=20, cover_note="Happy to.")
    db.session.add(bid)
    db.session.flush()
    contract = hire(business, bid)
    contract.created_at = monday - timedelta(days=3)
    for day, hours, memo in [(0, 4, "Email backlog: 40 tickets"), (2, 3, "Refund requests"),
                             (4, 5, "Weekend prep, macros")]:
        start = monday + timedelta(days=day, hours=9)
        db.session.add(TimeEntry(contract_id=contract.id, started_at=start, ended_at=start + timedelta(hours=hours),
                                 week_start=monday, minutes=hours * 60, memo=memo, channel="email"))
    db.session.commit()
    close_due_weeks(monday + timedelta(days=7, hours=1))
    db.session.commit()
    charge_due_invoices(monday + timedelta(days=7, hours=1))
    db.session.commit()
    print(json.dumps({"contract": contract.id, "secret": secret}))
"""


def _this_monday(now: datetime) -> datetime:
    return (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)


def _start_server(tmp: Path, fake_now: datetime, setup: str, *args: str):
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = _server_env(tmp, base_url)
    env["FAKE_NOW"] = fake_now.isoformat()
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    for command in (flask + ["db", "upgrade"], flask + ["seed-skills"], [sys.executable, "-c", setup, *args]):
        result = subprocess.run(command, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                                text=True, timeout=120)
        assert result.returncode == 0, result.stderr[-2000:]
    world = json.loads(result.stdout.strip().splitlines()[-1])
    log_path = Path(tmp / "server.log")
    log = open(log_path, "wb")
    process = subprocess.Popen(flask + ["run", "--host", "127.0.0.1", "--port", str(port), "--no-reload"],
                               cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not _healthy(f"{base_url}/healthz"):
        assert process.poll() is None, log_path.read_text()
        assert time.monotonic() < deadline, log_path.read_text()
        time.sleep(0.2)
    return process, log, {"base": base_url, "env": env, **world}


def _flask(env: dict, *args: str, fake_now: datetime | None = None) -> str:
    env = dict(env)
    if fake_now is not None:
        env["FAKE_NOW"] = fake_now.isoformat()
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=REPO_ROOT, env=env,
                            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return result.stdout


@pytest.fixture(scope="module")
def weekly_server(tmp_path_factory):
    # The clock: Sunday 22:00 UTC of next week, so the hire (made now) precedes the whole week.
    week = _this_monday(datetime.now(timezone.utc)) + timedelta(days=7)
    process, log, world = _start_server(tmp_path_factory.mktemp("e2e-weekly"), week + timedelta(days=6, hours=22),
                                        _HIRING_WORLD)
    try:
        yield {**world, "week": week}
    finally:
        _stop(process)
        log.close()


@pytest.fixture(scope="module")
def dispute_server(tmp_path_factory):
    # The clock: Wednesday noon, inside the review window of last week's invoice.
    this_monday = _this_monday(datetime.now(timezone.utc)) + timedelta(days=7)
    last_monday = this_monday - timedelta(days=7)
    process, log, world = _start_server(tmp_path_factory.mktemp("e2e-time-dispute"),
                                        this_monday + timedelta(days=2, hours=12), _DISPUTE_WORLD,
                                        last_monday.isoformat())
    try:
        yield {**world, "week": last_monday}
    finally:
        _stop(process)
        log.close()


def _log_in(page, base: str, email: str) -> None:
    from tests.factories import PASSWORD
    page.goto(f"{base}/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Log in").click()
    expect(page).not_to_have_url(re.compile(r"/login"))


def _log(page, day: datetime, start: str, end: str, memo: str) -> None:
    form = page.locator("#log-time")
    form.locator("#day").fill(day.date().isoformat())
    form.locator("#start").fill(start)
    form.locator("#end").fill(end)
    form.locator("#channel").select_option("chat")
    form.locator("#memo").fill(memo)
    form.get_by_role("button", name="Save entry").click()
    expect(page.locator("main .alert").first).to_contain_text("Logged 4:00 h.")


def test_hire_by_the_hour_save_a_card_log_a_week_invoice_charge_and_pay(new_page, weekly_server):
    base, week = weekly_server["base"], weekly_server["week"]

    business = new_page()
    _log_in(business, base, "weekly-business@example.com")
    business.goto(f"{base}/tasks/{weekly_server['task']}")
    business.locator("#proposals").get_by_role("link", name="Accept and hire…").click()
    # The confirmation step names the hourly terms before anything happens.
    step = business.get_by_test_id("confirm-step")
    expect(step).to_contain_text("$30.00/h, up to 10 h a week")
    expect(step).to_contain_text("Nothing is charged now")
    step.get_by_role("button", name="Accept and hire").click()
    # No card on file yet: hiring sends the business to save one (sandbox test card).
    expect(business.get_by_role("heading", name="Billing")).to_be_visible()
    business.get_by_test_id("saved-card").get_by_role("button", name="Save a card").click()
    business.get_by_role("button", name="Save a test card").click()
    expect(business.get_by_test_id("saved-card")).to_contain_text("Visa ending 4242")

    specialist = new_page()
    _log_in(specialist, base, "weekly-specialist@example.com")
    specialist.goto(f"{base}/dashboard")
    specialist.locator("#this-week").get_by_role("link", name=re.compile("Log time")).click()
    _log(specialist, week, "09:00", "13:00", "Chat queue: 31 tickets")
    _log(specialist, week + timedelta(days=1), "09:00", "13:00", "Chat queue: 27 tickets")
    _log(specialist, week + timedelta(days=3), "09:00", "13:00", "Outage day: status updates")
    expect(specialist.locator("[data-testid=logged]")).to_have_text("12:00 h")
    expect(specialist.locator("[data-testid=billable]")).to_have_text("10:00 h")
    contract_url = specialist.locator("#contract-page-link").get_attribute("href")

    # Monday 01:00: the week closes and is charged to the saved card.
    out = _flask(weekly_server["env"], "jobs", "run-due", fake_now=week + timedelta(days=7, hours=1))
    assert "charge invoices: 1" in out          # the hire week had no time: closed with nothing to bill

    business.goto(f"{base}{contract_url}")
    row = business.locator("#invoices .invoice-row").first
    expect(row).to_have_attribute("data-status", "in_review")
    expect(row).to_contain_text("10:00")
    expect(row).to_contain_text("$300.00")
    expect(row).to_contain_text("+2:00 over")
    row.get_by_role("link", name="Open").click()
    expect(business.locator("#invoice-billed")).to_contain_text("10:00 h x $30.00/h = $300.00")
    expect(business.locator("#review-window")).to_contain_text("You can dispute entries until")
    # The 2 h over the limit are offered as a bonus, amount prefilled.
    business.locator("#pay-over-limit").click()
    expect(business.locator("#bonus-amount")).to_have_value("60.00")

    # Saturday 00:01: nobody disputed, so the money is released to the specialist (minus the fee).
    out = _flask(weekly_server["env"], "jobs", "run-due", fake_now=week + timedelta(days=12, minutes=1))
    assert "auto-approve deliveries: 1" in out
    specialist.goto(f"{base}{contract_url}")
    expect(specialist.locator("#invoices .invoice-row").first).to_have_attribute("data-status", "paid")
    specialist.goto(f"{base}/earnings")
    expect(specialist.locator("main")).to_contain_text("$270.00")
    assert "ledger check: OK" in _flask(weekly_server["env"], "ledger", "check")

    # The bonus form sent twice (a double click whose first request is already on its way) pays one bonus:
    # the form's one-time key makes the second submit show the bonus the first one added.
    business.goto(f"{base}{contract_url}")
    business.locator("#bonuses summary").click()
    business.locator("#bonus-title").fill("Outage day")
    business.locator("#bonus-amount").fill("25.00")
    form = business.locator("#bonuses form")
    action = base + form.get_attribute("action")
    fields = {field.get_attribute("name"): field.get_attribute("value") or ""
              for field in form.locator("input[type=hidden]").all()}
    fields.update({"title": "Outage day", "amount": "25.00"})
    business.get_by_role("button", name="Pay bonus").click()
    expect(business.locator(".alert-success")).to_contain_text("Bonus paid with your saved card")
    again = business.request.post(action, form=fields)       # the same form, sent again with the same cookies
    assert again.ok and "Nothing more was charged" in again.text()
    business.goto(f"{base}{contract_url}")
    expect(business.locator("#bonuses .bonus")).to_have_count(1)
    expect(business.locator("#bonuses .bonus").first).to_have_attribute("data-status", "completed")
    assert "ledger check: OK" in _flask(weekly_server["env"], "ledger", "check")


def test_business_disputes_one_entry_and_an_operator_splits_it(new_page, dispute_server):
    base = dispute_server["base"]
    business = new_page()
    _log_in(business, base, "dispute-business@example.com")
    business.goto(f"{base}/contracts/{dispute_server['contract']}")
    row = business.locator("#invoices .invoice-row").first
    expect(row).to_have_attribute("data-status", "in_review")
    expect(row).to_contain_text("$480.00")                       # 12 h x $40.00
    row.get_by_role("link", name="Open").click()
    form = business.locator("#dispute-entries")
    form.get_by_label(re.compile("Refund requests")).check()
    form.locator("#dispute-reason").fill("The refund requests were handled by our own team that day.")
    form.get_by_role("button", name="Dispute these entries").click()
    expect(business.locator("main .alert").first).to_contain_text("Dispute opened")

    operator = new_page()
    _log_in(operator, base, "dispute-operator@example.com")
    operator.goto(f"{base}/moderation/disputes")
    expect(operator).to_have_url(re.compile(r"/moderation/2fa"))
    operator.locator("#code").fill(pyotp.TOTP(dispute_server["secret"]).now())
    operator.get_by_role("button", name="Verify").click()
    disputes = operator.locator("#open-disputes")
    expect(disputes).to_contain_text("time dispute")
    expect(disputes).to_contain_text("Refund requests")
    disputes.get_by_role("link", name=re.compile("Weekend email coverage")).click()
    disputed = operator.locator("#disputed-entries tr[data-disputed=yes]")
    expect(disputed).to_have_count(1)
    expect(disputed).to_contain_text("Refund requests")
    expect(disputed).to_contain_text("$120.00")
    expect(operator.locator("#held-amount")).to_have_text("$480.00")
    operator.locator("#refund").fill("120")
    operator.locator("#release").fill("360")
    operator.locator("#note").fill("The refund requests were not worked by the specialist.")
    operator.locator("#confirm").check()       # the decision is final: the operator confirms the split
    operator.get_by_role("button", name="Resolve dispute").click()
    expect(operator.locator("main .alert").first).to_contain_text("Dispute resolved")

    business.goto(f"{base}/contracts/{dispute_server['contract']}")
    expect(business.locator("#invoices .invoice-row").first).to_have_attribute("data-status", "resolved")
    assert "ledger check: OK" in _flask(dispute_server["env"], "ledger", "check")
