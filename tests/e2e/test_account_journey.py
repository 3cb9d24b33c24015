"""A specialist's first visit, end to end in a real browser.

Sign up -> confirm the email from the outbox -> fill the profile -> see the
public profile -> log out from the navbar -> log back in.
"""
from __future__ import annotations

import re
import uuid

from typing import TYPE_CHECKING

import pytest

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (make install-dev)").expect
if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.e2e

PASSWORD = "lantern harbor quietly 47"
FULL_NAME = "Ana Lucía Ortega"
FIRST_NAME = "Ana"


def _unique_email(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"


def _flash(page: Page):
    return page.locator("main .alert[role=alert]")


def _sign_up_specialist(page: Page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/signup")
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    page.get_by_label("Work as a support specialist").check()
    page.locator("#full_name").fill(FULL_NAME)
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()


def _log_out_from_navbar(page: Page) -> None:
    # "Log out" is a form button inside the user-name dropdown: open the dropdown first.
    page.locator(f'nav .dropdown-toggle[title="{FULL_NAME}"]', has_text="Ana").click()
    logout = page.locator("nav .dropdown-menu").get_by_role("button", name="Log out")
    expect(logout).to_be_visible()
    logout.click()
    expect(_flash(page)).to_contain_text("You have been logged out.")
    expect(page.locator("nav").get_by_role("link", name="Log in")).to_be_visible()


def test_specialist_signs_up_confirms_email_fills_profile_and_logs_back_in(page: Page, live_server: str):
    email = _unique_email("ana")

    # Sign up: lands on the profile editor, told a confirmation link was sent.
    _sign_up_specialist(page, live_server, email)
    expect(page).to_have_url(re.compile(r"/profile/edit$"))
    expect(page.get_by_role("heading", name="Your specialist profile")).to_be_visible()
    expect(_flash(page)).to_contain_text(f"Welcome, {FIRST_NAME}! We sent a confirmation link to {email}.")

    # The confirmation email, read in the outbox.
    page.goto(f"{live_server}/outbox/")
    expect(page.get_by_role("heading", name="Outbox")).to_be_visible()
    message = page.locator("a.list-group-item", has_text=f"to {email}").filter(has_text="Confirm your email address")
    expect(message).to_have_count(1)
    message.click()
    expect(page.get_by_role("heading", name="Confirm your email address")).to_be_visible()
    expect(page.locator("main")).to_contain_text(f"To {email}")
    expect(page.locator(".mail-body")).to_contain_text(f"Hi {FIRST_NAME},")

    page.locator(".mail-body a[href*='/verify/']").click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    expect(_flash(page)).to_contain_text("Thanks, your email address is confirmed.")
    expect(page.get_by_text("Please confirm your email address")).to_have_count(0)

    # Fill the specialist profile.
    page.locator("main").get_by_role("link", name="Edit profile").click()
    expect(page.get_by_role("heading", name="Your specialist profile")).to_be_visible()
    page.locator("#headline").fill("Calm Tier-2 troubleshooter, native Spanish")
    page.locator("#bio").fill("Eight years of SaaS support; I turn angry tickets into thank-you notes.")
    page.locator("#hourly_rate").fill("35")
    page.locator("#hours_per_week").fill("25")
    page.locator("#timezone").select_option("Europe/Madrid")
    page.get_by_label("Chat", exact=True).check()
    page.locator("#languages-0-language").select_option(label="Spanish")
    page.locator("#languages-0-proficiency").select_option(label="Native")
    page.get_by_label("Zendesk", exact=True).select_option(label="4 — advanced")
    page.get_by_label("De-escalation", exact=True).select_option(label="5 — expert")
    page.get_by_role("button", name="Save profile").click()

    # The public profile shows what was saved.
    expect(page).to_have_url(re.compile(r"/freelancers/\d+$"))
    expect(_flash(page)).to_contain_text("Your profile is saved.")
    expect(page.get_by_role("heading", name=FULL_NAME)).to_be_visible()
    expect(page.locator("p.lead")).to_have_text("Calm Tier-2 troubleshooter, native Spanish")
    skills = page.locator(".skill-pill")
    expect(skills).to_have_count(2)
    expect(skills.filter(has_text="Zendesk")).to_be_visible()
    expect(skills.filter(has_text="De-escalation")).to_be_visible()
    details = page.locator("dl")
    expect(details).to_contain_text("$35.00 / hour")
    expect(details).to_contain_text("Spanish (native)")
    expect(details).to_contain_text("Chat")
    expect(details).to_contain_text("25 h/week")
    expect(details).to_contain_text("Europe/Madrid")

    # Log out through the navbar dropdown, then log back in.
    _log_out_from_navbar(page)
    page.locator("nav").get_by_role("link", name="Log in").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Log in").click()

    expect(page).to_have_url(re.compile(r"/dashboard$"))
    expect(page.get_by_role("heading", name=f"Hello, {FIRST_NAME}")).to_be_visible()
    expect(_flash(page)).to_contain_text(f"Welcome back, {FIRST_NAME}.")
    expect(page.locator("main")).to_contain_text("Calm Tier-2 troubleshooter, native Spanish")


def test_wrong_password_shows_an_error_and_stays_on_login(page: Page, live_server: str):
    email = _unique_email("wrong-password")
    _sign_up_specialist(page, live_server, email)
    expect(page).to_have_url(re.compile(r"/profile/edit$"))
    _log_out_from_navbar(page)

    page.goto(f"{live_server}/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill("not the right password")
    page.locator("main").get_by_role("button", name="Log in").click()

    expect(page.get_by_role("alert")).to_contain_text("That email and password don't match. Check them and try again.")
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    expect(page.locator("#email")).to_have_value(email)
    expect(page.locator("#password")).to_have_value("")
    expect(page.locator("nav").get_by_role("link", name="Log in")).to_be_visible()
