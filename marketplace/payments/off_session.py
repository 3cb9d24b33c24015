"""Charging a payable (an invoice or a bonus) to the business's saved card, without the business present.

Public interface (what weekly billing and bonuses call):

    from marketplace.payments.off_session import (ChargeOutcome, charge_off_session, has_saved_method,
                                                  saved_method_for, setup_url)

- `has_saved_method(user_id) -> bool`, `saved_method_for(user_id) -> BillingProfile | None`,
  `setup_url(user) -> str` (the billing page, where the card is saved or replaced);
  defined in marketplace/payments/saved_methods.py and re-exported here.
- `charge_off_session(payable) -> ChargeOutcome` (see its docstring for the transaction contract).

A successful charge funds the payable exactly as a completed Checkout payment does
(`transitions.confirm_funding`: the one funding charge, the ledger's funding
transaction, the payable -> active, the timeline, the notifications). A failed one
(declined, `authentication_required` under SCA, no saved card, the gateway
unreachable) leaves the payable awaiting funding with `payment_failed_at` set; the
business is emailed a link to pay it on-session (`recovery_path`), which goes
through the normal Checkout, and funding clears the mark. The specialist is told
only that payment is pending: why a card failed is the business's own affair.

The `payment_intent.succeeded` / `payment_intent.payment_failed` webhooks for
off-session intents land here too (`intent_succeeded`, `record_failure`); with the
synchronous answer they make two triggers for one outcome, and whichever comes
second does nothing.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from marketplace.core.money import format_money
from marketplace.core.time import utcnow
from marketplace.engagements import transitions
from marketplace.engagements.models import Engagement, EngagementStatus as S
from marketplace.extensions import db
from marketplace.notifications.services import notify
from marketplace.payments import settlement
from marketplace.payments.gateway import GatewayError, PaymentDeclined, get_gateway
from marketplace.payments.keys import idempotency_key
from marketplace.payments.models import BillingProfile, Charge
from marketplace.payments.saved_methods import has_saved_method, saved_method_for, setup_url

__all__ = ["ChargeOutcome", "charge_off_session", "has_saved_method", "saved_method_for", "setup_url",
           "recovery_path", "intent_succeeded", "record_failure"]

log = logging.getLogger(__name__)

NO_CARD = "There is no card on file to charge."
UNREACHABLE = "The payment service could not be reached to charge your card."
PENDING_NOTE = "Payment pending from the business"


@dataclass(frozen=True)
class ChargeOutcome:
    """What `charge_off_session` did.

    status: "succeeded" (the payable is funded, now or before), "failed" (declined, no card, gateway
    error: the payable is marked payment failed and the business asked to pay on-session),
    "requires_action" (the bank wants the business to authenticate, `authentication_required`: marked
    and asked the same way), or "pending" (nothing was charged or marked: the payment is processing at
    Stripe and its webhook settles it, or the payable can't be charged now: cancelled, its task taken
    down by moderation, a currency cards can't settle in; `message` says which).
    message: for logs and the business (never shown to the specialist).
    charge_id: our Charge row, when one was involved.
    """

    status: str
    message: str
    charge_id: int | None = None


def recovery_path(payable: Engagement) -> str:
    """The page where the business pays a payable whose off-session charge failed."""
    return f"/billing/payables/{payable.id}/pay"


def charge_off_session(payable: Engagement) -> ChargeOutcome:
    """Charge `payable` (awaiting funding) to its business's saved card, off-session.

    Transaction contract: this function COMMITS, like the payment executor. It first commits the
    caller's pending work together with the Charge intent row (so the intent exists before Stripe hears
    of it), then calls the gateway, then records the outcome (funding, or the failure mark and the
    emails) and commits again. Call it outside any transaction you may still roll back: create and
    commit the invoice or bonus, then call this once per payable. It raises nothing for a card or
    gateway problem (those are outcomes); a programming or database error propagates after a rollback.

    Safe to call again: on a funded payable it does nothing and returns "succeeded". A charge left
    `pending` (a crash or a concurrent runner between the two commits) is resent under its own
    idempotency key, so Stripe replays rather than charging twice; a failed attempt is followed by a
    new one under a new key (`offsession:eng_<id>:<attempt>`). Two runners racing on one payable end
    with one funding charge (the state machine's conditional updates).
    """
    try:
        return _charge(payable)
    except Exception:
        db.session.rollback()
        raise


def _charge(payable: Engagement, *, again: bool = True) -> ChargeOutcome:
    # One runner at a time decides what to send for this payable: the row lock (PostgreSQL) is held until
    # the intent row commits, so a second runner sees the first one's pending charge (and resends it under
    # its key) or the payable funded, and never starts a second attempt that would charge the card twice.
    db.session.execute(select(Engagement.id).where(Engagement.id == payable.id).with_for_update())
    db.session.refresh(payable)
    if payable.status != S.AWAITING_FUNDING:
        funded = transitions.funded_charge(payable)
        if funded is not None:
            db.session.commit()
            return ChargeOutcome("succeeded", "Already paid.", funded.id)
        db.session.commit()
        return ChargeOutcome("pending", f"Nothing to charge: this payable is {payable.status.value}.")
    gateway = get_gateway()
    refusal = transitions.funding_refusal(payable, gateway.name)
    if refusal:
        # Not the card's fault and not the business's to fix by paying: nothing is charged or marked.
        db.session.commit()
        return ChargeOutcome("pending", refusal)
    profile = saved_method_for(payable.business_id)
    if profile is None or profile.provider != gateway.name:
        outcome = _mark_failed(payable, None, NO_CARD, "no_saved_method", None)
        db.session.commit()
        return outcome
    charge = _open_charge(payable, gateway.name)
    if charge is None:
        # A concurrent runner recorded this attempt and has already finished it: look again.
        db.session.commit()
        if again:
            return _charge(payable, again=False)
        return ChargeOutcome("pending", "Another attempt to charge this payable is in progress.")
    db.session.commit()  # the intent exists before the gateway hears of it
    try:
        result = gateway.charge_off_session(charge, payable, profile)
    except PaymentDeclined as error:
        outcome = record_failure(charge, error.message, error.code or "card_declined",
                                 payment_intent_id=error.payment_intent_id)
        db.session.commit()
        return outcome
    except GatewayError as error:
        # The SDK already retried network errors, 429 and 5xx. If Stripe did charge after all, its
        # payment_intent.succeeded event funds the payable from this (failed) charge.
        outcome = record_failure(charge, UNREACHABLE if error.retryable else error.message,
                                 "gateway_error" if error.retryable else (error.code or "refused"))
        db.session.commit()
        return outcome
    if result.status == "succeeded":
        outcome = _record_success(charge, result.payment_intent_id, result.charge_id)
        db.session.commit()
        return outcome
    if result.status == "processing":
        _remember_intent(charge, result.payment_intent_id)
        db.session.commit()
        return ChargeOutcome("pending", "The payment is processing; its result arrives by webhook.", charge.id)
    outcome = record_failure(charge, "Your bank asked for authentication.", "authentication_required",
                             payment_intent_id=result.payment_intent_id)
    db.session.commit()
    return outcome


def _open_charge(payable: Engagement, provider: str) -> Charge | None:
    """The off-session charge to send: a pending one (resent under its key) or a new attempt. None when a
    concurrent runner recorded the same attempt and has already settled it."""
    def pending() -> Charge | None:
        return db.session.scalar(select(Charge).where(Charge.engagement_id == payable.id, Charge.off_session,
                                                      Charge.status == "pending", Charge.provider == provider,
                                                      Charge.amount == payable.amount)
                                 .order_by(Charge.id.desc()).limit(1))
    charge = pending()
    if charge is not None:
        return charge
    attempt = 1 + db.session.scalar(select(func.count()).select_from(Charge)
                                    .where(Charge.engagement_id == payable.id, Charge.off_session))
    charge = Charge(engagement_id=payable.id, provider=provider, amount=payable.amount, currency=payable.currency,
                    off_session=True, idempotency_key=idempotency_key("offsession", f"eng_{payable.id}", attempt))
    try:
        with db.session.begin_nested():
            db.session.add(charge)
    except IntegrityError:
        # Another runner recorded this attempt first: send theirs (same key, so Stripe replays).
        return pending()
    return charge


def _remember_intent(charge: Charge, payment_intent_id: str | None) -> None:
    if payment_intent_id and charge.payment_intent_id is None:
        db.session.execute(update(Charge).where(Charge.id == charge.id, Charge.payment_intent_id.is_(None))
                           .values(payment_intent_id=payment_intent_id).execution_options(synchronize_session=False))
        db.session.refresh(charge)


def _record_success(charge: Charge, payment_intent_id: str, charge_external_id: str | None) -> ChargeOutcome:
    found = settlement.fetch_funding_charge(charge, payment_intent_id)
    result = transitions.confirm_funding(charge, payment_intent_id=payment_intent_id,
                                         external_id=found.charge_id if found else charge_external_id)
    db.session.refresh(charge)
    if charge.status in settlement.PAID and charge.payment_intent_id == payment_intent_id:
        settlement.record_funding_charge(charge, found)
    if result in ("funded", "already recorded") and charge.status == "succeeded":
        return ChargeOutcome("succeeded", "Charged to the saved card.", charge.id)
    # Paid, but the payable no longer needed it: funded by another payment meanwhile ("duplicate") or
    # cancelled ("late"). This payment is refunded in full either way.
    return ChargeOutcome("succeeded" if charge.status == "duplicate" else "pending", result, charge.id)


def intent_succeeded(obj: dict) -> str:
    """Webhook `payment_intent.succeeded` for an off-session charge (flush only)."""
    charge = _charge_of_intent(obj)
    if charge is None:
        return "ignored: not an off-session charge of ours"
    if obj.get("status") not in (None, "succeeded"):
        return "ignored: intent not succeeded"
    found = settlement.fetch_funding_charge(charge, obj["id"])
    outcome = transitions.confirm_funding(charge, payment_intent_id=obj["id"],
                                          external_id=found.charge_id if found else obj.get("latest_charge"),
                                          amount=obj.get("amount"), currency=obj.get("currency"))
    db.session.refresh(charge)
    if charge.status in settlement.PAID and charge.payment_intent_id == obj["id"]:
        settlement.record_funding_charge(charge, found)
    return outcome


def intent_failed(obj: dict) -> str | None:
    """Webhook `payment_intent.payment_failed`: None when the intent isn't an off-session charge."""
    charge = _charge_of_intent(obj)
    if charge is None:
        return None
    error = obj.get("last_payment_error") or {}
    changed, _ = _fail(charge, error.get("message") or "Your card was declined.",
                       error.get("code") or "card_declined", obj.get("id"))
    return "off-session payment failed" if changed else "ignored: charge not pending"


def _charge_of_intent(obj: dict) -> Charge | None:
    metadata = obj.get("metadata") or {}
    charge = None
    if str(metadata.get("charge_id", "")).isdigit():
        charge = db.session.get(Charge, int(metadata["charge_id"]))
    if charge is None and obj.get("id"):
        charge = db.session.scalar(select(Charge).where(Charge.payment_intent_id == obj["id"]))
    if charge is None or not charge.off_session:
        return None
    if str(metadata.get("engagement_id", charge.engagement_id)) != str(charge.engagement_id):
        return None  # metadata that contradicts our records: never act on it
    if charge.payment_intent_id and charge.payment_intent_id != obj.get("id"):
        return None  # an event about another attempt's intent
    return charge


def record_failure(charge: Charge, message: str, code: str, *, payment_intent_id: str | None = None
                   ) -> ChargeOutcome:
    """An off-session charge failed: the charge `failed`, the payable marked, the business asked to pay
    on-session (email with the link), the specialist told payment is pending. Idempotent: only the
    call that moves the charge out of `pending` does anything (flush only)."""
    return _fail(charge, message, code, payment_intent_id)[1]


def _fail(charge: Charge, message: str, code: str, payment_intent_id: str | None) -> tuple[bool, ChargeOutcome]:
    status = "requires_action" if code == "authentication_required" else "failed"
    values = dict(status="failed", failure_message=message[:300], failure_code=code[:40], updated_at=utcnow())
    if payment_intent_id and charge.payment_intent_id is None:
        values["payment_intent_id"] = payment_intent_id
    moved = db.session.execute(update(Charge).where(Charge.id == charge.id, Charge.status == "pending")
                               .values(**values).execution_options(synchronize_session=False))
    db.session.refresh(charge)
    if moved.rowcount != 1:
        return False, ChargeOutcome("succeeded" if charge.status == "succeeded" else status,
                                    charge.failure_message or "Already recorded.", charge.id)
    payable = db.session.get(Engagement, charge.engagement_id)
    return True, _mark_failed(payable, charge, message, code, saved_method_for(payable.business_id))


def _mark_failed(payable: Engagement, charge: Charge | None, message: str, code: str,
                 profile: BillingProfile | None) -> ChargeOutcome:
    status = "requires_action" if code == "authentication_required" else "failed"
    db.session.refresh(payable)
    if payable.status != S.AWAITING_FUNDING:
        return ChargeOutcome(status, message, charge.id if charge else None)
    first = payable.payment_failed_at is None
    db.session.execute(update(Engagement).where(Engagement.id == payable.id, Engagement.payment_failed_at.is_(None))
                       .values(payment_failed_at=utcnow()).execution_options(synchronize_session=False))
    db.session.refresh(payable)
    if charge is None and not first:
        # No card, and the business was already asked: don't email again on every scheduled run.
        return ChargeOutcome(status, message, None)
    amount = format_money(payable.amount, payable.currency)
    card = f"your {profile.brand.title()} card ending {profile.last4}" if profile is not None else "your card"
    why = ("Your bank wants you to confirm this payment yourself." if status == "requires_action"
           else message if charge is not None else "You haven't saved a card for invoices and bonuses yet.")
    transitions._event(payable, None, payable.status.value, payable.status.value,
                       f"{PENDING_NOTE}: the charge to the business's card on file didn't go through")
    notify(payable.business_id, "funding_failed", f"Please pay {amount} for “{payable.title}”",
           f"We couldn't charge {card} for {payable.title} ({payable.task.title}). {why} "
           "Pay it on the page linked below; no hours or work are lost. You can also replace your card "
           "on your billing page.", recovery_path(payable))
    notify(payable.freelancer_id, "payment_pending", f"Payment pending from the business for “{payable.title}”",
           "The business has been asked to pay. Nothing is lost: it stays on the contract until it is paid.",
           f"/engagements/{payable.id}", email=False)
    return ChargeOutcome(status, message, charge.id if charge else None)
