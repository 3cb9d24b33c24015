"""Sending recorded money movements to the gateway, after the decision has been committed.

This module and the views/jobs calling it own their transactions: each
movement is *claimed* (conditional UPDATE to `submitting`, committed), then
sent with its own idempotency key, then its outcome is recorded and posted
to the ledger (committed). A crash between the two leaves a `submitting` row
that the scheduled job resends with the same key after STALE_AFTER, which the
gateway answers with the original result instead of moving money again.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import or_, select, update

from marketplace.core.money import format_money
from marketplace.core.time import utcnow
from marketplace.engagements.models import Engagement
from marketplace.extensions import db
from marketplace.notifications.services import notify
from marketplace.payments import ledger
from marketplace.payments.gateway import Gateway, GatewayError, get_gateway
from marketplace.payments.ledger import CASH, DISPUTES, PAYABLE, REFUNDS, Line
from marketplace.payments.models import Charge, PayoutAccount, Refund, Transfer, TransferReversal

log = logging.getLogger(__name__)
STALE_AFTER = timedelta(minutes=10)
MAX_ATTEMPTS = 8


def _claim(model, row_id: int) -> bool:
    stale = utcnow() - STALE_AFTER
    result = db.session.execute(
        update(model).where(model.id == row_id, model.attempts < MAX_ATTEMPTS,
                            or_(model.status.in_(("pending", "failed")),
                                (model.status == "submitting") & (model.updated_at < stale)))
        .values(status="submitting", attempts=model.attempts + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount == 1


def _failed(model, row_id: int, error: Exception) -> None:
    db.session.rollback()
    db.session.execute(update(model).where(model.id == row_id, model.status == "submitting")
                       .values(status="failed", failure_message=str(getattr(error, "message", error))[:300],
                               updated_at=utcnow()).execution_options(synchronize_session=False))
    db.session.commit()


def record_transfer_paid(transfer: Transfer, external_id: str) -> bool:
    """Mark the transfer paid and post it (flush only). Idempotent: also used by `transfer.created`."""
    done = db.session.execute(update(Transfer).where(Transfer.id == transfer.id,
                                                     Transfer.status.in_(("submitting", "failed", "pending")))
                              .values(status="paid", external_id=external_id, paid_at=utcnow(), failure_message="",
                                      updated_at=utcnow()).execution_options(synchronize_session=False))
    if done.rowcount != 1:
        return False
    db.session.refresh(transfer)
    ledger.post(external_id, "transfer", [Line(PAYABLE, transfer.amount), Line(CASH, -transfer.amount)],
                currency=transfer.currency, engagement_id=transfer.engagement_id,
                description=f"Paid specialist for engagement {transfer.engagement_id}")
    engagement = db.session.get(Engagement, transfer.engagement_id)
    notify(transfer.freelancer_id, "payout", f"{format_money(transfer.amount, transfer.currency)} sent to your "
           "payout account", f"Payment for “{engagement.task.title}”.", "/earnings")
    return True


def record_refund_done(refund: Refund, external_id: str, status: str) -> bool:
    """Record the gateway's refund outcome (flush only); the ledger moves only once it succeeded."""
    if status == "succeeded":
        done = db.session.execute(update(Refund).where(Refund.id == refund.id, Refund.status != "succeeded")
                                  .values(status="succeeded", external_id=external_id, failure_message="",
                                          updated_at=utcnow()).execution_options(synchronize_session=False))
        if done.rowcount != 1:
            return False
        db.session.refresh(refund)
        ledger.post(external_id, "refund", [Line(REFUNDS, refund.amount), Line(CASH, -refund.amount)],
                    currency=refund.currency, engagement_id=refund.engagement_id,
                    description=f"Refunded business for engagement {refund.engagement_id}")
        engagement = db.session.get(Engagement, refund.engagement_id)
        notify(engagement.business_id, "payout_refund", f"{format_money(refund.amount, refund.currency)} refunded",
               f"Refund for “{engagement.task.title}”. Your bank may take a few days to show it.",
               f"/engagements/{engagement.id}")
        return True
    new_status = "failed" if status in ("failed", "canceled") else "processing"
    db.session.execute(update(Refund).where(Refund.id == refund.id, Refund.status != "succeeded")
                       .values(status=new_status, external_id=external_id, updated_at=utcnow())
                       .execution_options(synchronize_session=False))
    if new_status == "failed":
        log.error("refund %s failed at the gateway: operator attention needed", refund.id)
    return False


def execute_transfer(transfer_id: int, gateway: Gateway | None = None) -> str:
    gateway = gateway or get_gateway()
    if not _claim(Transfer, transfer_id):
        return "not due"
    transfer = db.session.get(Transfer, transfer_id)
    charge = db.session.scalar(select(Charge).where(Charge.engagement_id == transfer.engagement_id,
                                                    Charge.status == "succeeded").order_by(Charge.id).limit(1))
    try:
        if charge is not None and charge.external_id is None and charge.payment_intent_id:
            charge.external_id = gateway.charge_for_payment_intent(charge.payment_intent_id)
        external_id = gateway.transfer(transfer, source_transaction=charge.external_id if charge else None,
                                       transfer_group=f"eng_{transfer.engagement_id}")
    except GatewayError as error:
        _failed(Transfer, transfer_id, error)
        return f"failed: {error.message}"
    record_transfer_paid(transfer, external_id)
    db.session.commit()
    return "paid"


def execute_refund(refund_id: int, gateway: Gateway | None = None) -> str:
    gateway = gateway or get_gateway()
    if not _claim(Refund, refund_id):
        return "not due"
    refund = db.session.get(Refund, refund_id)
    try:
        external_id, status = gateway.refund(refund, db.session.get(Charge, refund.charge_id))
    except GatewayError as error:
        _failed(Refund, refund_id, error)
        return f"failed: {error.message}"
    record_refund_done(refund, external_id, status)
    db.session.commit()
    return status


def execute_reversal(reversal_id: int, gateway: Gateway | None = None) -> str:
    gateway = gateway or get_gateway()
    if not _claim(TransferReversal, reversal_id):
        return "not due"
    reversal = db.session.get(TransferReversal, reversal_id)
    try:
        external_id = gateway.reverse(reversal, reversal.transfer)
    except GatewayError as error:
        # Typically the specialist's balance is short: recorded and shown, retried by the job.
        _failed(TransferReversal, reversal_id, error)
        return f"failed: {error.message}"
    reversal.status, reversal.external_id = "succeeded", external_id
    db.session.execute(update(Transfer).where(Transfer.id == reversal.transfer_id)
                       .values(amount_reversed=Transfer.amount_reversed + reversal.amount)
                       .execution_options(synchronize_session=False))
    ledger.post(external_id, "transfer_reversal", [Line(CASH, reversal.amount), Line(DISPUTES, -reversal.amount)],
                currency=reversal.currency, engagement_id=reversal.engagement_id,
                description=f"Recovered from the specialist on engagement {reversal.engagement_id}")
    db.session.commit()
    return "succeeded"


def execute_for_engagement(engagement_id: int) -> None:
    """After a committed decision: send whatever it recorded (a failure stays recorded for the job)."""
    for model, run in ((Refund, execute_refund), (Transfer, execute_transfer),
                       (TransferReversal, execute_reversal)):
        ids = db.session.scalars(select(model.id).where(model.engagement_id == engagement_id,
                                                        model.status == "pending")).all()
        for row_id in ids:
            try:
                run(row_id)
            except Exception:  # never lose the page over it: the job retries
                db.session.rollback()
                log.exception("executing %s %s failed", model.__name__, row_id)


def promote_waiting_transfers(user_id: int) -> list[int]:
    """The specialist's payout account is ready: transfers waiting for it become due (flush only)."""
    account = db.session.scalar(select(PayoutAccount).where(PayoutAccount.user_id == user_id))
    if account is None or account.status != "ready":
        return []
    ids = db.session.scalars(select(Transfer.id).where(Transfer.freelancer_id == user_id,
                                                       Transfer.status == "awaiting_account")).all()
    if ids:
        db.session.execute(update(Transfer).where(Transfer.id.in_(ids), Transfer.status == "awaiting_account")
                           .values(status="pending", destination=account.external_id, updated_at=utcnow())
                           .execution_options(synchronize_session=False))
    return list(ids)


def process_due() -> int:
    """Scheduled job: promote transfers whose account became ready, (re)send every due movement."""
    ready_users = db.session.scalars(
        select(Transfer.freelancer_id).join(PayoutAccount, PayoutAccount.user_id == Transfer.freelancer_id)
        .where(Transfer.status == "awaiting_account", PayoutAccount.status == "ready").distinct()).all()
    for user_id in ready_users:
        promote_waiting_transfers(user_id)
    db.session.commit()
    handled = 0
    stale = utcnow() - STALE_AFTER
    for model, run in ((Refund, execute_refund), (Transfer, execute_transfer),
                       (TransferReversal, execute_reversal)):
        due = db.session.scalars(select(model.id).where(
            model.attempts < MAX_ATTEMPTS,
            or_(model.status.in_(("pending", "failed")),
                (model.status == "submitting") & (model.updated_at < stale))).order_by(model.id)).all()
        for row_id in due:
            if run(row_id) not in ("not due",):
                handled += 1
    return handled
