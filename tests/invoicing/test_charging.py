"""Closed weeks charged to the saved card off-session (sandbox and Stripe through the fake), failures,
the grace period that pauses the contract, and paying on-session afterwards."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marketplace.contracts.models import ContractStatus
from marketplace.engagements import transitions
from marketplace.engagements.models import EngagementStatus as S
from marketplace.extensions import db
from marketplace.invoicing.charging import charge_due_invoices, pause_unpaid, settle_funded
from marketplace.invoicing.closing import close_due_weeks
from marketplace.invoicing.models import WeeklyInvoice
from marketplace.notifications.models import Notification
from marketplace.payments import ledger, saved_methods, services as payments
from marketplace.payments.models import Charge, Transfer
from tests.invoicing.conftest import AFTER_WINDOW, CLOSED, WEEK, add_time, create_hourly_contract, day
from tests.payments.conftest import fake_stripe, post_event  # noqa: F401  (fixture)


def closed_week(card: str | None = "succeeds", **terms):
    contract = create_hourly_contract(created_at=WEEK, card=card, **terms)
    add_time(contract, day(0), 300)
    add_time(contract, day(3), 420)              # 12 h logged against a 10 h limit
    close_due_weeks(CLOSED)
    invoice = db.session.scalar(select(WeeklyInvoice).where(WeeklyInvoice.contract_id == contract.id))
    return contract, invoice


def fresh(invoice):
    db.session.expire_all()
    return db.session.get(WeeklyInvoice, invoice.id)


def kinds(user):
    return [n.kind for n in db.session.scalars(select(Notification).where(Notification.user_id == user.id))]


def test_the_week_is_charged_off_session_reviewed_and_released():
    contract, invoice = closed_week(rate=2_550, limit_minutes=600)
    assert charge_due_invoices(CLOSED) == 1
    invoice = fresh(invoice)
    assert invoice.status == "in_review" and invoice.paid_at is not None
    assert invoice.engagement.amount == 25_500                    # 10 h of the 12 h logged
    [charge] = db.session.scalars(select(Charge).where(Charge.engagement_id == invoice.engagement_id)).all()
    assert (charge.status, charge.off_session) == ("succeeded", True)
    assert charge_due_invoices(CLOSED) == 0                        # never charged twice
    assert transitions.auto_approve_due(AFTER_WINDOW) == 1
    invoice = fresh(invoice)
    assert invoice.status == "paid"
    transfer = db.session.scalar(select(Transfer).where(Transfer.engagement_id == invoice.engagement_id))
    assert transfer.amount == 22_950
    assert {"invoice_created", "invoice_charged"} <= set(kinds(contract.business))
    assert ledger.check() == []


@pytest.mark.parametrize("card", ["declined", "authentication_required", None])
def test_a_failed_charge_keeps_the_hours_and_pauses_the_contract_after_the_grace_period(app, card):
    contract, invoice = closed_week(card)
    assert charge_due_invoices(CLOSED) == 1
    invoice = fresh(invoice)
    assert invoice.status == "payment_failed" and invoice.engagement.status == S.AWAITING_FUNDING
    assert "invoice_payment_failed" in kinds(contract.freelancer)
    grace = timedelta(hours=app.config["INVOICE_GRACE_HOURS"])
    assert pause_unpaid(CLOSED + grace - timedelta(minutes=1)) == 0
    assert pause_unpaid(CLOSED + grace) == 1
    assert pause_unpaid(CLOSED + grace + timedelta(hours=1)) == 0
    db.session.refresh(contract)
    assert contract.status == ContractStatus.PAUSED
    assert "contract_paused" in kinds(contract.business) and "contract_paused" in kinds(contract.freelancer)
    assert fresh(invoice).billable_minutes == 600                # no hours lost

    # The business pays on-session (the recovery page's checkout): the contract resumes by itself.
    payable = fresh(invoice).engagement
    charge = transitions.begin_funding(contract.business, payable, "sandbox")
    assert payments.sandbox_pay(contract.business, charge) == "funded"
    paid_at = CLOSED + grace + timedelta(hours=2)
    assert settle_funded(paid_at) == 1
    db.session.refresh(contract)
    assert contract.status == ContractStatus.ACTIVE and "contract_resumed" in kinds(contract.freelancer)
    assert fresh(invoice).status == "in_review"
    assert transitions.auto_approve_due(AFTER_WINDOW) == 1
    assert fresh(invoice).status == "paid"
    assert ledger.check() == []


def test_a_contract_paused_by_a_side_is_not_resumed_by_a_payment():
    from marketplace.invoicing.services import pause_contract
    contract, invoice = closed_week("declined")
    charge_due_invoices(CLOSED)
    pause_contract(contract.freelancer, contract, now=CLOSED + timedelta(hours=1))
    payable = fresh(invoice).engagement
    payments.sandbox_pay(contract.business, transitions.begin_funding(contract.business, payable, "sandbox"))
    settle_funded(CLOSED + timedelta(hours=2))
    db.session.refresh(contract)
    assert contract.status == ContractStatus.PAUSED


def test_stripe_off_session_charge_of_a_closed_week(client, login_as, fake_stripe):
    contract = create_hourly_contract(created_at=WEEK, rate=3_000, limit_minutes=600, card=None)
    add_time(contract, day(1), 240)
    login_as(contract.business)
    response = client.post("/billing/card")
    session_id = response.location.rsplit("/", 1)[1]
    assert post_event(client, fake_stripe.complete_setup(session_id)).json["outcome"] == "card saved"
    close_due_weeks(CLOSED)
    assert charge_due_invoices(CLOSED) == 1
    invoice = db.session.scalar(select(WeeklyInvoice).where(WeeklyInvoice.contract_id == contract.id))
    [call] = fake_stripe.calls("POST", "/v1/payment_intents")
    assert (call["params"]["off_session"], call["params"]["confirm"], call["params"]["amount"]) == (
        "true", "true", "12000")
    assert fresh(invoice).status == "in_review"
    assert ledger.check() == []


def test_stripe_authentication_required_marks_the_invoice_payment_failed(client, login_as, fake_stripe):
    contract = create_hourly_contract(created_at=WEEK, card=None)
    add_time(contract, day(1), 60)
    login_as(contract.business)
    session_id = client.post("/billing/card").location.rsplit("/", 1)[1]
    post_event(client, fake_stripe.complete_setup(session_id, behaviour="authentication_required"))
    close_due_weeks(CLOSED)
    charge_due_invoices(CLOSED)
    invoice = db.session.scalar(select(WeeklyInvoice).where(WeeklyInvoice.contract_id == contract.id))
    assert fresh(invoice).status == "payment_failed"
    # The invoice page sends the business to the on-session recovery page.
    page = client.get(f"/contracts/{contract.id}/invoices/{invoice.id}").get_data(as_text=True)
    assert f"/billing/payables/{invoice.engagement_id}/pay" in page
