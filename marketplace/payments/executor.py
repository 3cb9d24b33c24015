"""Sending recorded money movements to the gateway, after the decision has been committed.

This module and the views/jobs calling it own their transactions: each
movement is *claimed* (conditional UPDATE to `submitting`, committed), then
sent with its own idempotency key, then its outcome is recorded and posted
to the ledger (committed).

What a failure means decides what happens next, because Stripe stores the
first answer to an idempotency key (errors included) and replays it:

- retryable (network error, 429, 5xx): nothing definite happened. The row goes
  to `retrying` and the job resends the *same key* after an exponential backoff
  (BACKOFF_FIRST doubling up to BACKOFF_CEILING). A crash while `submitting`
  is resent the same way after STALE_AFTER. After MAX_ATTEMPTS sends the row
  is `stuck` and never sent again under that key.
- a refusal (any other 4xx): the answer for that key is final. The row is
  `refused` (a transfer whose account can't receive transfers goes back to
  `awaiting_account`); the next attempt is a new operation under a new key,
  started when the cause is fixed: the account becoming ready
  (`account.updated`) or an operator's retry (`services.retry_payment`).

Rows entering `refused`, `stuck` or (refunds Stripe failed) `failed` announce
themselves on `payment_needs_attention`; no state is terminal except success.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from blinker import Namespace
from flask import current_app
from sqlalchemy import and_, or_, select, update

from marketplace.core.money import format_money
from marketplace.core.observability import PAYMENT_FAILURES
from marketplace.core.time import utcnow
from marketplace.engagements.models import Engagement
from marketplace.extensions import db
from marketplace.notifications.services import notify
from marketplace.payments import ledger
from marketplace.payments.gateway import Gateway, GatewayError, get_gateway
from marketplace.payments.keys import next_attempt_key
from marketplace.payments.ledger import CASH, DISPUTES, PAYABLE, REFUNDS, Line
from marketplace.payments.models import Charge, PayoutAccount, Refund, Transfer, TransferReversal

log = logging.getLogger(__name__)
STALE_AFTER = timedelta(minutes=10)   # default of PAYMENTS_SUBMITTING_LEASE_SECONDS
MAX_ATTEMPTS = 8
BACKOFF_FIRST = timedelta(minutes=1)
BACKOFF_CEILING = timedelta(hours=1)
# A refund Stripe left `pending` for this long is fetched, in case its event was lost.
REFUND_CHECK_AFTER = timedelta(hours=1)
CAPABILITY_CODES = ("insufficient_capabilities_for_transfer", "account_invalid")

_signals = Namespace()
# Sent with the row (Transfer, Refund or TransferReversal) when it enters a state an operator must act on.
payment_needs_attention = _signals.signal("payment-needs-attention")
RETRYABLE_BY_OPERATOR = ("refused", "stuck", "failed", "retrying")


def backoff(attempts: int) -> timedelta:
    """Wait before resending after the `attempts`-th send failed: 1, 2, 4 ... minutes, at most an hour."""
    return min(BACKOFF_FIRST * 2 ** max(attempts - 1, 0), BACKOFF_CEILING)


def _due(model, now):
    """Rows the job may send now under their current key (never past the attempt limit)."""
    return and_(model.attempts < MAX_ATTEMPTS,
                or_(model.status == "pending",
                    (model.status == "retrying") & (model.next_attempt_at <= now),
                    (model.status == "submitting") & (model.updated_at < now - _stale_after())))


def _stale_after() -> timedelta:
    """A send left `submitting` by a process that died is taken again (same key) after this."""
    seconds = current_app.config.get("PAYMENTS_SUBMITTING_LEASE_SECONDS")
    return timedelta(seconds=seconds) if seconds else STALE_AFTER


def _claim(model, row_id: int) -> bool:
    now = utcnow()
    result = db.session.execute(
        update(model).where(model.id == row_id, _due(model, now))
        .values(status="submitting", attempts=model.attempts + 1, next_attempt_at=None, updated_at=now)
        .execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount == 1


def _failed(model, row_id: int, error: GatewayError) -> str:
    """Record a failed send (committed); returns the row's new status."""
    db.session.rollback()
    row = db.session.get(model, row_id)
    if row is None or row.status != "submitting":
        return row.status if row is not None else "gone"
    row.failure_message = str(getattr(error, "message", error))[:300]
    if error.retryable and row.attempts < MAX_ATTEMPTS:
        row.status, row.next_attempt_at = "retrying", utcnow() + backoff(row.attempts)
    elif error.retryable:
        row.status = "stuck"
    elif isinstance(row, Transfer) and error.code in CAPABILITY_CODES:
        _account_cannot_receive(row)
    else:
        row.status = "refused"
    row.updated_at = utcnow()
    PAYMENT_FAILURES.labels(kind=model.__tablename__, outcome=row.status).inc()
    db.session.flush()
    if row.status in ("stuck", "refused"):
        _tell_about_failure(row)
    db.session.commit()
    return row.status


def _account_cannot_receive(transfer: Transfer) -> None:
    """Stripe refused the transfer because the account can't receive transfers (yet): wait for it to be
    ready again (`account.updated`), and show the specialist what is missing."""
    account = db.session.scalar(select(PayoutAccount).where(PayoutAccount.user_id == transfer.freelancer_id))
    if account is not None and account.status == "ready":
        account.status, account.transfers_enabled = "pending", False
        from marketplace.payments.services import _sync_profile
        _sync_profile(account.user_id, "pending")
    transfer.status, transfer.destination = "awaiting_account", None
    notify(transfer.freelancer_id, "payout_account", "Stripe needs more from your payout account",
           f"We couldn't send you {format_money(transfer.amount, transfer.currency)}: "
           f"{transfer.failure_message} It is sent as soon as Stripe enables transfers to your account.",
           "/payments/payout-account")


def _tell_about_failure(row) -> None:
    log.error("%s %s is %s: %s (operator attention needed)", type(row).__name__, row.id, row.status,
              row.failure_message)
    if isinstance(row, Refund):
        engagement = db.session.get(Engagement, row.engagement_id)
        notify(engagement.business_id, "refund_failed",
               f"Your refund of {format_money(row.amount, row.currency)} didn't go through",
               f"Refund for “{engagement.task.title}”: {row.failure_message or 'the payment provider failed it'}. "
               "Our team has been alerted and will complete it or contact you.", f"/engagements/{engagement.id}")
    payment_needs_attention.send(row)


def restart(row, *, destination: str | None = None) -> None:
    """A new attempt of a movement whose last one was refused, failed or ran out of attempts: a new
    operation at the gateway, hence a new idempotency key (flush only)."""
    if row.attempts or row.external_id or row.status != "pending":
        row.idempotency_key = next_attempt_key(row.idempotency_key)
    row.status, row.attempts, row.next_attempt_at = "pending", 0, None
    if isinstance(row, Transfer):
        if destination is None:
            row.status, row.destination = "awaiting_account", None
        else:
            row.destination = destination
    if isinstance(row, Refund) and row.external_id:
        # The new attempt is a new Stripe refund; the failed one stays findable from the row's message.
        row.failure_message = f"Earlier attempt {row.external_id}: {row.failure_message}"[:300]
        row.external_id = None
    row.updated_at = utcnow()
    db.session.flush()


def record_transfer_paid(transfer: Transfer, external_id: str) -> bool:
    """Mark the transfer paid and post it (flush only). Idempotent: also used by `transfer.created`."""
    done = db.session.execute(update(Transfer).where(
        Transfer.id == transfer.id, Transfer.status.in_(("submitting", "retrying", "pending", "stuck", "refused")))
        .values(status="paid", external_id=external_id, paid_at=utcnow(), failure_message="",
                next_attempt_at=None, updated_at=utcnow()).execution_options(synchronize_session=False))
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


def record_refund_state(refund: Refund, external_id: str, status: str, failure_reason: str = "") -> bool:
    """Apply the gateway's view of a refund (flush only). The ledger moves when it succeeds (and back if
    Stripe fails it afterwards). Returns True when something changed."""
    if refund.external_id not in (None, external_id):
        return False  # an earlier attempt's refund: the row now follows a newer one
    if status == "succeeded":
        done = db.session.execute(update(Refund).where(Refund.id == refund.id, Refund.status != "succeeded")
                                  .values(status="succeeded", external_id=external_id, failure_message="",
                                          next_attempt_at=None, updated_at=utcnow())
                                  .execution_options(synchronize_session=False))
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
    if status in ("failed", "canceled"):
        if refund.status == "failed" and refund.external_id == external_id:
            return False
        if refund.status == "succeeded":
            # Stripe can fail a refund after reporting success: the money is back with the platform.
            ledger.post(f"{external_id}:failed", "refund_failed", [Line(CASH, refund.amount),
                                                                   Line(REFUNDS, -refund.amount)],
                        currency=refund.currency, engagement_id=refund.engagement_id,
                        description=f"Refund failed for engagement {refund.engagement_id}")
        refund.status, refund.external_id = "failed", external_id
        refund.failure_message = (f"Stripe failed the refund ({failure_reason.replace('_', ' ')})."
                                  if failure_reason else "Stripe failed the refund.")
        refund.updated_at = utcnow()
        db.session.flush()
        _tell_about_failure(refund)
        return True
    if refund.status in ("submitting", "pending", "retrying", "stuck", "refused") or refund.external_id is None:
        refund.status, refund.external_id, refund.updated_at = "processing", external_id, utcnow()
        db.session.flush()
        return True
    return False


def funding_charge(engagement_id: int) -> Charge | None:
    """The one charge that funded the engagement (see Charge)."""
    return db.session.scalar(select(Charge).where(Charge.engagement_id == engagement_id,
                                                  Charge.status == "succeeded"))


def _refuse(model, row_id: int, message: str) -> str:
    return _failed(model, row_id, GatewayError(message, retryable=False, code="platform_refused"))


def execute_transfer(transfer_id: int, gateway: Gateway | None = None) -> str:
    gateway = gateway or get_gateway()
    if not _claim(Transfer, transfer_id):
        return "not due"
    transfer = db.session.get(Transfer, transfer_id)
    charge = funding_charge(transfer.engagement_id)
    try:
        if charge is not None and charge.external_id is None and charge.payment_intent_id:
            charge.external_id = gateway.charge_for_payment_intent(charge.payment_intent_id)
        source = charge.external_id if charge else None
        settled = gateway.settlement_currency(source) if source else None
        if settled is not None and settled.upper() != transfer.currency.upper():
            return "refused: " + _refuse(Transfer, transfer_id, f"The payment settled in {settled.upper()}, "
                                         f"not {transfer.currency.upper()}: it can't fund this transfer.")
        external_id = gateway.transfer(transfer, source_transaction=source,
                                       transfer_group=f"eng_{transfer.engagement_id}")
    except GatewayError as error:
        return f"{_failed(Transfer, transfer_id, error)}: {error.message}"
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
        return f"{_failed(Refund, refund_id, error)}: {error.message}"
    record_refund_state(refund, external_id, status)
    db.session.commit()
    return refund.status


def execute_reversal(reversal_id: int, gateway: Gateway | None = None) -> str:
    gateway = gateway or get_gateway()
    if not _claim(TransferReversal, reversal_id):
        return "not due"
    reversal = db.session.get(TransferReversal, reversal_id)
    try:
        external_id = gateway.reverse(reversal, reversal.transfer)
    except GatewayError as error:
        # Typically the specialist's balance is short: refused, shown, retried by an operator.
        return f"{_failed(TransferReversal, reversal_id, error)}: {error.message}"
    reversal.status, reversal.external_id = "succeeded", external_id
    db.session.execute(update(Transfer).where(Transfer.id == reversal.transfer_id)
                       .values(amount_reversed=Transfer.amount_reversed + reversal.amount)
                       .execution_options(synchronize_session=False))
    ledger.post(external_id, "transfer_reversal", [Line(CASH, reversal.amount), Line(DISPUTES, -reversal.amount)],
                currency=reversal.currency, engagement_id=reversal.engagement_id,
                description=f"Recovered from the specialist on engagement {reversal.engagement_id}")
    db.session.commit()
    return "succeeded"


EXECUTORS = ((Refund, execute_refund), (Transfer, execute_transfer), (TransferReversal, execute_reversal))


def execute_for_engagement(engagement_id: int) -> None:
    """After a committed decision: send whatever it recorded and is due (a failure stays recorded for the job)."""
    for model, run in EXECUTORS:
        ids = db.session.scalars(select(model.id).where(model.engagement_id == engagement_id,
                                                        _due(model, utcnow()))).all()
        for row_id in ids:
            try:
                run(row_id)
            except Exception:  # never lose the page over it: the job retries
                db.session.rollback()
                log.exception("executing %s %s failed", model.__name__, row_id)


def promote_waiting_transfers(user_id: int, *, include_refused: bool = True) -> list[int]:
    """The specialist's payout account is ready: transfers waiting for it (and, when Stripe has just said
    so, those it refused before) become due, each as a new operation (flush only)."""
    account = db.session.scalar(select(PayoutAccount).where(PayoutAccount.user_id == user_id))
    if account is None or account.status != "ready" or not account.external_id:
        return []
    statuses = ("awaiting_account", "refused") if include_refused else ("awaiting_account",)
    waiting = db.session.scalars(select(Transfer).where(Transfer.freelancer_id == user_id,
                                                        Transfer.status.in_(statuses))
                                 .order_by(Transfer.id)).all()
    for transfer in waiting:
        restart(transfer, destination=account.external_id)
    return [t.id for t in waiting]


def check_processing_refunds(gateway: Gateway | None = None) -> int:
    """Refunds pending at Stripe for a while: fetch them, in case their event was lost."""
    gateway = gateway or get_gateway()
    cutoff = utcnow() - REFUND_CHECK_AFTER
    changed = 0
    for refund in db.session.scalars(select(Refund).where(Refund.status == "processing",
                                                          Refund.external_id.is_not(None),
                                                          Refund.updated_at < cutoff)).all():
        try:
            state = gateway.refund_state(refund.external_id)
        except GatewayError:
            continue
        if record_refund_state(refund, state.external_id, state.status, state.failure_reason):
            changed += 1
        else:
            refund.updated_at = utcnow()  # checked: look again in REFUND_CHECK_AFTER
        db.session.commit()
    return changed


def process_due() -> int:
    """Scheduled job: promote transfers whose account became ready, (re)send every due movement, and
    check refunds long pending at the gateway."""
    ready_users = db.session.scalars(
        select(Transfer.freelancer_id).join(PayoutAccount, PayoutAccount.user_id == Transfer.freelancer_id)
        .where(Transfer.status == "awaiting_account", PayoutAccount.status == "ready").distinct()).all()
    for user_id in ready_users:
        promote_waiting_transfers(user_id, include_refused=False)
    db.session.commit()
    handled = 0
    for model, run in EXECUTORS:
        due = db.session.scalars(select(model.id).where(_due(model, utcnow())).order_by(model.id)).all()
        for row_id in due:
            if run(row_id) != "not due":
                handled += 1
    handled += check_processing_refunds()
    return handled
