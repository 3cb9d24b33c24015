"""What Stripe itself keeps: the funding charge's id and its processing fee, from its balance transaction.

Funding is confirmed by a webhook that names only the PaymentIntent; the charge
id (`latest_charge`) is what Stripe's balance lists, what a release transfer
needs as `source_transaction` and what a card dispute names, so it is stored
as soon as funding is confirmed. The charge's balance transaction carries the
fee Stripe took: it is real money leaving the platform, posted as a
`stripe_fee` transaction (stripe_fees <- platform_cash). Stripe never returns
that fee on a refund, so refunds need no fee posting of their own unless their
balance transaction says otherwise.

When Stripe can't be reached at confirmation time, `settle_due()` (a scheduled
job) fetches what is missing later; posting is idempotent by the balance
transaction id.
"""
from __future__ import annotations

import logging

from sqlalchemy import or_, select

from marketplace.extensions import db
from marketplace.payments import ledger
from marketplace.payments.gateway import BalanceTransaction, FundingCharge, GatewayError, get_gateway, uses_stripe
from marketplace.payments.ledger import CASH, STRIPE_FEES, Line
from marketplace.payments.models import Charge

log = logging.getLogger(__name__)
BATCH = 100
# A charge the business paid: the engagement's funding charge, or a duplicate or late one refunded in full
# (Stripe keeps the processing fee of those too).
PAID = ("succeeded", "duplicate", "late")


def post_fee(bt: BalanceTransaction, *, stripe_source: str, engagement_id: int | None, what: str) -> None:
    """Post a balance transaction's fee (a negative fee is Stripe returning one). Idempotent (flush only)."""
    if not bt.fee:
        return
    ledger.post(f"fee:{bt.id}", "stripe_fee", [Line(STRIPE_FEES, bt.fee), Line(CASH, -bt.fee)],
                currency=bt.currency, engagement_id=engagement_id, stripe_source=stripe_source,
                description=f"Stripe fee on {what}")


def record_funding_charge(charge: Charge, found: FundingCharge | None) -> None:
    """Store the charge id and post its fee once its balance transaction is known (flush only)."""
    if found is None:
        return
    if charge.external_id is None:
        charge.external_id = found.charge_id
    bt = found.balance_transaction
    if bt is not None and charge.balance_transaction_id is None and charge.external_id == found.charge_id:
        post_fee(bt, stripe_source=found.charge_id, engagement_id=charge.engagement_id,
                 what=f"the payment for engagement {charge.engagement_id}")
        charge.balance_transaction_id = bt.id
    db.session.flush()


def fetch_funding_charge(charge: Charge, payment_intent_id: str | None = None) -> FundingCharge | None:
    """Ask Stripe for the charge behind a Stripe payment; None when it can't say now (the job retries)."""
    payment_intent_id = payment_intent_id or charge.payment_intent_id
    if charge.provider != "stripe" or not payment_intent_id or not uses_stripe():
        return None
    try:
        return get_gateway().funding_charge(payment_intent_id)
    except GatewayError as error:
        log.warning("charge %s: Stripe charge details not available yet: %s", charge.id, error.message)
        return None


def settle_due() -> int:
    """Scheduled job: paid Stripe charges still missing their charge id or fee get them. Idempotent."""
    if not uses_stripe():
        return 0
    ids = db.session.scalars(
        select(Charge.id).where(Charge.provider == "stripe", Charge.status.in_(PAID),
                                Charge.payment_intent_id.is_not(None),
                                or_(Charge.external_id.is_(None), Charge.balance_transaction_id.is_(None)))
        .order_by(Charge.id).limit(BATCH)).all()
    done = 0
    for charge_id in ids:
        charge = db.session.get(Charge, charge_id)
        found = fetch_funding_charge(charge)
        if found is None:
            continue
        record_funding_charge(charge, found)
        db.session.commit()
        done += 1
    return done
