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


# What the weekly close does on the server (helper-free): an hourly hire between the two people, an
# invoice for the week, and its off-session charge to the business's saved card.
_INVOICE_AND_CHARGE = """
import sys
from sqlalchemy import select
from marketplace import create_app
from marketplace.accounts.models import User
from marketplace.extensions import db
from marketplace.payments.off_session import charge_off_session
from tests import factories
from tests.payments.payables import add_payable
from tests.tasks.helpers import add_bid
from marketplace.engagements.hiring import hire

app = create_app()
with app.app_context():
    business = db.session.scalar(select(User).where(User.email == sys.argv[1]))
    specialist = db.session.scalar(select(User).where(User.email == sys.argv[2]))
    task = factories.create_task(business, title=sys.argv[3], pricing="hourly", budget=None, max_rate=4_000,
                                 estimated_hours=10)
    contract = hire(business, add_bid(task, specialist, amount=2_550, estimated_hours=10))
    payable = add_payable(contract, 25_500, title="Week of 23 Nov 2026: 10 h")
    db.session.commit()
    print(payable.id, charge_off_session(payable).status)
"""


def test_a_declined_weekly_charge_is_paid_on_session_from_the_billing_page(new_page, live_server: str):
    import subprocess
    import sys
    import uuid

    from tests.e2e.conftest import REPO_ROOT, SERVER_ENV

    business = new_page()
    business_email = _sign_up(business, live_server, "Hire support specialists", "Maren Holt")
    business.goto(f"{live_server}/billing")
    business.get_by_test_id("saved-card").get_by_role("button", name="Save a card").click()
    business.get_by_role("button", name="Save a card that will be declined").click()
    expect(business.get_by_test_id("saved-card")).to_contain_text("Visa ending 0341")

    specialist = new_page()
    specialist_email = _sign_up(specialist, live_server, "Work as a support specialist", "Jonas Berg")
    title = f"Spanish chat coverage {uuid.uuid4().hex[:6]}"
    result = subprocess.run([sys.executable, "-c", _INVOICE_AND_CHARGE, business_email, specialist_email, title],
                            cwd=REPO_ROOT, env=SERVER_ENV, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    payable_id, status = result.stdout.split()[-2:]
    assert status == "failed"

    # The specialist sees that payment is pending, not why.
    specialist.goto(f"{live_server}/engagements/{payable_id}")
    expect(specialist.get_by_test_id("payment-pending")).to_contain_text("Payment pending from the business.")
    expect(specialist.locator("main")).not_to_contain_text("declined")

    business.goto(f"{live_server}/billing")
    row = business.locator("main tr", has_text="Week of 23 Nov 2026")
    expect(row).to_contain_text("Payment failed")
    row.get_by_role("link", name="pay now").click()
    expect(business.get_by_test_id("payment-failure")).to_contain_text("Your card was declined")
    business.get_by_role("button", name="Pay $255.00 now").click()
    expect(business.get_by_test_id("test-mode")).to_be_visible()
    business.get_by_role("button", name="Pay $255.00 (test mode)").click()
    expect(business.locator("main .alert").first).to_contain_text("Payment received (test mode)")

    business.goto(f"{live_server}/billing")
    row = business.locator("main tr", has_text="Week of 23 Nov 2026")
    expect(row).to_contain_text("Paid, held by the platform")
    expect(row.get_by_role("link", name="Receipt")).to_be_visible()
    specialist.reload()
    expect(specialist.locator("#next-step")).to_contain_text("Funded")
