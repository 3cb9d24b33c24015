"""Money pages as a first-time walkthrough found them: a stale checkout, a card decline shown to the
specialist, fees in basis points, the person instead of the company on receipts, confirmation steps."""
from __future__ import annotations

from marketplace.engagements import transitions
from marketplace.engagements.models import EngagementStatus
from marketplace.extensions import db
from marketplace.profiles.models import BusinessProfile
from tests import factories
from tests.payments.helpers import ledger_counts, sandbox_fund
from tests.payments.test_money_pages import text


def _decline_then_pay(client, e):
    first = client.post(f"/engagements/{e.id}/fund").location
    client.post(first + "/decline")
    second = client.post(f"/engagements/{e.id}/fund").location
    assert second != first
    client.post(second + "/pay")
    return first, second


def test_a_declined_checkout_page_is_closed_after_a_new_attempt_paid(client, login_as):
    e = factories.create_engagement(amount=85_000)
    login_as(e.business)
    first, _second = _decline_then_pay(client, e)
    db.session.refresh(e)
    assert e.status == EngagementStatus.ACTIVE
    stale = text(client.get(first))
    assert "This attempt was declined and is closed" in stale and "The engagement has been paid since" in stale
    assert "Simulate a declined card" not in stale and "(test mode)" not in stale.split("closed")[1]
    before = ledger_counts()
    response = client.post(first + "/pay", follow_redirects=True)
    assert "This checkout attempt was declined and is closed" in text(response)
    assert ledger_counts() == before


def test_the_specialist_does_not_see_the_businesss_card_decline(client, login_as):
    e = factories.create_engagement(amount=85_000)
    login_as(e.business)
    _decline_then_pay(client, e)
    assert "Payment failed" in text(client.get(f"/engagements/{e.id}"))   # the business sees its own
    client.post("/logout")
    login_as(e.freelancer)
    page = text(client.get(f"/engagements/{e.id}"))
    assert "Payment failed" not in page and "declined" not in page
    assert "active" in page


def test_fees_read_in_percent_and_receipts_name_the_company(client, login_as):
    e = factories.create_engagement(amount=85_000)
    db.session.get(BusinessProfile, e.business_id).company_name = "Nordic Routers AB"
    sandbox_fund(e)
    transitions.deliver(e.freelancer, e, "Done.")
    transitions.approve(e.business, e)
    db.session.flush()
    login_as(e.business)
    for path in (f"/engagements/{e.id}", f"/engagements/{e.id}/receipt", "/payments"):
        page = text(client.get(path))
        assert "basis points" not in page and "bps" not in page, path
        assert "10%" in page, path
    receipt = text(client.get(f"/engagements/{e.id}/receipt"))
    assert "Billed to: Nordic Routers AB, attn. " + e.business.full_name in receipt
    client.post("/logout")
    login_as(e.freelancer)
    assert "Nordic Routers AB" in text(client.get("/earnings"))
    badge = text(client.get("/dashboard"))
    assert "specialist" in badge.lower() and "FREELANCER" not in badge


def test_hiring_and_releasing_money_each_have_a_confirmation_page(client, login_as):
    from tests.tasks.helpers import add_bid
    task = factories.create_task(budget=90_000)
    bid = add_bid(task, factories.create_freelancer(), amount=85_000)
    login_as(task.business)
    task_page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert f'href="/bids/{bid.id}/accept"' in task_page and f'action="/bids/{bid.id}/accept"' not in task_page
    confirm = text(client.get(f"/bids/{bid.id}/accept"))
    assert "You fund $850.00 next" in confirm and "receives $765.00" in confirm
    db.session.refresh(bid)
    assert bid.status.value == "pending"          # looking at the confirmation changes nothing

    e = factories.create_engagement(amount=85_000)
    sandbox_fund(e)
    transitions.deliver(e.freelancer, e, "Done.")
    db.session.flush()
    client.post("/logout")
    login_as(e.business)
    page = client.get(f"/engagements/{e.id}").get_data(as_text=True)
    assert f'href="/engagements/{e.id}/approve"' in page and f'action="/engagements/{e.id}/approve"' not in page
    confirm = text(client.get(f"/engagements/{e.id}/approve"))
    assert "Approve the work and release $850.00?" in confirm and "receives $765.00" in confirm
    db.session.refresh(e)
    assert e.status == EngagementStatus.DELIVERED
