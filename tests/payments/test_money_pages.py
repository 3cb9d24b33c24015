"""Money pages and bad input through HTTP on the sandbox gateway."""
from __future__ import annotations

import html
import re

from marketplace.engagements import transitions
from marketplace.extensions import db
from marketplace.payments import executor, services
from tests import factories
from tests.payments.conftest import post_event
from tests.payments.helpers import assert_ledger_ok, ledger_counts, sandbox_fund


def text(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))


def test_sandbox_journey_through_the_pages(client, login_as):
    e = factories.create_engagement(amount=85_000)
    login_as(e.business)
    page = text(client.get(f"/engagements/{e.id}"))
    assert "Fund $850.00" in page and "test mode" in page
    checkout = client.post(f"/engagements/{e.id}/fund")
    assert checkout.status_code == 303 and "/payments/sandbox/checkout/" in checkout.location
    checkout_page = text(client.get(checkout.location))
    assert "Test mode" in checkout_page and "Simulate a declined card" in checkout_page
    paid = client.post(checkout.location + "/pay", follow_redirects=True)
    assert "Payment received (test mode)" in text(paid)
    again = client.post(checkout.location + "/pay", follow_redirects=True)  # double click / back button
    assert again.status_code == 200 and ledger_counts()[0] == 1
    client.post("/logout")

    login_as(e.freelancer)
    assert "Deliver the work" in text(client.get(f"/engagements/{e.id}"))
    assert client.post(f"/engagements/{e.id}/deliver", data={"note": ""}).status_code == 302  # refused, flashed
    client.post(f"/engagements/{e.id}/deliver", data={"note": "All shifts covered."})
    client.post("/logout")

    login_as(e.business)
    page = text(client.get(f"/engagements/{e.id}"))
    assert "All shifts covered." in page and "Approve and release $850.00" in page
    client.post(f"/engagements/{e.id}/approve")
    receipt = text(client.get(f"/engagements/{e.id}/receipt"))
    assert "Receipt" in receipt and "Total paid $850.00" in receipt and "platform fee (10%" in receipt
    payments = text(client.get("/payments"))
    assert "$850.00" in payments and "Receipt" in payments
    csv = client.get("/payments.csv")
    assert csv.mimetype == "text/csv" and "850.00" in csv.get_data(as_text=True)
    client.post("/logout")

    login_as(e.freelancer)
    earnings = text(client.get("/earnings"))
    assert "$765.00 is waiting for you." in earnings and "Connect payout account" in earnings
    assert "The platform fee is 10%" in earnings and "basis points" not in earnings and "$85.00" in earnings
    client.post("/payments/sandbox/onboarding", follow_redirects=True)
    earnings = text(client.get("/earnings"))
    assert "paid out" in earnings and "waiting for you" not in earnings
    rows = client.get("/earnings.csv").get_data(as_text=True).splitlines()
    assert rows[0].startswith("engagement,task,business") and rows[1].endswith("850.00,1000,85.00,765.00,765.00,0.00")
    assert_ledger_ok()


def test_bad_input_is_refused_clearly_without_ledger_entries(client, login_as):
    e = factories.create_engagement()
    other = factories.create_business()
    login_as(other)
    assert client.post(f"/engagements/{e.id}/fund").status_code == 404  # someone else's engagement
    assert client.get("/earnings").status_code == 403
    client.post("/logout")
    login_as(e.business)
    charge = transitions.begin_funding(e.business, e, "sandbox")
    db.session.commit()
    response = client.post(f"/engagements/{e.id}/approve", follow_redirects=True)
    assert response.status_code == 200 and "hasn't delivered" in text(response)
    assert client.post(f"/engagements/{e.id}/deliver", data={"note": "x"}).status_code == 403
    assert client.get(f"/payments/sandbox/checkout/{charge.id + 1000}").status_code == 404
    assert client.post("/engagements/999999/approve").status_code == 404
    assert ledger_counts() == (0, 0)
    client.post("/logout")
    login_as(e.freelancer)
    assert client.get(f"/payments/sandbox/checkout/{charge.id}").status_code == 404  # not the payer
    assert client.get(f"/engagements/{e.id}/receipt").status_code == 404


def test_webhook_is_csrf_exempt(csrf_app, webhook_secret):
    client = csrf_app.test_client()
    response = post_event(client, {"id": "evt_csrf", "type": "something.else"})
    assert response.status_code == 200


def test_ledger_cli(app):
    runner = app.test_cli_runner()
    e = factories.create_engagement()
    sandbox_fund(e)
    db.session.commit()
    result = runner.invoke(args=["ledger", "check"])
    assert result.exit_code == 0 and "OK" in result.output
    result = runner.invoke(args=["ledger", "reconcile"])
    assert result.exit_code == 0 and "nothing to reconcile" in result.output
    # Break the books behind the ledger's back: the check lists the row and exits 1.
    from sqlalchemy import update

    from marketplace.engagements.models import Engagement, EngagementStatus
    db.session.execute(update(Engagement).where(Engagement.id == e.id).values(status=EngagementStatus.COMPLETED))
    db.session.commit()
    result = runner.invoke(args=["ledger", "check"])
    assert result.exit_code == 1 and f"engagement {e.id} (completed): holds {e.amount}" in result.output


def test_jobs_run_due_includes_payments(app):
    e = factories.create_engagement()
    sandbox_fund(e)
    transitions.deliver(e.freelancer, e, "done")
    transitions.approve(e.business, e)
    services.sandbox_connect(e.freelancer)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["jobs", "run-due"])
    assert result.exit_code == 0 and "payments due: 1" in result.output and "auto-approve deliveries: 0" in result.output
    assert executor.process_due() == 0
