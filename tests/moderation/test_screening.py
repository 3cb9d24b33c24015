"""The risk screen's rules, one table of examples each: what must be caught and what must pass."""
from __future__ import annotations

import pytest

from marketplace.moderation import screening
from marketplace.moderation.screening import FIRST_TASK_REASON, screen_bid, screen_message, screen_task
from marketplace.tasks.models import ModerationStatus, Pricing, TaskStatus
from tests import factories

EMAIL = "Contact details: email address"
PHONE = "Contact details: phone number"
HANDLE = "Contact details: messaging handle"
PAYMENT = "Off-platform payment"
PROHIBITED = "Prohibited content"
LINK = "Link to an unknown site"


def _kinds(reasons: list[str]) -> set[str]:
    kinds = set()
    for reason in reasons:
        for kind in (EMAIL, PHONE, HANDLE, PAYMENT, PROHIBITED, LINK):
            if reason.startswith(kind):
                kinds.add(kind)
    return kinds


CAUGHT = [
    # contact details: email addresses, plain and obfuscated
    ("email me at x@y.com", EMAIL, "“x@y.com”"),
    ("Reach me: Jane.Doe+work@mail.co.uk for the details", EMAIL, "“Jane.Doe+work@mail.co.uk”"),
    ("write to john at gmail dot com", EMAIL, "“john at gmail dot com”"),
    ("john(at)gmail.com", EMAIL, "“john(at)gmail.com”"),
    ("mail: anna [at] proton [dot] me", EMAIL, "“anna [at] proton [dot] me”"),
    # phone numbers in several formats
    ("call +1 415 555 0134 tonight", PHONE, "“+1 415 555 0134”"),
    ("(415) 555-0134 anytime", PHONE, "“(415) 555-0134”"),
    ("my cell 415.555.0134", PHONE, "“415.555.0134”"),
    ("London office +44 20 7946 0958", PHONE, "“+44 20 7946 0958”"),
    ("Berlin: 0049 30 1234567", PHONE, "“0049 30 1234567”"),
    ("call me on 020 7946 0958", PHONE, "“020 7946 0958”"),
    ("ring 4155550134 after six", PHONE, "“4155550134”"),
    ("my number is 5550134", PHONE, "“5550134”"),
    ("text me at 555-0134", PHONE, "“555-0134”"),
    # messaging handles
    ("WhatsApp me when you're free", HANDLE, "“WhatsApp me”"),
    ("telegram @foo_support is fastest", HANDLE, "“telegram @foo_support”"),
    ("skype: foo.bar", HANDLE, "“skype: foo.bar”"),
    ("Let's talk, add me on Discord", HANDLE, "“add me on Discord”"),
    ("my WhatsApp is the same as before", HANDLE, "“my WhatsApp”"),
    # off-platform payment
    ("pay me on PayPal directly", PAYMENT, "“pay me on PayPal”"),
    ("You can pay us through Wise to save time", PAYMENT, "“pay us through Wise”"),
    ("Venmo me the rest after the first week", PAYMENT, "“Venmo me”"),
    ("Happy to take a wire transfer outside the platform", PAYMENT, "“wire transfer outside”"),
    ("bank transfer outside of Human Touch works for me", PAYMENT, "“bank transfer outside”"),
    ("I accept USDT only", PAYMENT, "“I accept USDT”"),
    ("I'd like payment in bitcoin please", PAYMENT, "“payment in bitcoin”"),
    ("let's pay outside the platform", PAYMENT, "“pay outside the platform”"),
    ("We can avoid the fee if we settle it privately", PAYMENT, "“avoid the fee”"),
    ("skip the platform fee and we both win", PAYMENT, "“skip the platform fee”"),
    ("send the money to my account instead", PAYMENT, "“send the money to”"),
    ("my PayPal is the usual one", PAYMENT, "“my PayPal is”"),
    # prohibited content (the default list)
    ("We need someone to write reviews for our app", PROHIBITED, "“write reviews for”"),
    ("Post FAKE REVIEWS on our store page", PROHIBITED, "“fake reviews”"),
    ("Help us buy followers for the launch", PROHIBITED, "“buy followers”"),
    ("Collect credit card numbers over the phone", PROHIBITED, "“credit card numbers”"),
    ("Ask each caller for their social security number", PROHIBITED, "“social security number”"),
    ("Show customers how to bypass   verification", PROHIBITED, "“bypass verification”"),
    # links to unknown domains
    ("check https://evil.example.ru/x?ref=1", LINK, "evil.example.ru"),
    ("see www.cheap-leads.biz for details", LINK, "cheap-leads.biz"),
    ("our price list is at myshop.xyz/prices", LINK, "myshop.xyz"),
    ("Details: http://bit.ly/3abc", LINK, "bit.ly"),
]


@pytest.mark.parametrize("text, kind, detail", CAUGHT, ids=[row[0][:40] for row in CAUGHT])
def test_the_screen_catches(app, text, kind, detail):
    with app.app_context():
        reasons = screen_message(text)
    matching = [r for r in reasons if r.startswith(kind)]
    assert matching, reasons
    assert detail in matching[0]


PASSES = [
    "The budget is $450 for 3 seats, 9-17 CET, starting 2026-12-01.",
    "Coverage 09:00-17:00 from 01.12.2026 to 15.12.2026 for 1,200,000 users.",
    "Order #123456 and ticket 4821337 need a follow-up.",
    "Invoice 20261201 was paid in full through the platform.",
    "Help with the customer's PayPal refund issue.",
    "Our customers' PayPal disputes and Venmo questions are the bulk of the queue.",
    "Explain bank transfer delays to customers calmly.",
    "Support users of our crypto wallet app with login issues.",
    "We work with ASP.NET and Node.js; roadmap 2025 2026.",
    "Paid via the platform; hourly $25, 40 hours, 2 seats.",
    "We handle WhatsApp and Telegram support channels for a bank.",
    "Look at the page. It explains everything.",
    "Our help center runs on zendesk.com and our team meets at 10:30.",
    "Docs: https://docs.google.com/document/d/1 and https://acme.zendesk.com/hc/en-us",
    "Demo video: https://www.loom.com/share/abc and issues on github.com/acme/app",
    "Meet at noon, dot the i's and cross the t's.",
    "Reviews for our product should be answered kindly.",
    "Keep replies under 2 minutes; CSAT above 95%; 24/7 rota of 3 people.",
    "Price: 1 200 EUR per month, or 14.99 USD per seat.",
    "Call volume is about 1500 calls a week.",
    "Ask callers for their order number, never their card details.",
]


@pytest.mark.parametrize("text", PASSES, ids=[t[:40] for t in PASSES])
def test_ordinary_text_passes(app, text):
    with app.app_context():
        assert screen_message(text) == []


def test_links_to_the_platform_itself_and_subdomains_of_allowed_domains_pass(app):
    with app.app_context():
        base = app.config["PUBLIC_BASE_URL"].rstrip("/")
        assert screen_message(f"See {base}/tasks/12 and https://help.intercom.com/x") == []
        # A look-alike is not a subdomain.
        assert screen_message("https://zendesk.com.evil.io/login") == [
            "Link to an unknown site: zendesk.com.evil.io"]
        assert screen_message("https://notzendesk.com/a") == ["Link to an unknown site: notzendesk.com"]


def test_an_email_is_contact_details_not_a_link(app):
    with app.app_context():
        assert screen_message("write to help@unknown-shop.xyz") == [
            "Contact details: email address “help@unknown-shop.xyz”"]


def test_the_prohibited_list_and_allowed_domains_come_from_config(app):
    with app.app_context():
        terms, domains = app.config["MODERATION_PROHIBITED_TERMS"], app.config["MODERATION_ALLOWED_LINK_DOMAINS"]
        app.config["MODERATION_PROHIBITED_TERMS"] = ["cold calling"]
        app.config["MODERATION_ALLOWED_LINK_DOMAINS"] = ["acme.io"]
        try:
            assert screen_message("Some COLD   calling next week") == ["Prohibited content: “cold calling”"]
            assert screen_message("buy followers, see https://status.acme.io") == []
            assert screen_message("docs on https://zendesk.com/x") == ["Link to an unknown site: zendesk.com"]
        finally:
            app.config["MODERATION_PROHIBITED_TERMS"], app.config["MODERATION_ALLOWED_LINK_DOMAINS"] = terms, domains


def test_several_findings_come_back_one_per_rule(app):
    with app.app_context():
        reasons = screen_message("Email x@y.com or call +1 415 555 0134, pay me via PayPal, see spam.xyz")
    assert _kinds(reasons) == {EMAIL, PHONE, PAYMENT, LINK}
    assert len(reasons) == 4


# --- tasks and bids ----------------------------------------------------------------------

def _established(business):
    return factories.create_task(business, status="completed", title="An earlier, approved task")


def test_a_clean_task_of_an_established_business_passes(app):
    business = factories.create_business()
    _established(business)
    task = factories.create_task(business, status="draft")
    assert screen_task(task) == []


def test_a_business_first_task_is_flagged_until_one_was_approved(app):
    business = factories.create_business()
    first = factories.create_task(business, status="draft")
    assert screen_task(first) == [FIRST_TASK_REASON]
    # Drafts, rejected or still-held tasks don't make a business established...
    factories.create_task(business, status="draft")
    factories.create_task(business, status="open", moderation_status=ModerationStatus.PENDING_REVIEW)
    factories.create_task(business, status="open", moderation_status=ModerationStatus.REJECTED)
    assert screen_task(first) == [FIRST_TASK_REASON]
    # ...an approved, published one does (even if it has ended since).
    factories.create_task(business, status="cancelled")
    assert screen_task(first) == []


def test_task_title_and_description_are_both_screened(app):
    business = factories.create_business()
    _established(business)
    task = factories.create_task(business, status="draft", title="Call 415-555-0134 for details",
                                 description="Paid in bitcoin only.")
    assert _kinds(screen_task(task)) == {PHONE, PAYMENT}


@pytest.mark.parametrize("fields, expected", [
    ({"pricing": Pricing.HOURLY, "budget": None, "max_rate": 500, "estimated_hours": 10},
     "Budget far below typical: $5.00 per hour (under $8.00)"),
    ({"pricing": Pricing.FIXED, "budget": 2_500}, "Budget far below typical: $25.00 fixed (under $50.00)"),
    ({"pricing": Pricing.HOURLY, "budget": None, "max_rate": 800, "estimated_hours": 10}, None),
    ({"pricing": Pricing.FIXED, "budget": 5_000}, None),
])
def test_budgets_far_below_typical_are_flagged(app, fields, expected):
    business = factories.create_business()
    _established(business)
    task = factories.create_task(business, status="draft", **fields)
    assert screen_task(task) == ([expected] if expected else [])


def test_bids_are_screened_on_cover_and_availability_notes_but_not_budget_or_first_task(app):
    from tests.tasks.helpers import add_bid
    task = factories.create_task(factories.create_business())   # the business has no other task
    bid = add_bid(task, factories.create_freelancer(), amount=100, cover_note="Happy to help, kind and patient.")
    assert screen_bid(bid) == []
    bid.availability_note = "Weekdays; WhatsApp me for weekends"
    assert _kinds(screen_bid(bid)) == {HANDLE}


def test_the_rules_are_a_table_with_names(app):
    names = [rule.name for rule in screening.RULES]
    assert names == ["contact_details", "off_platform_payment", "prohibited_content", "unknown_links",
                     "low_budget", "first_task", "flagged_business"]
    assert {r.name for r in screening.RULES if "task" in r.applies_to and "message" not in r.applies_to} == {
        "low_budget", "first_task", "flagged_business"}


def test_screening_a_task_writes_nothing(app):
    from sqlalchemy import func, select

    from marketplace.extensions import db
    from marketplace.moderation.models import AuditEntry, ModerationCase
    task = factories.create_task(factories.create_business(), status="draft", description="mail me: a@b.co")
    assert len(screen_task(task)) == 2
    assert db.session.scalar(select(func.count()).select_from(ModerationCase)) == 0
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0
    assert task.status == TaskStatus.DRAFT and task.moderation_status == ModerationStatus.APPROVED


# --- a flagged business: a task from a new or flagged business waits -----------------------------

def _report(business, status="open", handled_days_ago=None):
    from datetime import timedelta

    from marketplace.core.time import utcnow
    from marketplace.extensions import db
    from marketplace.moderation.models import Flag
    flag = Flag(target_type="profile", target_id=business.id, target_owner_id=business.id,
                reporter_id=factories.create_freelancer().id, reason="spam", status=status,
                handled_at=utcnow() - timedelta(days=handled_days_ago) if handled_days_ago is not None else None)
    db.session.add(flag)
    db.session.flush()
    return flag


def _audit(business, action, days_ago=0):
    from datetime import timedelta

    from marketplace.core.time import utcnow
    from marketplace.extensions import db
    from marketplace.moderation.models import AuditEntry
    # The log is append-only, so an older entry is written with its date.
    db.session.add(AuditEntry(actor_id=None, action=action, target_type="user", target_id=business.id,
                              subject_user_id=business.id, reason="Spam in messages",
                              created_at=utcnow() - timedelta(days=days_ago)))
    db.session.flush()


FLAGGED = screening.FLAGGED_BUSINESS_REASON


@pytest.mark.parametrize("history, held", [
    ([("report", "open", None)], True),                       # an open report, however old
    ([("report", "upheld", 10)], True),                       # upheld recently
    ([("report", "upheld", 120)], False),                     # upheld long ago
    ([("report", "dismissed", 5)], False),                    # the report didn't hold up
    ([("audit", "warn", 30)], True),
    ([("audit", "suspend", 89)], True),
    ([("audit", "warn", 91)], False),                         # outside the 90-day window
    ([("audit", "reinstate", 1), ("audit", "approve", 1)], False),   # other decisions don't count
    ([], False),
], ids=["open-report", "upheld-recently", "upheld-long-ago", "dismissed", "warned", "suspended-89d",
        "warned-91d", "other-actions", "clean"])
def test_a_task_from_a_flagged_business_waits_for_review(app, history, held):
    business = factories.create_business()
    _established(business)
    for kind, status, days in history:
        if kind == "report":
            _report(business, status, days)
        else:
            _audit(business, status, days)
    task = factories.create_task(business, status="draft")
    assert screen_task(task) == ([FLAGGED] if held else [])


def test_only_reports_and_warnings_against_this_business_count(app):
    business, other = factories.create_business(), factories.create_business()
    _established(business)
    _report(other)
    _audit(other, "warn")
    assert screen_task(factories.create_task(business, status="draft")) == []


def test_a_flagged_business_first_task_gets_both_findings_and_bids_are_not_affected(app):
    from tests.tasks.helpers import add_bid
    business = factories.create_business()
    _report(business)
    task = factories.create_task(business, status="draft")
    assert screen_task(task) == [FIRST_TASK_REASON, FLAGGED]
    specialist = factories.create_freelancer()
    _report(specialist)
    bid = add_bid(factories.create_task(business), specialist, amount=100, cover_note="Happy to help.")
    assert screen_bid(bid) == []


# --- adversarial input (the screen must stay linear: no catastrophic backtracking) ---------------

ADVERSARIAL_UNITS = ["a.", "1 ", "1,", "1-", "1.", "a@", "a-", "-a.", "http://a.", "www.a.", "a at ", "a dot ",
                     "a(at)", "(1", "+1 ", "a.b@", "a.com.", "pay me ", "fee ", "whatsapp ", "1 2-", "$1", "a",
                     "1", " "]


@pytest.mark.parametrize("unit", ADVERSARIAL_UNITS)
def test_ten_thousand_characters_of_adversarial_text_are_screened(app, unit):
    # Before the fix "a." * 5000 took about 10 s (the email patterns rescanned the run from every
    # position); the timings are in the review report, the test checks the results are still right.
    text = (unit * 10_000)[:10_000]
    reasons = screen_message(text)
    assert all(isinstance(r, str) for r in reasons)
    # The same text with a real email address at the very end is still caught.
    assert EMAIL in _kinds(screen_message(text + " write to jane.doe@example.com"))


def test_the_screen_only_reads_the_first_scan_max_characters(app):
    padding = "Ordinary words about customer support. " * (screening.SCAN_MAX // 30)
    assert screen_message(padding[:screening.SCAN_MAX - 30] + " mail jane@example.com") != []
    assert screen_message(padding[:screening.SCAN_MAX] + " mail jane@example.com") == []
