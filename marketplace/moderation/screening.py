"""The risk screen: every published task, every bid and every message passes through it.

`screen_task(task)`, `screen_bid(bid)` and `screen_message(body)` return the
list of findings (empty when the item is clean), each a sentence an operator
can act on. A non-empty list holds the item for review (moderation/holds.py);
the findings become the case's reasons, one per line. The screen is pure: it
only reads (whether a business has had a task approved before).

The rules are a table (`RULES`), each a named function of the item's text
(and, for tasks, the task) returning its findings:

- contact_details: email addresses (also "x at y dot com", "x(at)y.com"),
  phone numbers (international "+44 20 7946 0958" / "0049 30 1234567",
  "(415) 555-0134", "415.555.0134", ...) and messaging handles ("WhatsApp me",
  "telegram @foo", "skype: foo"). Dates, times, prices, ranges ("9-17"),
  years and short ids are blanked out before phone numbers are looked for;
  a run of digits counts as a phone number when it has an international
  prefix, 10+ digits, a "555-0134"-style grouping, or a phone word ("call",
  "text", "mobile", ...) just before it.
- off_platform_payment: payment intent towards the author ("pay me via
  PayPal", "send the money to", "Venmo me", "I accept bitcoin", "outside the
  platform" near a payment word, "avoid the fee"). Merely naming a payment
  service ("the customer's PayPal refund issue") is not a finding.
- prohibited_content: `MODERATION_PROHIBITED_TERMS`, whole words, any case.
- unknown_links: URLs and bare domains whose host is not
  `MODERATION_ALLOWED_LINK_DOMAINS` (or a subdomain of one) nor the host of
  `PUBLIC_BASE_URL`. Email addresses are contact details, not links.
- low_budget (tasks): the task form already refuses totals below
  `PLATFORM_MIN_BUDGET`, so the screen looks for budgets far below what the
  work is worth: an hourly maximum rate under `MODERATION_MIN_HOURLY_RATE`
  (default 8.00/h) or a fixed budget under `MODERATION_MIN_FIXED_BUDGET`
  (default 50.00). Both in minor units.
- first_task (tasks): a business none of whose tasks was ever approved and
  published waits for a first review ("First task from this business").
- flagged_business (tasks): a business with open reports against it (on any
  of its items), reports upheld in the last `FLAGGED_WINDOW_DAYS` days, or an
  operator's warning or suspension in that time ("Reports or warnings
  against this business").
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import and_, func, or_, select

from marketplace.core.money import format_money
from marketplace.extensions import db

FIRST_TASK_REASON = "First task from this business"
FLAGGED_BUSINESS_REASON = "Reports or warnings against this business"
FLAGGED_WINDOW_DAYS = 90
QUOTE_MAX = 60
# Only this much of an item's text is screened: well above the longest field (a task's 8,000-character
# description plus its title), so the screen's cost stays bounded whatever reaches it.
SCAN_MAX = 20_000

# What the author is told while an item waits (deliberately general: which rule fired is for operators).
AUTHOR_NOTICE = {
    "task": "Your task is waiting for a quick review by our team.",
    "bid": "Your proposal is under review.",
    "message": "Held for review.",
}
AUTHOR_CHECKS = ("new businesses' first tasks", "contact details or payment outside the platform",
                 "links to other sites", "prohibited work", "unusually low budgets",
                 "businesses with recent reports or warnings")


def _quote(text: str) -> str:
    flat = " ".join(text.split())
    return f"“{flat if len(flat) <= QUOTE_MAX else flat[:QUOTE_MAX - 1] + '…'}”"


def _dedupe(items: list[str]) -> list[str]:
    seen: list[str] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


# --- contact details -----------------------------------------------------------------------

# Linear-time patterns: a run of name characters is only tried from its start ((?<!...)) and taken whole
# (possessive ++), so "a.a.a.a..." with no "@" can't make the engine rescan the run from every position.
EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]++@[\w-]++(?:\.[\w-]++)*\.[a-z]{2,}\b", re.I)
_AT = r"(?:\s*[\(\[\{<]\s*at\s*[\)\]\}>]\s*|\s+at\s+)"
_DOT = r"(?:\s*[\(\[\{<]\s*dot\s*[\)\]\}>]\s*|\s+dot\s+)"
OBFUSCATED_EMAIL = re.compile(
    # The name starts at its first word character; leading ".+-" are matched (then stripped) so the run
    # is only tried from its start.
    rf"(?<![\w.+-])[.+-]*+\b[\w.+-]++"
    rf"(?:{_AT}[\w-]++(?:{_DOT}[\w-]++)*{_DOT}[a-z]{{2,}}\b"                   # x at y dot com, x (at) y (dot) com
    rf"|\s*[\(\[\{{<]\s*at\s*[\)\]\}}>]\s*[\w-]++(?:\.[\w-]++)*\.[a-z]{{2,}}\b)",  # x(at)y.com
    re.I)

MESSAGING_APPS = (r"whats\s?app|telegram|signal|viber|we\s?chat|skype|discord|kik|snapchat|imessage|"
                  r"line\s+id|facebook\s+messenger|messenger|insta(?:gram)?\s+dm")
HANDLE = re.compile(
    rf"\b(?:{MESSAGING_APPS})\b(?:\s+(?:me|us)\b|\s*[:=]\s*@?[\w.\-]{{2,}}|\s+@[\w.\-]{{2,}}"
    rf"|\s+(?:id|handle|username|user\s*name|number|account)\b)"
    rf"|\b(?:contact|reach|message|text|call|add|ping|dm|find|write\s+to|chat\s+with|talk\s+to)\s+(?:me|us)\s+"
    rf"(?:on|via|over|through|at|in)\s+(?:{MESSAGING_APPS})\b"
    rf"|\b(?:my|our)\s+(?:{MESSAGING_APPS})\b",
    re.I)

# Blanked out before phone numbers are looked for.
_NOT_PHONES = [
    re.compile(r"https?://\S+|www\.\S+", re.I),
    EMAIL,
    re.compile(r"\b\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\b"),                  # 2026-12-01
    re.compile(r"\b\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}\b"),                # 01.12.2026, 12/01/26
    re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?\b"),                       # 09:30
    re.compile(r"[$€£¥]\s?\d[\d,.]*"),                                 # $1,200.50
    re.compile(r"(?<![\w,.])\d[\d,.]*+\s?(?:usd|eur|gbp|dollars?|euros?|k)\b", re.I),
    re.compile(r"\b\d++(?:st|nd|rd|th|%|h|hrs?|x)\b", re.I),
]
PHONE_CANDIDATE = re.compile(r"(?:\+|(?<![\w.,]))\(?\d[\d ().\-\u2010-\u2013]{5,}\d(?![\w%])")
PHONE_WORDS = re.compile(r"\b(?:call|phone|tel|telephone|text|sms|mobile|cell|ring|whats\s?app|number|"
                         r"contact)\b\W{0,3}(?:\w+\W+){0,2}$", re.I)
ID_WORDS = re.compile(r"(?:#|\b(?:order|ticket|invoice|case|ref|reference|id|no|nr|number|sku|account)\b)\W{0,3}$",
                      re.I)
NANP_GROUPING = re.compile(r"\d{3}[ .\-]\d{4}$")


def _looks_like_phone(candidate: str, before: str) -> bool:
    digits = re.sub(r"\D", "", candidate)
    if not 7 <= len(digits) <= 15:
        return False
    groups = re.findall(r"\d+", candidate)
    if all(len(g) == 4 and g[:2] in ("19", "20") for g in groups):
        return False   # years: "2025 2026"
    if candidate.startswith("+") or candidate.startswith("00"):
        return True
    if ID_WORDS.search(before) and "(" not in candidate:
        return False   # "order #12345678"
    if "(" in candidate or len(digits) >= 10:
        return True
    if len(groups) > 1 and NANP_GROUPING.search(candidate):
        return True    # "555-0134", "555 0134"
    return bool(PHONE_WORDS.search(before))


def _phones(text: str) -> list[str]:
    for pattern in _NOT_PHONES:
        text = pattern.sub(lambda m: " " * len(m.group(0)), text)
    found = []
    for match in PHONE_CANDIDATE.finditer(text):
        candidate = match.group(0).strip(" .-")
        if "  " in candidate:
            candidate = candidate.split("  ")[0]
        if _looks_like_phone(candidate, text[max(0, match.start() - 40):match.start()]):
            found.append(candidate)
    return found


def contact_details(text: str, **_) -> list[str]:
    reasons = []
    emails = EMAIL.findall(text) + [m.group(0).lstrip(".+-") for m in OBFUSCATED_EMAIL.finditer(text)]
    if emails:
        reasons.append(f"Contact details: email address {_quote(emails[0])}")
    phones = _phones(text)
    if phones:
        reasons.append(f"Contact details: phone number {_quote(phones[0])}")
    handle = HANDLE.search(text)
    if handle:
        reasons.append(f"Contact details: messaging handle {_quote(handle.group(0))}")
    return reasons


# --- off-platform payment ----------------------------------------------------------------

PAYMENT_METHODS = (r"pay\s?pal|venmo|zelle|cash\s?app|wise|transferwise|western\s+union|money\s?gram|revolut|"
                   r"payoneer|skrill|crypto(?:currency)?|usdt|usdc|tether|bitcoin|btc|ethereum|eth|"
                   r"bank\s+transfer|wire\s+transfer|wire|direct\s+deposit|iban|gift\s+cards?|cash")
_PAYMENT_WORDS = r"pay|paid|paying|payment|payments|money|funds|invoice|deal|transaction|fee|fees|commission"
OFF_PLATFORM_PAYMENT = [
    # pay me/us (directly) via/on/through <method>; pay me directly / outside
    re.compile(rf"\bpay\s+(?:me|us)\b(?:\s+\w+){{0,3}}?\s+(?:via|on|through|by|with|using|over|in|to)\s+"
               rf"(?:my\s+|our\s+|a\s+)?(?:{PAYMENT_METHODS})\b", re.I),
    re.compile(r"\bpay\s+(?:me|us)\s+(?:directly|direct|outside|off[\s-]platform|privately|in\s+cash)\b", re.I),
    # send (the) money/payment to
    re.compile(r"\bsend\s+(?:the\s+|your\s+)?(?:money|payment|funds|cash)\s+(?:directly\s+)?to\b", re.I),
    # "<method> me", "PayPal us"
    re.compile(rf"\b(?:{PAYMENT_METHODS})\s+(?:me|us)\b(?!\s+(?:on|through)\s+the\s+platform)", re.I),
    # I accept / prefer / take PayPal, payment in bitcoin, paid in USDT
    re.compile(rf"\b(?:i|we)\s+(?:only\s+|also\s+)?(?:accept|take|prefer|want|need)\s+(?:payments?\s+)?"
               rf"(?:in\s+|via\s+|by\s+|through\s+|on\s+)?(?:{PAYMENT_METHODS})\b", re.I),
    re.compile(r"\b(?:payment|paid|pay)\s+(?:\w+\s+){0,2}(?:in|with|via|using)\s+"
               r"(?:crypto(?:currency)?|usdt|usdc|tether|bitcoin|btc|ethereum|eth)\b", re.I),
    # my PayPal is / my bank details
    re.compile(rf"\b(?:my|our)\s+(?:{PAYMENT_METHODS})\s*(?:is|account|address|email|id|handle|details|info|:)",
               re.I),
    re.compile(r"\b(?:bank|wire)\s+transfer\s+(?:outside|directly|off)\b", re.I),
    # outside (of) the platform, near a payment word
    re.compile(rf"\b(?:{_PAYMENT_WORDS})\b[^.!?\n]{{0,40}}\b(?:outside|off)\s+(?:of\s+)?(?:the\s+|this\s+)?"
               r"(?:platform|site|website|marketplace|app)\b", re.I),
    re.compile(rf"\b(?:outside|off)\s+(?:of\s+)?(?:the\s+|this\s+)?(?:platform|site|website|marketplace|app)\b"
               rf"[^.!?\n]{{0,40}}\b(?:{_PAYMENT_WORDS})\b", re.I),
    # avoid/skip the (platform) fee
    re.compile(r"\b(?:avoid|skip|bypass|dodge|circumvent|save\s+(?:on\s+)?|get\s+around|cut\s+out)\s*"
               r"(?:the\s+|their\s+|your\s+)?(?:platform'?s?\s+|site'?s?\s+|service\s+|marketplace\s+|extra\s+)?"
               r"(?:fees?|commission|cut)\b", re.I),
]


def off_platform_payment(text: str, **_) -> list[str]:
    for pattern in OFF_PLATFORM_PAYMENT:
        match = pattern.search(text)
        if match:
            return [f"Off-platform payment: {_quote(match.group(0))}"]
    return []


# --- prohibited content ------------------------------------------------------------------

def _term_pattern(term: str) -> re.Pattern:
    words = [re.escape(w) for w in term.split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", re.I)


def prohibited_content(text: str, **_) -> list[str]:
    found = [term for term in current_app.config["MODERATION_PROHIBITED_TERMS"]
             if term.strip() and _term_pattern(term.strip()).search(text)]
    return [f"Prohibited content: “{term}”" for term in found]


# --- links -------------------------------------------------------------------------------

URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"'()\[\]{}]+", re.I)
# Bare domains: a lower-case known top-level domain, so "ASP.NET" or "Node.js" don't count.
BARE_DOMAIN = re.compile(r"(?<![\w@.\-/])(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+"
                         r"(?:com|net|org|io|co|me|info|biz|app|dev|xyz|ru|cn|tk|top|ly|gl|gg|us|uk|de|fr|es|it|"
                         r"nl|ca|au|in|br|so|ai|to|link|site|online|shop|store|club|cc|ws|su|pw|live|click)"
                         r"(?![\w\-@])(?:/[^\s<>\"'()]*)?")


def _host(link: str) -> str:
    if not re.match(r"https?://", link, re.I):
        link = "http://" + link
    try:
        host = urlsplit(link).hostname or ""
    except ValueError:
        return ""
    host = host.lower().rstrip(".")
    return host[4:] if host.startswith("www.") else host


def allowed_domains() -> list[str]:
    cfg = current_app.config
    domains = [d.lower().strip().lstrip(".") for d in cfg["MODERATION_ALLOWED_LINK_DOMAINS"] if d.strip()]
    own = _host(cfg.get("PUBLIC_BASE_URL") or "")
    return domains + ([own] if own else [])


def _allowed(host: str, domains: list[str]) -> bool:
    return any(host == d or host.endswith("." + d) for d in domains)


def unknown_links(text: str, **_) -> list[str]:
    without_emails = OBFUSCATED_EMAIL.sub(" ", EMAIL.sub(" ", text))
    domains = allowed_domains()
    unknown: dict[str, None] = {}   # ordered and O(1) membership: a text can name thousands of hosts
    for link in URL.findall(without_emails) + [m.group(0) for m in BARE_DOMAIN.finditer(URL.sub(" ", without_emails))]:
        host = _host(link.rstrip(".,;:!?"))
        if host and host not in unknown and not _allowed(host, domains):
            unknown[host] = None
    return [f"Link to an unknown site: {host}" for host in unknown]


# --- task-only rules ---------------------------------------------------------------------

def low_budget(text: str, task=None, **_) -> list[str]:
    if task is None:
        return []
    cfg = current_app.config
    pricing = getattr(task.pricing, "value", task.pricing)
    if pricing == "hourly":
        floor = cfg["MODERATION_MIN_HOURLY_RATE"]
        if task.max_rate is not None and task.max_rate < floor:
            return [f"Budget far below typical: {format_money(task.max_rate, task.currency)} per hour "
                    f"(under {format_money(floor, task.currency)})"]
    else:
        floor = cfg["MODERATION_MIN_FIXED_BUDGET"]
        if task.budget is not None and task.budget < floor:
            return [f"Budget far below typical: {format_money(task.budget, task.currency)} fixed "
                    f"(under {format_money(floor, task.currency)})"]
    return []


def has_approved_task(business_id: int) -> bool:
    """Whether any task of this business was ever published and approved (not counting drafts)."""
    from marketplace.moderation.models import ModerationCase
    from marketplace.tasks.models import ModerationStatus, Task, TaskStatus
    published = db.session.scalar(
        select(Task.id).where(Task.business_id == business_id, Task.published_at.is_not(None),
                              Task.status.not_in((TaskStatus.DRAFT, TaskStatus.REMOVED)),
                              Task.moderation_status == ModerationStatus.APPROVED).limit(1))
    if published is not None:
        return True
    return db.session.scalar(select(ModerationCase.id).where(ModerationCase.target_type == "task",
                                                             ModerationCase.owner_id == business_id,
                                                             ModerationCase.status == "approved").limit(1)) is not None


def first_task(text: str, task=None, **_) -> list[str]:
    if task is None or not current_app.config["MODERATION_FIRST_TASK_REVIEW"]:
        return []
    return [] if has_approved_task(task.business_id) else [FIRST_TASK_REASON]


def is_flagged_business(business_id: int) -> bool:
    """Open reports on the business's items, or reports upheld / a warning or suspension in the window."""
    from datetime import timedelta

    from marketplace.core.time import utcnow
    from marketplace.moderation.models import AuditEntry, Flag
    since = utcnow() - timedelta(days=FLAGGED_WINDOW_DAYS)
    reported = db.session.scalar(
        select(Flag.id).where(Flag.target_owner_id == business_id,
                              or_(Flag.status == "open",
                                  and_(Flag.status == "upheld",
                                       func.coalesce(Flag.handled_at, Flag.created_at) >= since))).limit(1))
    if reported is not None:
        return True
    return db.session.scalar(select(AuditEntry.id).where(AuditEntry.subject_user_id == business_id,
                                                         AuditEntry.action.in_(("warn", "suspend")),
                                                         AuditEntry.created_at >= since).limit(1)) is not None


def flagged_business(text: str, task=None, **_) -> list[str]:
    if task is None:
        return []
    return [FLAGGED_BUSINESS_REASON] if is_flagged_business(task.business_id) else []


# --- the table -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    name: str
    applies_to: tuple[str, ...]
    check: Callable[..., list[str]]
    description: str


RULES: tuple[Rule, ...] = (
    Rule("contact_details", ("task", "bid", "message"), contact_details,
         "Email addresses, phone numbers or messaging handles"),
    Rule("off_platform_payment", ("task", "bid", "message"), off_platform_payment,
         "Asks to pay or be paid outside the platform"),
    Rule("prohibited_content", ("task", "bid", "message"), prohibited_content,
         "Terms from the prohibited list (MODERATION_PROHIBITED_TERMS)"),
    Rule("unknown_links", ("task", "bid", "message"), unknown_links,
         "Links to sites outside MODERATION_ALLOWED_LINK_DOMAINS"),
    Rule("low_budget", ("task",), low_budget, "Budgets far below typical for the work"),
    Rule("first_task", ("task",), first_task, "A business's first task"),
    Rule("flagged_business", ("task",), flagged_business,
         "A business with open or recently upheld reports, or a recent warning or suspension"),
)


def _screen(kind: str, text: str, **context) -> list[str]:
    text = text[:SCAN_MAX]
    reasons: list[str] = []
    for rule in RULES:
        if kind in rule.applies_to:
            reasons.extend(rule.check(text, **context))
    return _dedupe(reasons)


def screen_text(text: str, kind: str = "message") -> list[str]:
    return _screen(kind, text or "")


def screen_task(task) -> list[str]:
    text = f"{task.title or ''}\n{task.description or ''}"
    return _screen("task", text, task=task)


def screen_bid(bid) -> list[str]:
    text = f"{bid.cover_note or ''}\n{bid.availability_note or ''}"
    return _screen("bid", text, bid=bid)


def screen_message(body: str) -> list[str]:
    return _screen("message", body or "")
