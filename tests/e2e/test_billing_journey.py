"""A business keeps a card on file in the browser (sandbox, test mode): saves a test card on the billing
page, sees it, and replaces it with one that will need authentication."""
from __future__ import annotations

import pytest

from tests.e2e.test_core_loop import _sign_up

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (make install-dev)").expect

pytestmark = pytest.mark.e2e


def test_save_and_replace_a_card_on_the_billing_page(new_page, live_server: str):
    business = new_page()
    _sign_up(business, live_server, "Hire support specialists", "Ines Alvarez")
    business.locator("nav").get_by_role("link", name="Billing").click()
    expect(business.get_by_role("heading", name="Billing")).to_be_visible()
    card = business.get_by_test_id("saved-card")
    expect(card).to_contain_text("No card saved yet")

    card.get_by_role("button", name="Save a card").click()
    expect(business.get_by_role("heading", name="Save a test card")).to_be_visible()
    expect(business.get_by_test_id("test-mode")).to_contain_text("Test mode")
    business.get_by_role("button", name="Save a test card").click()
    expect(business.locator("main .alert-success")).to_contain_text("Test card Visa ending 4242 saved (test mode).")
    expect(card).to_contain_text("Visa ending 4242")
    expect(card).to_contain_text("expires 12/2034")

    card.get_by_role("button", name="Replace card").click()
    expect(business.locator("main")).to_contain_text("It replaces your current test card ending 4242.")
    business.get_by_role("button", name="Save a card that needs authentication").click()
    expect(business.locator("main .alert-success")).to_contain_text("replacing your previous card")
    expect(card).to_contain_text("Visa ending 3184")
    expect(card).not_to_contain_text("4242")
