"""Shared helpers for payment tests."""
from __future__ import annotations

from sqlalchemy import func, select

from marketplace.engagements import transitions
from marketplace.extensions import db
from marketplace.payments import ledger
from marketplace.payments.models import LedgerEntry, LedgerTransaction


def ledger_counts() -> tuple[int, int]:
    return (db.session.scalar(select(func.count()).select_from(LedgerTransaction)),
            db.session.scalar(select(func.count()).select_from(LedgerEntry)))


def assert_ledger_ok() -> None:
    problems = ledger.check()
    assert problems == [], problems


def sandbox_fund(engagement):
    """Fund through the sandbox exactly as the checkout page does."""
    from marketplace.payments import services
    charge = transitions.begin_funding(engagement.business, engagement, "sandbox")
    assert services.sandbox_pay(engagement.business, charge) == "funded"
    return charge


def stripe_fund(client, login_as, fake, engagement, *, settlement_currency=None):
    """Fund through (fake) Stripe: the Fund button, the hosted page, then the signed webhook."""
    from sqlalchemy import select

    from marketplace.payments.models import Charge
    from tests.payments.conftest import post_event
    client.post("/logout")
    login_as(engagement.business)
    response = client.post(f"/engagements/{engagement.id}/fund")
    assert response.status_code == 303 and response.location.startswith("https://checkout.stripe.test/c/pay/cs_")
    charge = db.session.scalar(select(Charge).where(Charge.engagement_id == engagement.id)
                               .order_by(Charge.id.desc()).limit(1))
    event = fake.pay_checkout(charge.checkout_session_id, settlement_currency=settlement_currency)
    assert post_event(client, event).status_code == 200
    db.session.refresh(engagement)
    db.session.refresh(charge)
    return charge
