"""Payment use cases that are not engagement transitions: the sandbox checkout, payout accounts,
transfer reversals, and the money pages' queries. Services flush; the caller commits."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from marketplace.accounts.models import User
from marketplace.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from marketplace.core.time import utcnow
from marketplace.engagements import transitions
from marketplace.engagements.models import Engagement, EngagementStatus as S
from marketplace.extensions import db
from marketplace.payments.executor import RETRYABLE_BY_OPERATOR, promote_waiting_transfers, restart
from marketplace.payments.gateway import AccountState
from marketplace.payments.keys import idempotency_key
from marketplace.payments.models import CardDispute, Charge, PayoutAccount, Refund, Transfer, TransferReversal

SANDBOX_DECLINE = "Your card was declined (test mode: simulated decline)."


# --- sandbox checkout ---------------------------------------------------------------------------------

def get_sandbox_charge(actor: User, charge_id: int) -> Charge:
    charge = db.session.get(Charge, charge_id)
    if charge is None or charge.provider != "sandbox":
        raise NotFound("We couldn't find that payment.")
    engagement = db.session.get(Engagement, charge.engagement_id)
    if actor.id != engagement.business_id:
        raise NotFound("We couldn't find that payment.")
    return charge


def sandbox_pay(actor: User, charge: Charge) -> str:
    engagement = db.session.get(Engagement, charge.engagement_id)
    if actor.id != engagement.business_id:
        raise Forbidden("Only the business that hired can pay for this engagement.")
    if charge.status in ("succeeded", "duplicate", "late"):
        return "already recorded"
    if charge.status != "pending":
        raise Conflict(CLOSED_ATTEMPT)
    if engagement.status != S.AWAITING_FUNDING:
        raise Conflict("This engagement no longer needs funding.")
    return transitions.confirm_funding(charge, payment_intent_id=f"sbx_pi_{charge.id}",
                                       external_id=f"sbx_ch_{charge.id}")


# A checkout page whose attempt was declined is closed: the business starts a new one.
CLOSED_ATTEMPT = "This checkout attempt was declined and is closed. Start a new payment from the engagement page."


def sandbox_decline(actor: User, charge: Charge) -> str:
    engagement = db.session.get(Engagement, charge.engagement_id)
    if actor.id != engagement.business_id:
        raise Forbidden("Only the business that hired can pay for this engagement.")
    if charge.status != "pending":
        raise Conflict(CLOSED_ATTEMPT)
    return transitions.fail_funding(charge, SANDBOX_DECLINE)


# --- payout accounts ---------------------------------------------------------------------------------

def _require_specialist(actor: User) -> None:
    if not actor.is_freelancer:
        raise Forbidden("Only specialists receive payouts.")


def payout_account_for(actor: User) -> PayoutAccount | None:
    return transitions.payout_account_of(actor.id)


def ensure_payout_account(actor: User, provider: str, external_id: str | None) -> PayoutAccount:
    """The specialist's payout account row, created once (the gateway's id is unique). With Stripe it is
    written (and committed) before the account is created there, with no id yet: see `attach_account_id`."""
    _require_specialist(actor)
    account = transitions.payout_account_of(actor.id)
    if account is None:
        account = PayoutAccount(user_id=actor.id, provider=provider, external_id=external_id, status="pending")
        db.session.add(account)
        db.session.flush()
        _sync_profile(actor.id, "pending")
    return account


def attach_account_id(account: PayoutAccount, external_id: str) -> None:
    """The gateway created the account; an `account.updated` may have attached the same id first."""
    if account.external_id is None:
        account.external_id = external_id
        db.session.flush()


def account_for_event(external_id: str | None, metadata: dict) -> PayoutAccount | None:
    """The payout account an `account.updated` is about, also before we stored its id (metadata user_id)."""
    if not external_id:
        return None
    account = db.session.scalar(select(PayoutAccount).where(PayoutAccount.external_id == external_id))
    user_id = str((metadata or {}).get("user_id", ""))
    if account is None and user_id.isdigit():
        account = db.session.scalar(select(PayoutAccount).where(PayoutAccount.user_id == int(user_id),
                                                                PayoutAccount.provider == "stripe",
                                                                PayoutAccount.external_id.is_(None)))
        if account is not None:
            attach_account_id(account, external_id)
    return account


def apply_account_state(account: PayoutAccount, state: AccountState) -> list[int]:
    """Store what the gateway says about the account; when it turns ready, waiting transfers become due."""
    account.status = "ready" if state.ready else ("restricted" if state.requirements else "pending")
    account.transfers_enabled = state.ready
    account.requirements = state.requirements
    account.updated_at = utcnow()
    db.session.flush()
    _sync_profile(account.user_id, account.status)
    return promote_waiting_transfers(account.user_id)


def sandbox_connect(actor: User) -> list[int]:
    """Test mode onboarding: the account is ready at once."""
    account = ensure_payout_account(actor, "sandbox", f"sbx_acct_{actor.id}")
    return apply_account_state(account, AccountState(ready=True))


def _sync_profile(user_id: int, status: str) -> None:
    # The profile shows the payout status to the specialist (profiles own the column; payments keep it true).
    from marketplace.profiles.models import FreelancerProfile
    db.session.execute(update(FreelancerProfile).where(FreelancerProfile.user_id == user_id)
                       .values(payout_status=status).execution_options(synchronize_session=False))


# --- reversals -------------------------------------------------------------------------------------

def reverse_transfer(operator: User, engagement: Engagement, amount: int, reason: str = "") -> TransferReversal:
    """Take money back from a specialist after a paid transfer (e.g. a lost card dispute)."""
    if not operator.is_operator:
        raise Forbidden("Only an operator can reverse a payout.")
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise ValidationFailed("The amount to reverse must be above zero (in minor units).", field="amount")
    transfer = db.session.scalar(select(Transfer).where(Transfer.engagement_id == engagement.id,
                                                        Transfer.status == "paid"))
    if transfer is None:
        raise Conflict("Nothing has been paid out on this engagement, so there is nothing to reverse.")
    pending = db.session.scalar(select(func.coalesce(func.sum(TransferReversal.amount), 0)).where(
        TransferReversal.transfer_id == transfer.id, TransferReversal.status != "succeeded")) or 0
    available = transfer.amount - transfer.amount_reversed - pending
    if amount > available:
        raise ValidationFailed(f"At most {available} can still be reversed on this payout.", field="amount")
    n = db.session.scalar(select(func.count()).select_from(TransferReversal)
                          .where(TransferReversal.transfer_id == transfer.id))
    reversal = TransferReversal(transfer_id=transfer.id, engagement_id=engagement.id, amount=amount,
                                currency=transfer.currency,
                                idempotency_key=idempotency_key("reversal", f"tr_{transfer.id}", n + 1))
    db.session.add(reversal)
    transitions._event(engagement, operator, engagement.status.value, engagement.status.value,
                       f"Operator reversed {amount} minor units of the payout" + (f": {reason}" if reason else ""))
    return reversal


# --- operator: retrying a payment ---------------------------------------------------------------------

def retry_payment(operator: User, payment: Transfer | Refund | TransferReversal) -> Transfer | Refund | TransferReversal:
    """An operator retries a payout, refund or reversal that was refused, failed or ran out of attempts,
    after fixing the cause: a new operation at the gateway under a new idempotency key. A payment still
    `retrying` is resent now under its key instead. Flush only; the caller commits, then sends it with
    `executor.execute_for_engagement(payment.engagement_id)` (or leaves it to the job)."""
    if not operator.is_operator:
        raise Forbidden("Only an operator can retry a payment.")
    transitions._require_active_user(operator)
    if not isinstance(payment, (Transfer, Refund, TransferReversal)):
        raise NotFound("We couldn't find that payment.")
    if payment.status not in RETRYABLE_BY_OPERATOR:
        raise Conflict("This payment is not waiting for a retry" + (
            " (it is waiting for the specialist's payout account)." if payment.status == "awaiting_account"
            else f" (it is {payment.status})."))
    engagement = db.session.get(Engagement, payment.engagement_id)
    what = {Transfer: "payout", Refund: "refund", TransferReversal: "payout reversal"}[type(payment)]
    if payment.status == "retrying":
        # Nothing definite happened yet (network, 429, 5xx): resend the same operation now, same key, since
        # the first request may have gone through.
        payment.next_attempt_at = utcnow()
        db.session.flush()
        transitions._event(engagement, operator, engagement.status.value, engagement.status.value,
                           f"Operator resent the {what} of {payment.amount} minor units")
        return payment
    destination = None
    if isinstance(payment, Transfer):
        account = transitions.payout_account_of(payment.freelancer_id)
        destination = account.external_id if account is not None and account.status == "ready" else None
    restart(payment, destination=destination)
    transitions._event(engagement, operator, engagement.status.value, engagement.status.value,
                       f"Operator retried the {what} of {payment.amount} minor units"
                       + ("; it waits for the specialist's payout account" if payment.status == "awaiting_account"
                          else ""))
    return payment


# --- money pages -------------------------------------------------------------------------------------

@dataclass
class MoneyRow:
    engagement: Engagement
    paid: int          # what the business paid (succeeded charges)
    refunded: int      # refunded to the business so far
    released: int      # released to the specialist, before the fee
    fee: int
    payout: int        # the specialist's share of what was released
    transferred: int   # actually sent to the specialist
    pending_payout: int
    awaiting_account: bool
    refund_problem: str = ""       # why a refund needs an operator (Stripe failed or refused it), if one does
    refund_problem_amount: int = 0


def _rows(engagements: list[Engagement]) -> list[MoneyRow]:
    ids = [e.id for e in engagements]
    if not ids:
        return []

    def sums(model, *where):
        return dict(db.session.execute(select(model.engagement_id, func.sum(model.amount))
                                       .where(model.engagement_id.in_(ids), *where)
                                       .group_by(model.engagement_id)).all())

    paid = sums(Charge, Charge.status.in_(("succeeded", "duplicate", "late")))  # refunds count the returns
    refunded = sums(Refund, Refund.status == "succeeded")
    transfers = {t.engagement_id: t for t in db.session.scalars(select(Transfer).where(Transfer.engagement_id.in_(ids)))}
    problems = {r.engagement_id: r for r in db.session.scalars(
        select(Refund).where(Refund.engagement_id.in_(ids), Refund.status.in_(("failed", "refused", "stuck"))))}
    from marketplace.core.money import split_fee
    rows = []
    for e in engagements:
        released = 0
        if e.status == S.COMPLETED:
            released = e.amount
        elif e.status == S.RESOLVED:
            released = e.resolution_release or 0
        fee, payout = split_fee(released, e.fee_bps)
        t = transfers.get(e.id)
        transferred = t.amount - t.amount_reversed if t is not None and t.status == "paid" else 0
        problem = problems.get(e.id)
        rows.append(MoneyRow(e, int(paid.get(e.id, 0)), int(refunded.get(e.id, 0)), released, fee, payout,
                             transferred, payout - transferred if released else 0,
                             t is not None and t.status == "awaiting_account",
                             (problem.failure_message or "the payment provider failed it.") if problem else "",
                             problem.amount if problem else 0))
    return rows


def business_payments(actor: User) -> list[MoneyRow]:
    if not actor.is_business:
        raise Forbidden("Payments are for businesses; specialists see their earnings.")
    engagements = db.session.scalars(
        select(Engagement).where(Engagement.business_id == actor.id, Engagement.funded_at.is_not(None))
        .order_by(Engagement.funded_at.desc(), Engagement.id.desc())
        .options(selectinload(Engagement.task), selectinload(Engagement.freelancer))).all()
    return _rows(list(engagements))


def freelancer_earnings(actor: User) -> list[MoneyRow]:
    if not actor.is_freelancer:
        raise Forbidden("Earnings are for specialists; businesses see their payments.")
    engagements = db.session.scalars(
        select(Engagement).where(Engagement.freelancer_id == actor.id, Engagement.funded_at.is_not(None))
        .order_by(Engagement.funded_at.desc(), Engagement.id.desc())
        .options(selectinload(Engagement.task), selectinload(Engagement.business))).all()
    return _rows(list(engagements))


def money_row(engagement: Engagement) -> MoneyRow:
    return _rows([engagement])[0]


def receipt_charge(actor: User, engagement: Engagement) -> Charge:
    if actor.id != engagement.business_id and not actor.is_operator:
        raise NotFound("We couldn't find that receipt.")
    charge = transitions.funded_charge(engagement)
    if charge is None:
        raise NotFound("There is no receipt yet: this engagement hasn't been paid.")
    return charge


def card_disputes(actor: User) -> list[CardDispute]:
    if not actor.is_operator:
        raise Forbidden("Only operators can see card disputes.")
    return list(db.session.scalars(select(CardDispute).order_by(CardDispute.created_at.desc())))
