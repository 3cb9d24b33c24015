"""The engagement state machine and the money that moves with it.

    awaiting_funding -> active -> delivered -> completed
    awaiting_funding | active -> cancelled          (after funding: full refund)
    active | delivered -> disputed -> resolved      (operator splits the held amount)
    delivered -> active                             (business requests changes)

Every transition checks the actor, the current state and the money, and
moves the status with a conditional UPDATE checked by its rowcount, so a
double click, two tabs or 20 threads produce exactly one transition on both
SQLite and PostgreSQL. In the same transaction it writes the timeline event,
posts the ledger transaction and records any money movement as an intent row
(`Transfer`, `Refund`) that `marketplace.payments.executor` sends to the
gateway after the commit. Functions only flush; the caller commits.

`actor=None` means the platform itself (webhooks, scheduled jobs).
"""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from marketplace.accounts.models import AccountStatus, User
from marketplace.core import events
from marketplace.core.errors import Conflict, Forbidden, ValidationFailed
from marketplace.core.money import format_money, split_fee
from marketplace.core.time import utcnow
from marketplace.engagements.models import (SETTLED_ENGAGEMENT_STATUSES, Engagement, EngagementEvent,
                                            EngagementStatus as S)
from marketplace.extensions import db
from marketplace.notifications.services import notify
from marketplace.payments import ledger
from marketplace.payments.keys import idempotency_key
from marketplace.payments.ledger import CASH, FEES, HELD, PAYABLE, REFUNDS, Line
from marketplace.payments.models import Charge, PayoutAccount, Refund, Transfer

NOTE_MAX = 2000
REASON_MAX = 1000
CHANGED = "This engagement has just changed. Please reload the page to see where it stands."


# --- helpers ----------------------------------------------------------------------------------

# The timeline note of a declined or failed payment; the business's own affair, hidden from the
# specialist (engagements/services.timeline_for).
PAYMENT_FAILED_NOTE = "Payment failed: "


def _link(engagement: Engagement) -> str:
    return f"/engagements/{engagement.id}"


def _money(engagement: Engagement, amount: int) -> str:
    return format_money(amount, engagement.currency)


def _publish(event_type: str, engagement: Engagement) -> None:
    """Tell both sides' subscribers (outgoing webhooks) in this transaction."""
    events.publish(event_type, [engagement.business_id, engagement.freelancer_id], {
        "engagement_id": engagement.id, "contract_id": engagement.contract_id, "task_id": engagement.task_id,
        "status": engagement.status.value, "amount": engagement.amount, "currency": engagement.currency})


def _require_active_user(actor: User) -> None:
    if actor.status != AccountStatus.ACTIVE:
        raise Forbidden("This account is suspended.")


def _require_business(actor: User, engagement: Engagement, doing: str) -> None:
    _require_active_user(actor)
    if actor.id != engagement.business_id:
        raise Forbidden(f"Only the business that hired for this engagement can {doing}.")


def _require_freelancer(actor: User, engagement: Engagement, doing: str) -> None:
    _require_active_user(actor)
    if actor.id != engagement.freelancer_id:
        raise Forbidden(f"Only the specialist on this engagement can {doing}.")


def _require_milestone(engagement: Engagement, message: str) -> None:
    if engagement.payable_kind.value != "milestone":
        raise Conflict(message)


def _require_state(engagement: Engagement, allowed: tuple[S, ...], message: str) -> None:
    if engagement.status not in allowed:
        raise Conflict(message)


def _clean_text(text: str | None, limit: int, what: str, required: bool = True) -> str:
    text = (text or "").strip()
    if required and not text:
        raise ValidationFailed(f"Please write a short {what}.", field="note")
    if len(text) > limit:
        raise ValidationFailed(f"The {what} can be at most {limit} characters.", field="note")
    return text


def _move(engagement: Engagement, allowed: tuple[S, ...], to: S, actor: User | None, note: str = "",
          **values) -> None:
    """Move the status if (and only if) it is still one of `allowed`; write the timeline event."""
    before = engagement.status
    result = db.session.execute(
        update(Engagement).where(Engagement.id == engagement.id, Engagement.status.in_(allowed))
        .values(status=to, updated_at=utcnow(), **values).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.refresh(engagement)
        raise Conflict(CHANGED)
    db.session.refresh(engagement)
    _event(engagement, actor, before.value if before in allowed else None, to.value, note)
    if to.value in SETTLED_ENGAGEMENT_STATUSES:
        # The contract ends with its last payable, in this same transaction.
        from marketplace.contracts.lifecycle import payable_settled
        payable_settled(engagement.contract_id)


def _event(engagement: Engagement, actor: User | None, from_status: str | None, to_status: str, note: str) -> None:
    db.session.add(EngagementEvent(engagement_id=engagement.id, actor_id=actor.id if actor else None,
                                   from_status=from_status, to_status=to_status, note=note[:500]))
    db.session.flush()
    db.session.expire(engagement, ["events"])


def _require_no_card_dispute(engagement: Engagement) -> None:
    """A card dispute freezes the money: nothing is released or refunded until it is settled."""
    from marketplace.payments.card_disputes import FROZEN, open_dispute_for
    if open_dispute_for(engagement.id) is not None:
        raise Conflict(FROZEN)


def funded_charge(engagement: Engagement) -> Charge | None:
    """The payment that funded the engagement: the only `succeeded` charge (a unique index guarantees it;
    a second payment is `duplicate` or `late`, whatever the order of ids or of events)."""
    return db.session.scalar(select(Charge).where(Charge.engagement_id == engagement.id,
                                                  Charge.status == "succeeded"))


def payout_account_of(user_id: int) -> PayoutAccount | None:
    return db.session.scalar(select(PayoutAccount).where(PayoutAccount.user_id == user_id))


def _new_transfer(engagement: Engagement, amount: int) -> Transfer:
    """The intent to pay the specialist; waits for a ready payout account if there is none."""
    account = payout_account_of(engagement.freelancer_id)
    ready = account is not None and account.status == "ready"
    transfer = Transfer(engagement_id=engagement.id, freelancer_id=engagement.freelancer_id, amount=amount,
                        currency=engagement.currency, idempotency_key=idempotency_key("transfer", f"eng_{engagement.id}"),
                        status="pending" if ready else "awaiting_account",
                        destination=account.external_id if ready else None)
    db.session.add(transfer)
    db.session.flush()
    return transfer


def _new_refund(engagement: Engagement, charge: Charge, amount: int, reason: str) -> Refund:
    n = db.session.scalar(select(func.count()).select_from(Refund).where(Refund.engagement_id == engagement.id))
    refund = Refund(engagement_id=engagement.id, charge_id=charge.id, amount=amount, currency=charge.currency,
                    idempotency_key=idempotency_key("refund", f"eng_{engagement.id}", n + 1), reason=reason[:200])
    db.session.add(refund)
    db.session.flush()
    return refund


def _release_lines(engagement: Engagement, release: int, refund: int) -> tuple[list[Line], int, int]:
    fee, payout = split_fee(release, engagement.fee_bps)
    lines = [Line(HELD, release + refund), Line(FEES, -fee), Line(PAYABLE, -payout), Line(REFUNDS, -refund)]
    return lines, fee, payout


# --- funding ------------------------------------------------------------------------------------

def funding_refusal(engagement: Engagement, provider: str) -> str | None:
    """Why this engagement can't be paid through `provider` now (whoever pays, on- or off-session), or None."""
    from marketplace.tasks.models import ModerationStatus, TaskStatus
    if engagement.task.status == TaskStatus.REMOVED or engagement.task.moderation_status == ModerationStatus.REJECTED:
        return "This task was taken down by our moderation team, so it can't be funded."
    settlement = current_app.config.get("STRIPE_SETTLEMENT_CURRENCY", "USD").upper()
    if provider == "stripe" and engagement.currency.upper() != settlement:
        # The payout's source_transaction must be in the currency the charge settles in.
        return (f"Card payments on this platform are settled in {settlement}, so an engagement priced in "
                f"{engagement.currency.upper()} can't be paid by card. Please contact support to have it "
                f"priced in {settlement}.")
    return None


def begin_funding(actor: User, engagement: Engagement, provider: str) -> Charge:
    """The business starts paying: record the charge intent (reusing an open one) before the gateway is called."""
    _require_business(actor, engagement, "fund it")
    _require_state(engagement, (S.AWAITING_FUNDING,), "This engagement is already funded or closed.")
    refusal = funding_refusal(engagement, provider)
    if refusal:
        raise Conflict(refusal)
    open_charge = db.session.scalar(select(Charge).where(Charge.engagement_id == engagement.id,
                                                         Charge.status == "pending", Charge.provider == provider)
                                    .order_by(Charge.id.desc()).limit(1))
    if open_charge is not None and open_charge.amount == engagement.amount:
        return open_charge
    n = db.session.scalar(select(func.count()).select_from(Charge).where(Charge.engagement_id == engagement.id))
    charge = Charge(engagement_id=engagement.id, provider=provider, amount=engagement.amount,
                    currency=engagement.currency,
                    idempotency_key=idempotency_key("checkout", f"eng_{engagement.id}", n + 1))
    try:
        with db.session.begin_nested():
            db.session.add(charge)
    except IntegrityError:  # a second tab recorded the same attempt first
        raise Conflict("A payment for this engagement is already being started. Please reload the page.")
    return charge


def confirm_funding(charge: Charge, *, payment_intent_id: str, external_id: str | None = None,
                    amount: int | None = None, currency: str | None = None) -> str:
    """The gateway says the business paid. Idempotent; returns what happened (for logs and webhooks)."""
    engagement = db.session.get(Engagement, charge.engagement_id)
    if amount is not None and (amount != charge.amount or (currency or "").upper() != charge.currency.upper()):
        return f"ignored: paid {amount} {currency} but charge {charge.id} is {charge.amount} {charge.currency}"
    # The charge that moves the engagement out of awaiting_funding is its funding charge (`succeeded`); any
    # other payment is a duplicate (another charge funded it) or late (cancelled meanwhile), refunded in full.
    db.session.refresh(engagement)
    stale = engagement.status == S.AWAITING_FUNDING and charge.amount != engagement.amount
    if engagement.status == S.AWAITING_FUNDING and not stale:
        role, note = "succeeded", ""
    elif stale:
        # A checkout started before the business split this milestone: it paid the old amount.
        role, note = "late", (f"Payment of {_money(engagement, charge.amount)} was for an earlier amount of this "
                              f"milestone (now {_money(engagement, engagement.amount)}): refunded in full.")
    elif funded_charge(engagement) is not None:
        role, note = "duplicate", "Paid twice: this second payment is refunded in full."
    else:
        role, note = "late", (f"Payment arrived after the engagement was "
                              f"{engagement.status.value.replace('_', ' ')}: refunded in full.")
    claimed = db.session.execute(
        update(Charge).where(Charge.id == charge.id, Charge.status.in_(("pending", "failed", "expired")))
        .values(status=role, payment_intent_id=payment_intent_id, external_id=external_id,
                failure_message=note, updated_at=utcnow()).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        return "already recorded"
    db.session.refresh(charge)
    ledger.post(payment_intent_id, "funding", [Line(CASH, charge.amount), Line(HELD, -charge.amount)],
                currency=charge.currency, engagement_id=engagement.id, stripe_source=charge.external_id,
                description=f"Business paid for engagement {engagement.id}")
    if role != "succeeded":
        _refund_now(engagement, charge, charge.amount, None, note)
        return ("refunded: the amount changed since the checkout started" if stale
                else "refunded: engagement no longer awaiting funding")
    _move(engagement, (S.AWAITING_FUNDING,), S.ACTIVE, None,
          f"Payment of {_money(engagement, charge.amount)} received and held by the platform",
          funded_at=utcnow(), payment_failed_at=None)
    title = engagement.task.title
    notify(engagement.freelancer_id, "funded", f"“{title}” is funded: you can start",
           f"The business paid {_money(engagement, engagement.amount)}. It is held by the platform and "
           f"released to you ({_money(engagement, engagement.payout_amount)} after the fee) when the "
           "business approves your delivery.", _link(engagement))
    notify(engagement.business_id, "funded", f"Payment received for “{title}”",
           f"We hold {_money(engagement, engagement.amount)} until you approve the work. Your receipt is "
           "on the engagement page.", _link(engagement))
    _publish("engagement.funded", engagement)
    return "funded"


def fail_funding(charge: Charge, message: str) -> str:
    """A declined or failed payment: the engagement stays awaiting funding and the business is told why."""
    failed = db.session.execute(
        update(Charge).where(Charge.id == charge.id, Charge.status == "pending")
        .values(status="failed", failure_message=message[:300], updated_at=utcnow())
        .execution_options(synchronize_session=False))
    if failed.rowcount != 1:
        return "ignored: charge not pending"
    db.session.refresh(charge)
    engagement = db.session.get(Engagement, charge.engagement_id)
    _event(engagement, None, engagement.status.value, engagement.status.value, f"{PAYMENT_FAILED_NOTE}{message}")
    notify(engagement.business_id, "funding_failed", f"Your payment for “{engagement.task.title}” didn't go through",
           f"{message} Nothing was charged. You can try again from the engagement page.", _link(engagement))
    return "funding failed"


# --- delivery and approval --------------------------------------------------------------------------

def deliver(actor: User, engagement: Engagement, note: str) -> None:
    _require_freelancer(actor, engagement, "deliver the work")
    _require_milestone(engagement, "An invoice or a bonus needs no delivery: it is released after its review window.")
    _require_state(engagement, (S.ACTIVE,), "Only an active (funded) engagement can be delivered."
                   if engagement.status != S.DELIVERED else "You have already delivered this work.")
    note = _clean_text(note, NOTE_MAX, "delivery note")
    now = utcnow()
    due = now + timedelta(days=current_app.config["AUTO_APPROVE_DAYS"])
    _move(engagement, (S.ACTIVE,), S.DELIVERED, actor, f"Delivered: {note}", delivered_at=now,
          delivery_note=note, auto_approve_at=due)
    notify(engagement.business_id, "delivered", f"{actor.full_name} delivered “{engagement.task.title}”",
           f"Review the delivery and approve it to release the payment, or request changes. Without an answer "
           f"it is approved automatically on {due.strftime('%d %b %Y')}.", _link(engagement))
    _publish("engagement.delivered", engagement)


def deliver_by_platform(engagement: Engagement, release_at, note: str) -> bool:
    """A weekly invoice or a bonus needs no delivery: once funded, the platform marks it delivered with
    its release time (the end of the review window), so the usual approval, dispute and auto-approval
    paths apply. Returns False if it was no longer active."""
    if engagement.status != S.ACTIVE:
        return False
    try:
        _move(engagement, (S.ACTIVE,), S.DELIVERED, None, note, delivered_at=utcnow(), auto_approve_at=release_at)
    except Conflict:
        return False
    return True


def request_changes(actor: User, engagement: Engagement, note: str) -> None:
    _require_business(actor, engagement, "request changes")
    _require_milestone(engagement, "An invoice or a bonus has no delivery to change; dispute it instead.")
    _require_state(engagement, (S.DELIVERED,), "You can request changes only after the work is delivered.")
    note = _clean_text(note, NOTE_MAX, "note on what to change")
    _move(engagement, (S.DELIVERED,), S.ACTIVE, actor, f"Changes requested: {note}", auto_approve_at=None)
    notify(engagement.freelancer_id, "delivery_changes", f"Changes requested on “{engagement.task.title}”",
           note, _link(engagement))


def approve(actor: User | None, engagement: Engagement, note: str | None = None) -> Transfer:
    """The business approves the delivery (actor=None: auto-approval or the end of an invoice's review
    window, described by `note`); the held money is released."""
    if actor is not None:
        _require_business(actor, engagement, "approve the work")
        _require_state(engagement, (S.DELIVERED,), "You have already approved this work."
                       if engagement.status == S.COMPLETED else
                       "There is no delivery to approve yet: the specialist hasn't delivered.")
    elif engagement.status != S.DELIVERED:
        raise Conflict(CHANGED)
    _require_no_card_dispute(engagement)
    _move(engagement, (S.DELIVERED,), S.COMPLETED, actor,
          note or ("Approved by the business" if actor else "Approved automatically: no answer within "
                   f"{current_app.config['AUTO_APPROVE_DAYS']} days of delivery"),
          completed_at=utcnow(), auto_approve_at=None)
    held = ledger.held_for(engagement)
    if held != engagement.amount:
        raise Conflict("The money held for this engagement doesn't match its amount; an operator will check it.")
    lines, fee, payout = _release_lines(engagement, engagement.amount, 0)
    ledger.post(f"release:eng_{engagement.id}", "release", lines, currency=engagement.currency,
                engagement_id=engagement.id, description=f"Released engagement {engagement.id}")
    transfer = _new_transfer(engagement, payout)
    _notify_release(engagement, payout, fee, transfer)
    _publish("engagement.approved", engagement)
    return transfer


def _notify_release(engagement: Engagement, payout: int, fee: int, transfer: Transfer | None) -> None:
    title = engagement.task.title
    if transfer is not None and transfer.status == "awaiting_account":
        body = (f"{_money(engagement, payout)} is yours (after the {_money(engagement, fee)} platform fee). "
                "Connect your payout account to receive it: it is sent as soon as the account is ready.")
    else:
        body = f"{_money(engagement, payout)} is on its way to your payout account (platform fee {_money(engagement, fee)})."
    notify(engagement.freelancer_id, "approved", f"“{title}” approved: payment released", body,
           "/earnings")
    notify(engagement.business_id, "approval", f"You approved “{title}”",
           "The payment was released to the specialist. Your receipt is on the engagement page.",
           _link(engagement))


def auto_approve_due(now=None) -> int:
    """Scheduled job: approve deliveries left unanswered past their due time (and release invoices whose
    review window closed). Idempotent. Uses the app's clock, which FAKE_NOW can pin in development."""
    from marketplace.core.time import app_now
    now = now or app_now()
    from marketplace.payments.card_disputes import frozen_engagement_ids
    due = db.session.scalars(select(Engagement).where(Engagement.status == S.DELIVERED,
                                                      Engagement.auto_approve_at <= now,
                                                      Engagement.id.not_in(frozen_engagement_ids()))
                             .order_by(Engagement.id)).all()
    done = 0
    for engagement in due:
        note = None
        if engagement.payable_kind.value == "invoice":
            note = "Released: the review window closed without a dispute"
        try:
            with db.session.begin_nested():
                approve(None, engagement, note)
            done += 1
        except Conflict:
            continue  # approved, disputed or changed by someone else meanwhile
    return done


# --- cancellation, disputes ---------------------------------------------------------------------------

def cancel(actor: User, engagement: Engagement, reason: str = "") -> Refund | None:
    """Before funding: either side, nothing to move. After funding: the specialist (stepping back) or an
    operator, with a full refund to the business. A business that wants its money back after funding
    opens a dispute instead, so the specialist is heard."""
    _require_active_user(actor)
    reason = _clean_text(reason, REASON_MAX, "reason", required=False)
    if actor.id not in (engagement.business_id, engagement.freelancer_id) and not actor.is_operator:
        raise Forbidden("Only the people on this engagement can cancel it.")
    if engagement.status == S.AWAITING_FUNDING:
        _move(engagement, (S.AWAITING_FUNDING,), S.CANCELLED, actor,
              "Cancelled before funding" + (f": {reason}" if reason else ""), auto_approve_at=None)
        _notify_other(actor, engagement, "engagement_cancelled", f"“{engagement.task.title}” was cancelled",
                      reason or "It was cancelled before any payment.")
        return None
    if engagement.status != S.ACTIVE:
        raise Conflict("Only an engagement that is awaiting funding or active can be cancelled. "
                       "Once work is delivered, approve it or open a dispute.")
    if actor.id == engagement.business_id:
        raise Forbidden("The engagement is funded: to get your money back, open a dispute so the "
                        "specialist can answer, or ask them to cancel.")
    _require_no_card_dispute(engagement)
    charge = funded_charge(engagement)
    _move(engagement, (S.ACTIVE,), S.CANCELLED, actor,
          f"Cancelled after funding, {_money(engagement, engagement.amount)} refunded to the business"
          + (f": {reason}" if reason else ""), auto_approve_at=None)
    refund = _refund_now(engagement, charge, engagement.amount, actor, reason or "Engagement cancelled")
    _notify_other(actor, engagement, "engagement_cancelled", f"“{engagement.task.title}” was cancelled",
                  f"{_money(engagement, engagement.amount)} is refunded to the business."
                  + (f" Reason: {reason}" if reason else ""))
    return refund


def _refund_now(engagement: Engagement, charge: Charge | None, amount: int, actor: User | None,
                reason: str) -> Refund:
    if charge is None or ledger.held_for(engagement) < amount:
        raise Conflict("There isn't enough money held for this engagement to refund that amount.")
    refund = _new_refund(engagement, charge, amount, reason)
    ledger.post(f"decision:{refund.idempotency_key}", "refund_decision",
                [Line(HELD, amount), Line(REFUNDS, -amount)], currency=engagement.currency,
                engagement_id=engagement.id, description=reason[:200])
    return refund


def _notify_other(actor: User | None, engagement: Engagement, kind: str, title: str, body: str) -> None:
    for user_id in (engagement.business_id, engagement.freelancer_id):
        if actor is None or user_id != actor.id:
            notify(user_id, kind, title, body, _link(engagement))


def open_dispute(actor: User, engagement: Engagement, reason: str, *, entries_attached: bool = False) -> None:
    """`entries_attached`: a weekly invoice is disputed only through its entries
    (marketplace/invoicing/services.dispute_entries), within its review window."""
    _require_active_user(actor)
    if engagement.payable_kind.value == "invoice" and not entries_attached:
        raise Conflict("Dispute a weekly invoice from its invoice page, choosing the entries in question.")
    if actor.id not in (engagement.business_id, engagement.freelancer_id):
        raise Forbidden("Only the business or the specialist on this engagement can open a dispute.")
    _require_state(engagement, (S.ACTIVE, S.DELIVERED), "A dispute can be opened only while the engagement is "
                   "active or delivered." if engagement.status != S.DISPUTED else "A dispute is already open.")
    reason = _clean_text(reason, REASON_MAX, "description of the problem")
    _move(engagement, (S.ACTIVE, S.DELIVERED), S.DISPUTED, actor, f"Dispute opened by {actor.full_name}: {reason}",
          dispute_reason=reason, auto_approve_at=None)
    _notify_other(actor, engagement, "dispute", f"A dispute was opened on “{engagement.task.title}”",
                  f"{actor.full_name} wrote: {reason}\nThe payment stays held until an operator resolves it.")
    _publish("engagement.disputed", engagement)


def resolve_dispute(operator: User, engagement: Engagement, refund_amount: int, release_amount: int
                    ) -> tuple[Refund | None, Transfer | None]:
    """An operator splits the held amount exactly: refund to the business + release to the specialist."""
    _require_active_user(operator)
    if not operator.is_operator:
        raise Forbidden("Only an operator can resolve a dispute.")
    for name, value in (("refund", refund_amount), ("release", release_amount)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValidationFailed(f"The {name} amount must be zero or more (in minor units).", field=name)
    _require_state(engagement, (S.DISPUTED,), "This dispute has already been resolved."
                   if engagement.status == S.RESOLVED else "Only a disputed engagement can be resolved.")
    _require_no_card_dispute(engagement)
    held = ledger.held_for(engagement)
    if refund_amount + release_amount != held:
        raise ValidationFailed(f"Refund and release must add up to exactly the {_money(engagement, held)} held "
                               f"(they add up to {_money(engagement, refund_amount + release_amount)}).",
                               field="refund")
    _move(engagement, (S.DISPUTED,), S.RESOLVED, operator,
          f"Resolved by an operator: {_money(engagement, refund_amount)} refunded to the business, "
          f"{_money(engagement, release_amount)} released to the specialist",
          resolution_refund=refund_amount, resolution_release=release_amount, completed_at=utcnow())
    lines, fee, payout = _release_lines(engagement, release_amount, refund_amount)
    # One ledger transaction for the whole split; the gateway executes its two halves after the commit.
    ledger.post(f"resolution:eng_{engagement.id}", "dispute_resolution", lines, currency=engagement.currency,
                engagement_id=engagement.id, description=f"Dispute on engagement {engagement.id} resolved")
    refund = None
    if refund_amount:
        refund = _new_refund(engagement, funded_charge(engagement), refund_amount, "Dispute resolution")
    transfer = _new_transfer(engagement, payout) if payout else None
    _notify_other(None, engagement, "dispute_resolved", f"The dispute on “{engagement.task.title}” is resolved",
                  f"{_money(engagement, refund_amount)} goes back to the business and "
                  f"{_money(engagement, payout)} to the specialist (after a {_money(engagement, fee)} fee).")
    return refund, transfer
