"""Matching in a real browser: Find specialists -> invite -> the specialist sees it all."""
from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from typing import TYPE_CHECKING

import pytest

from tests.e2e.test_core_loop import _sign_up

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (make install-dev)").expect
if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.e2e


def _fill_specialist_profile(page: Page, base: str, headline: str) -> None:
    page.goto(f"{base}/profile/edit")
    page.locator("#headline").fill(headline)
    page.locator("#hourly_rate").fill("30")
    page.locator("#timezone").select_option("Europe/Madrid")
    page.locator("#hours_per_week").fill("30")
    page.locator("input[name=channels][value=chat]").check()
    page.locator("#languages-0-language").select_option("en")
    page.locator("#languages-0-proficiency").select_option("native")
    page.get_by_label("Gorgias").select_option("5")
    page.get_by_label("Returns and refunds").select_option("4")
    page.get_by_role("button", name="Save profile").click()
    expect(page.locator("main .alert").first).to_contain_text("Your profile is saved.")


def test_find_specialists_invite_and_recommendations(new_page, live_server: str, approve_held_task):
    unique = uuid.uuid4().hex[:6]
    title = f"Gorgias returns queue {unique}"
    headline = f"Returns specialist {unique}"

    specialist = new_page()
    _sign_up(specialist, live_server, "Work as a support specialist", "Noah Berg")
    _fill_specialist_profile(specialist, live_server, headline)

    business = new_page()
    _sign_up(business, live_server, "Hire support specialists", "Camille Dubois")
    business.goto(f"{live_server}/tasks/new")
    business.locator("#title").fill(title)
    business.locator("#description").fill("Answer return requests in Gorgias with warmth and care.")
    business.locator("#channel").select_option("chat")
    business.locator("#timezone").select_option("Europe/Paris")
    business.locator("#start_date").fill((date.today() + timedelta(days=4)).isoformat())
    business.locator("#end_date").fill((date.today() + timedelta(days=10)).isoformat())
    business.locator("#budget").fill("1800")   # 7 days of 8 h at $30 is $1,680: within budget
    business.locator("#required-0-skill").select_option(label="Gorgias")
    business.locator("#required-0-min_level").select_option("3")
    business.locator("#required-1-skill").select_option(label="Returns and refunds")
    business.get_by_role("button", name="Save and publish").click()
    # A new business's first task waits for review; an operator approves it.
    expect(business.locator("main .alert").first).to_contain_text("Your task is waiting for a quick review")
    # Held for review: the page says when matching becomes available instead of offering a dead end.
    expect(business.get_by_test_id("matching-after-review")).to_contain_text("as soon as our team approves")
    expect(business.get_by_role("link", name="Find specialists")).to_have_count(0)
    business.goto(f"{business.url.split('?')[0]}/matches")
    expect(business.locator("main .alert").first).to_contain_text("waiting for a quick review by our team")
    approve_held_task(title)
    business.reload()   # back on the task page, now approved

    business.get_by_role("link", name="Find specialists").click()
    expect(business.get_by_role("heading", name="Find specialists")).to_be_visible()
    card = business.locator(".card", has_text="Noah Berg")
    expect(card).to_contain_text(headline)
    explanation = card.locator("[data-testid=match-explanation]")
    expect(explanation).to_contain_text("Covers 2/2 required skills")
    expect(explanation).to_contain_text("native English")
    expect(explanation).to_contain_text("rate within budget")
    card.get_by_role("button", name="Invite Noah").click()
    expect(business.locator("main .alert").first).to_contain_text("Invitation sent.")
    expect(business.locator(".card", has_text="Noah Berg")).to_contain_text("Invited")

    specialist.goto(f"{live_server}/dashboard")
    recommended = specialist.locator("#recommended")
    expect(recommended).to_contain_text(title)
    specialist.locator("nav").get_by_role("link", name="Invitations").click()
    invitation = specialist.locator("main .card", has_text=title)
    expect(invitation).to_contain_text("pending")
    invitation.get_by_role("button", name="Accept and send a proposal").click()
    expect(specialist.get_by_role("heading", name="Send a proposal")).to_be_visible()
    expect(specialist).to_have_url(re.compile(r"/tasks/\d+#proposal$"))
