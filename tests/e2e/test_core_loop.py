"""The core marketplace loop in a real browser.

A business posts a task -> a specialist finds it by search and sends a
proposal -> the business accepts -> both see the engagement awaiting
funding, and the specialist has a notification.
"""
from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from typing import TYPE_CHECKING

import pytest

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (make install-dev)").expect
if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.e2e

PASSWORD = "copper kettle morning 58"


def _sign_up(page: Page, base: str, role_label: str, name: str, confirm: bool = True) -> str:
    email = f"{name.split()[0].lower()}-{uuid.uuid4().hex[:8]}@example.com"
    page.goto(f"{base}/signup")
    page.get_by_label(role_label).check()
    page.locator("#full_name").fill(name)
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("main .alert[role=alert]").first).to_contain_text("Welcome")
    if confirm:
        confirm_email(page, base, email)
    return email


def confirm_email(page: Page, base: str, email: str) -> None:
    """Open the confirmation link from the outbox (acting on the marketplace needs a confirmed address)."""
    page.goto(f"{base}/outbox/")
    page.locator("a.list-group-item", has_text=f"to {email}").filter(has_text="Confirm your email address").click()
    page.locator(".mail-body a[href*='/verify/']").click()
    expect(page.locator("main .alert[role=alert]").first).to_contain_text("Thanks, your email address is confirmed.")


def test_post_find_bid_hire(new_page, live_server: str, approve_held_task):
    unique = uuid.uuid4().hex[:6]
    title = f"Patient router helpline {unique}"

    business = new_page()
    _sign_up(business, live_server, "Hire support specialists", "Bea Lindqvist")
    business.locator("nav").get_by_role("link", name="Post a task").click()
    expect(business.get_by_role("heading", name="Post a support task")).to_be_visible()
    business.locator("#title").fill(title)
    business.locator("#description").fill("Help older customers get their new routers online by phone, "
                                          f"kindly and step by step. Reference {unique}.")
    business.locator("#channel").select_option("phone")
    business.locator("input[name=languages][value=es]").check()
    business.locator("#start_date").fill((date.today() + timedelta(days=5)).isoformat())
    business.locator("#end_date").fill((date.today() + timedelta(days=12)).isoformat())
    business.locator("#budget").fill("900")
    business.locator("#required-0-skill").select_option(label="Network troubleshooting")
    business.get_by_role("button", name="Save and publish").click()
    # A new business's first task waits for review; an operator approves it.
    expect(business.locator("main .alert").first).to_contain_text("Your task is waiting for a quick review")
    approve_held_task(title)
    expect(business.get_by_role("heading", name=title)).to_be_visible()
    task_url = business.url

    specialist = new_page()
    _sign_up(specialist, live_server, "Work as a support specialist", "Lucía Fernández")
    specialist.locator("nav").get_by_role("link", name="Find work").click()
    specialist.locator("#q").fill(f"router {unique}")
    specialist.locator("#language").select_option("es")
    specialist.get_by_role("button", name="Search").click()
    expect(specialist.locator("main")).to_contain_text("1 open task")
    specialist.get_by_role("link", name=title).click()
    expect(specialist.get_by_role("heading", name="Send a proposal")).to_be_visible()
    # The fee and the payout are shown before sending.
    expect(specialist.locator("#bid-quote")).to_contain_text("platform fee is 10%")
    expect(specialist.locator("#bid-quote[data-ready]")).to_have_count(1)   # the live preview is listening
    specialist.locator("#amount").fill("850")
    expect(specialist.locator("#bid-quote")).to_contain_text("you receive $765.00")
    specialist.locator("#cover_note").fill("Eight years of patient router support in Spanish and English.")
    specialist.get_by_role("button", name="Send proposal").click()
    expect(specialist.locator("main .alert").first).to_contain_text("Proposal sent")
    expect(specialist.get_by_role("heading", name=re.compile("Your proposal"))).to_be_visible()

    business.goto(task_url)
    proposal = business.locator("#proposals")
    expect(proposal).to_contain_text("Lucía Fernández")
    expect(proposal).to_contain_text("$850.00")
    proposal.get_by_role("link", name="Accept and hire…").click()
    # The confirmation step names the terms before anything happens.
    expect(business.get_by_test_id("confirm-step")).to_contain_text("You fund $850.00 next")
    business.get_by_test_id("confirm-step").get_by_role("button", name="Accept and hire").click()
    expect(business.locator("main .alert").first).to_contain_text("Hired!")
    expect(business.locator("main")).to_contain_text("awaiting funding")
    expect(business.locator("main")).to_contain_text("Next step: fund this engagement")
    expect(business.locator("main")).to_contain_text("$765.00")  # the specialist's payout

    # The specialist was notified and sees the same engagement waiting for funding.
    specialist.goto(live_server + "/dashboard")
    badge = specialist.locator("nav [data-testid=notification-badge]")
    expect(badge).to_be_visible()
    specialist.locator("nav").get_by_role("link", name=re.compile("Notifications")).click()
    expect(specialist.locator("main")).to_contain_text(f"You're hired for “{title}”")
    specialist.locator("nav").get_by_role("link", name="Engagements").click()
    row = specialist.locator("main .list-group-item", has_text=title)
    expect(row).to_contain_text("awaiting funding")
    row.get_by_role("link", name="Payment").click()   # the contract's one payment (its money page)
    expect(specialist.locator("main")).to_contain_text("Waiting for the business to fund the engagement")
