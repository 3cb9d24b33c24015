"""Stripe webhook events: each acted on exactly once, in the transaction of its effects.

`handle()` first inserts the event id under its UNIQUE constraint (in a
savepoint): a replay, or a parallel delivery that loses the race on the
unique index, is acknowledged with no effect. Events are triggers for the
state machine, whose conditional updates make an event for a state already
passed a no-op, so the order of delivery doesn't matter.
"""
from __future__ import annotations

import hashlib
import json
import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from marketplace.engagements import transitions
from marketplace.extensions import db
from marketplace.notifications.services import notify
from marketplace.payments import card_disputes, event_shape, off_session, settlement
from marketplace.payments.executor import record_refund_state, record_transfer_paid
from marketplace.payments.gateway import GatewayError, account_state_of, get_gateway, uses_stripe
from marketplace.payments.models import Charge, PayoutAccount, Refund, Transfer, WebhookEvent

log = logging.getLogger(__name__)


def receive(payload: bytes) -> tuple[str, dict | None]:
    """A verified delivery: (outcome, the event if it was usable). Flush only.

    The event's shape is checked once, here, before any handler reads it: an event the app can't use
    is recorded with the reason (under its id, or a digest of the body when even the id is unusable),
    so that Stripe's retries are acknowledged as duplicates, and never reaches a handler.
    """
    try:
        event = json.loads(payload)
    except ValueError:
        event = None
    try:
        event_shape.check(event, HANDLERS)
    except event_shape.Unusable as problem:
        return _record_unusable(payload, event, str(problem)), None
    return handle(event), event


def _record_unusable(payload: bytes, event, problem: str) -> str:
    event = event if isinstance(event, dict) else {}
    event_id, kind = event.get("id"), event.get("type")
    if not isinstance(event_id, str) or not event_shape.ID.fullmatch(event_id):
        event_id = "unusable_" + hashlib.sha256(payload).hexdigest()[:64]
    kind = kind if isinstance(kind, str) and event_shape.EVENT_TYPE.fullmatch(kind[:80]) else "unusable"
    outcome = f"rejected: {problem}"
    try:
        with db.session.begin_nested():
            db.session.add(WebhookEvent(event_id=event_id, type=kind[:80], outcome=outcome[:200]))
    except IntegrityError:
        return "duplicate"
    log.warning("webhook %s (%s) not usable: %s", event_id, kind, problem)
    return outcome


def handle(event: dict) -> str:
    """Apply one verified event (flush only). Returns the outcome, also stored with the event id."""
    event_id, kind = event.get("id"), event.get("type", "")
    if not event_id:
        return "ignored: no id"
    try:
        with db.session.begin_nested():
            record = WebhookEvent(event_id=event_id, type=kind[:80], account=event.get("account"))
            db.session.add(record)
    except IntegrityError:
        return "duplicate"
    obj = (event.get("data") or {}).get("object") or {}
    handler = HANDLERS.get(kind)
    outcome = handler(obj, event) if handler else "ignored: event type not used"
    record.outcome = outcome[:200]
    db.session.flush()
    if outcome.startswith("ignored"):
        log.info("webhook %s (%s): %s", event_id, kind, outcome)
    return outcome


def _charge_for(obj: dict) -> Charge | None:
    metadata = obj.get("metadata") or {}
    charge = None
    if str(metadata.get("charge_id", "")).isdigit():
        charge = db.session.get(Charge, int(metadata["charge_id"]))
    if charge is None and obj.get("object") == "checkout.session" and obj.get("id"):
        charge = db.session.scalar(select(Charge).where(Charge.checkout_session_id == obj["id"]))
    if charge is None:
        pi = obj.get("payment_intent") if obj.get("object") != "payment_intent" else obj.get("id")
        if pi:
            charge = db.session.scalar(select(Charge).where(Charge.payment_intent_id == pi))
    if charge is not None and str(metadata.get("engagement_id", charge.engagement_id)) != str(charge.engagement_id):
        return None  # metadata that contradicts our records: never act on it
    return charge


def _session_paid(obj: dict, event: dict) -> str:
    if obj.get("mode") == "setup":
        return _setup_completed(obj)
    if obj.get("payment_status") not in ("paid", "no_payment_required"):
        return "ignored: payment not completed yet (asynchronous method)"
    charge = _charge_for(obj)
    if charge is None:
        return "ignored: unknown engagement"
    if not obj.get("payment_intent"):
        return "ignored: no payment intent"
    # The charge id (what Stripe's balance, transfers and disputes name) and its fee, asked before
    # confirming so the funding is posted under it; if Stripe can't say now, the job fills it in.
    found = None
    if charge.status not in settlement.PAID or charge.external_id is None:
        found = settlement.fetch_funding_charge(charge, obj["payment_intent"])
    outcome = transitions.confirm_funding(charge, payment_intent_id=obj["payment_intent"],
                                          external_id=found.charge_id if found else None,
                                          amount=obj.get("amount_total"), currency=obj.get("currency"))
    db.session.refresh(charge)
    if charge.status in settlement.PAID and charge.payment_intent_id == obj["payment_intent"]:
        settlement.record_funding_charge(charge, found)
    return outcome


def _setup_completed(obj: dict) -> str:
    """A business saved a card through Checkout in setup mode (marketplace/payments/saved_methods.py)."""
    from marketplace.payments.saved_methods import record_setup
    user_id = str((obj.get("metadata") or {}).get("user_id", ""))
    if obj.get("status") != "complete" or not obj.get("setup_intent") or not user_id.isdigit():
        return "ignored: setup not completed"
    # If Stripe can't say which card now, the GatewayError fails the delivery (nothing is recorded) and
    # Stripe sends the event again later.
    return record_setup(int(user_id), obj["setup_intent"], obj.get("customer"))


def _session_failed(obj: dict, event: dict) -> str:
    charge = _charge_for(obj)
    if charge is None:
        return "ignored: unknown engagement"
    return transitions.fail_funding(charge, "Your payment could not be completed by your bank.")


def _session_expired(obj: dict, event: dict) -> str:
    charge = _charge_for(obj)
    if charge is None:
        return "ignored: unknown engagement"
    if charge.status == "pending":
        charge.status = "expired"
        db.session.flush()
        return "checkout expired"
    return "ignored: charge not pending"


def _intent_succeeded(obj: dict, event: dict) -> str:
    # Checkout payments are fulfilled by checkout.session.* events; this is for saved-card charges.
    return off_session.intent_succeeded(obj)


def _intent_failed(obj: dict, event: dict) -> str:
    outcome = off_session.intent_failed(obj)
    if outcome is not None:
        return outcome
    charge = _charge_for(obj)
    if charge is None:
        return "ignored: unknown engagement"
    error = obj.get("last_payment_error") or {}
    return transitions.fail_funding(charge, error.get("message") or "Your card was declined.")


def _refund_for(obj: dict) -> Refund | None:
    found = db.session.scalar(select(Refund).where(Refund.external_id == obj.get("id")))
    if found is not None:
        return found
    metadata = obj.get("metadata") or {}
    if str(metadata.get("refund_id", "")).isdigit():
        found = db.session.get(Refund, int(metadata["refund_id"]))
        # A refund row retried by an operator is a new Stripe refund: an event about an earlier attempt's
        # refund (another key) is not about the row's current one.
        if found is not None and metadata.get("attempt", found.idempotency_key) == found.idempotency_key:
            return found
    return None


def _refund_event(obj: dict, event: dict) -> str:
    """refund.created / refund.updated / refund.failed: the refund's state drives the row. Events are
    triggers: the refund is fetched from Stripe so that a late or replayed event can't move it back."""
    refund = _refund_for(obj)
    if refund is None or not obj.get("id"):
        return "ignored: unknown refund"
    status, reason = obj.get("status") or "", obj.get("failure_reason") or ""
    if event.get("type") == "refund.failed":
        status = "failed"
    if uses_stripe() and not str(obj["id"]).startswith("sbx_"):
        try:
            state = get_gateway().refund_state(obj["id"])
            status, reason = state.status, state.failure_reason or reason
        except GatewayError:
            pass  # the payload is all we have; the job checks refunds still pending later
    changed = record_refund_state(refund, obj["id"], status, reason)
    return f"refund {refund.status}" if changed else f"ignored: refund already {refund.status}"


def _charge_refunded(obj: dict, event: dict) -> str:
    # Since API version 2022-11-15 a Charge doesn't embed its refunds: the refund.* events carry them.
    return "ignored: refunds are followed through refund.* events"


def _transfer_created(obj: dict, event: dict) -> str:
    metadata = obj.get("metadata") or {}
    transfer = None
    if str(metadata.get("transfer_id", "")).isdigit():
        transfer = db.session.get(Transfer, int(metadata["transfer_id"]))
    if transfer is None:
        transfer = db.session.scalar(select(Transfer).where(Transfer.external_id == obj.get("id")))
    if transfer is None or transfer.amount != obj.get("amount"):
        return "ignored: unknown transfer"
    return "transfer recorded" if record_transfer_paid(transfer, obj["id"]) else "ignored: already recorded"


def _transfer_reversed(obj: dict, event: dict) -> str:
    # Reversals are started and posted by us (executor.execute_reversal); this confirms them.
    return "ignored: reversal confirmed"


def _dispute(obj: dict, event: dict) -> str:
    return card_disputes.record_event(obj, event["type"])


def _account_updated(obj: dict, event: dict) -> str:
    from marketplace.payments.services import account_for_event, apply_account_state
    account = account_for_event(obj.get("id"), obj.get("metadata") or {})
    if account is None:
        return "ignored: unknown account"
    promoted = apply_account_state(account, account_state_of(obj))
    return f"account {account.status}; {len(promoted)} transfers now due"


def _payout(obj: dict, event: dict) -> str:
    account = db.session.scalar(select(PayoutAccount).where(PayoutAccount.external_id == event.get("account")))
    if account is None:
        return "ignored: unknown account"
    if event["type"] == "payout.failed":
        notify(account.user_id, "payout_failed", "Your bank payout failed",
               (obj.get("failure_message") or "Stripe couldn't send money to your bank.") +
               " Check your payout details.", "/earnings")
    return f"payout {obj.get('status')}"


HANDLERS = {
    "checkout.session.completed": _session_paid,
    "checkout.session.async_payment_succeeded": _session_paid,
    "checkout.session.async_payment_failed": _session_failed,
    "checkout.session.expired": _session_expired,
    "payment_intent.succeeded": _intent_succeeded,
    "payment_intent.payment_failed": _intent_failed,
    "charge.refunded": _charge_refunded,
    "refund.created": _refund_event,
    "refund.updated": _refund_event,
    "refund.failed": _refund_event,
    "charge.dispute.created": _dispute,
    "charge.dispute.closed": _dispute,
    "charge.dispute.funds_withdrawn": _dispute,
    "charge.dispute.funds_reinstated": _dispute,
    "transfer.created": _transfer_created,
    "transfer.reversed": _transfer_reversed,
    "account.updated": _account_updated,
    "payout.paid": _payout,
    "payout.failed": _payout,
}
