"""Bids and invitations: who may bid, placing/editing/withdrawing, the business's review.

The database backs the rules: a partial unique index allows one live bid per
freelancer and task, and status changes are conditional UPDATEs checked by
rowcount, so double clicks and parallel tabs cannot apply a change twice.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import BigInteger, case, cast, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from marketplace.accounts.models import AccountStatus, Role, User
from marketplace.bidding.models import Bid, BidStatus, Invitation, InvitationStatus
from marketplace.accounts.confirmation import confirmation_refusal, require_confirmed_email
from marketplace.core.text import excerpt
from marketplace.core import events
from marketplace.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from marketplace.core.money import format_money, split_fee
from marketplace.core.time import utcnow
from marketplace.extensions import db
from marketplace.notifications.services import notify
from marketplace.tasks.models import HiringMode, ModerationStatus, Pricing, Task, TaskStatus

MAX_COVER_NOTE = 5000


# --- money shown before a bid is sent ----------------------------------------------------

@dataclass(frozen=True)
class BidQuote:
    total: int     # what the business pays
    fee: int       # platform fee, taken from the freelancer's side
    payout: int    # what the freelancer receives
    fee_bps: int


def bid_total(task: Task, amount: int, estimated_hours: int | None) -> int:
    if task.pricing == Pricing.HOURLY:
        return amount * (estimated_hours or 0)
    return amount


def quote(task: Task, amount: int, estimated_hours: int | None) -> BidQuote:
    fee_bps = current_app.config["PLATFORM_FEE_BPS"]
    total = bid_total(task, amount, estimated_hours)
    fee, payout = split_fee(total, fee_bps)
    return BidQuote(total=total, fee=fee, payout=payout, fee_bps=fee_bps)


# --- predicates -----------------------------------------------------------------------------

def invitation_for(task_id: int, freelancer_id: int) -> Invitation | None:
    return db.session.scalar(select(Invitation).where(Invitation.task_id == task_id,
                                                      Invitation.freelancer_id == freelancer_id))


def live_bid_of(task_id: int, freelancer_id: int) -> Bid | None:
    return db.session.scalar(select(Bid).where(Bid.task_id == task_id, Bid.freelancer_id == freelancer_id,
                                               Bid.status.in_((BidStatus.PENDING, BidStatus.ACCEPTED))))


def bid_refusal(user: User | None, task: Task) -> str | None:
    """Why `user` may not bid on `task` now, or None when they may."""
    if user is None or not getattr(user, "is_authenticated", False):
        return "Log in as a specialist to send a proposal."
    if not user.is_freelancer:
        return "Only specialists can send proposals."
    if user.status != AccountStatus.ACTIVE:
        return "This account is suspended."
    if user.id == task.business_id:
        return "You can't bid on your own task."
    unconfirmed = confirmation_refusal(user, "send proposals")
    if unconfirmed:
        return unconfirmed
    if (task.status != TaskStatus.OPEN or not task.is_visible_publicly
            or task.business.status != AccountStatus.ACTIVE):
        return "This task is not taking proposals."
    if task.filled_seats >= task.seats:
        return "All seats on this task are filled."
    if task.hiring_mode != HiringMode.OPEN:
        invitation = invitation_for(task.id, user.id)
        if invitation is None or invitation.status == InvitationStatus.DECLINED:
            return "This task takes proposals by invitation only."
    return None


def can_bid(user: User | None, task: Task) -> bool:
    return bid_refusal(user, task) is None


# --- the freelancer's side -------------------------------------------------------------------

def _validate_terms(task: Task, amount: int, estimated_hours: int | None, cover_note: str,
                    availability_note: str) -> None:
    cfg = current_app.config
    if amount is None or amount <= 0:
        raise ValidationFailed("Enter an amount above zero.", field="amount")
    limit = cfg["MAX_HOURLY_RATE"] if task.pricing == Pricing.HOURLY else cfg["MAX_BID_AMOUNT"]
    if amount > limit:
        raise ValidationFailed(f"The amount can be at most {format_money(limit, task.currency)}.", field="amount")
    if task.pricing == Pricing.HOURLY:
        if not estimated_hours or not 1 <= estimated_hours <= cfg["MAX_ESTIMATED_HOURS"]:
            raise ValidationFailed(f"Estimate between 1 and {cfg['MAX_ESTIMATED_HOURS']} hours.",
                                   field="estimated_hours")
        if amount * estimated_hours > cfg["MAX_BID_AMOUNT"]:
            raise ValidationFailed("Rate × hours is above the largest amount we can hold.", field="amount")
    elif estimated_hours is not None and not 1 <= estimated_hours <= cfg["MAX_ESTIMATED_HOURS"]:
        raise ValidationFailed(f"Estimate between 1 and {cfg['MAX_ESTIMATED_HOURS']} hours.",
                               field="estimated_hours")
    if not cover_note.strip():
        raise ValidationFailed("Tell the business why you're a good fit.", field="cover_note")
    if len(cover_note) > MAX_COVER_NOTE:
        raise ValidationFailed(f"Keep the cover note under {MAX_COVER_NOTE} characters.", field="cover_note")
    if len(availability_note) > 300:
        raise ValidationFailed("Keep the availability note under 300 characters.", field="availability_note")


def place_bid(actor: User, task: Task, *, amount: int, estimated_hours: int | None, cover_note: str,
              availability_note: str = "") -> Bid:
    require_confirmed_email(actor, "send proposals")
    refusal = bid_refusal(actor, task)
    if refusal:
        raise Conflict(refusal) if actor.is_freelancer else Forbidden(refusal)
    if live_bid_of(task.id, actor.id) is not None:
        raise Conflict("You already have a proposal on this task. Edit it instead.")
    _validate_terms(task, amount, estimated_hours, cover_note, availability_note)
    bid = Bid(task_id=task.id, freelancer_id=actor.id, amount=amount, estimated_hours=estimated_hours,
              cover_note=cover_note.strip(), availability_note=availability_note.strip(),
              status=BidStatus.PENDING)
    try:
        with db.session.begin_nested():
            db.session.add(bid)
            db.session.flush()
    except IntegrityError:
        # A parallel request placed the same freelancer's bid first; the unique index decided.
        raise Conflict("You already have a proposal on this task. Edit it instead.")
    from marketplace.moderation.holds import hold
    from marketplace.moderation.screening import screen_bid
    reasons = screen_bid(bid)
    if reasons:
        # The business hears about it (and the thread opens) only when an operator releases it.
        hold("bid", bid, actor.id, reasons)
    else:
        announce_bid(bid)
    return bid


def announce_bid(bid: Bid) -> None:
    """Open the conversation and tell the business about a (visible) new proposal."""
    from marketplace.messaging.services import get_or_create_thread
    task = bid.task
    get_or_create_thread(task, bid.freelancer_id)
    total = bid_total(task, bid.amount, bid.estimated_hours)
    notify(task.business_id, "new_bid", f"New proposal from {bid.freelancer.full_name} on “{task.title}”",
           f"{format_money(total, task.currency)} total. {excerpt(bid.cover_note, 200)}", f"/tasks/{task.id}#bid-{bid.id}")
    events.publish("proposal.received", [task.business_id],
                   {"task_id": task.id, "proposal_id": bid.id, "specialist_id": bid.freelancer_id,
                    "amount": bid.amount, "estimated_hours": bid.estimated_hours, "currency": task.currency})


def get_bid_for(actor: User, bid_id: int) -> Bid:
    """A bid the actor may see: its freelancer or the task's business. Anyone else: not found."""
    bid = db.session.scalar(select(Bid).where(Bid.id == bid_id)
                            .options(selectinload(Bid.task), selectinload(Bid.freelancer)))
    if bid is None or actor.id not in (bid.freelancer_id, bid.task.business_id):
        raise NotFound("We couldn't find that proposal.")
    if actor.id != bid.freelancer_id and bid.moderation_status != ModerationStatus.APPROVED:
        raise NotFound("We couldn't find that proposal.")   # held or rejected: only its author sees it
    return bid


def _require_bidder(actor: User, bid: Bid) -> None:
    if actor.id != bid.freelancer_id:
        raise Forbidden("Only the specialist who sent this proposal can change it.")


def _require_task_owner(actor: User, bid: Bid) -> None:
    if actor.id != bid.task.business_id:
        raise Forbidden("Only the business that posted this task can do that.")
    if actor.status != AccountStatus.ACTIVE:
        raise Forbidden("This account is suspended.")


def _set_status(bid: Bid, to: BidStatus, message: str, **values) -> None:
    """Pending -> `to`, applied only if the bid is still pending (double clicks, two tabs)."""
    changed = db.session.execute(update(Bid).where(Bid.id == bid.id, Bid.status == BidStatus.PENDING)
                                 .values(status=to, updated_at=utcnow(), **values)
                                 .execution_options(synchronize_session=False))
    if changed.rowcount != 1:
        raise Conflict(message)
    db.session.refresh(bid)


def edit_bid(actor: User, bid: Bid, *, amount: int, estimated_hours: int | None, cover_note: str,
             availability_note: str = "") -> None:
    _require_bidder(actor, bid)
    if bid.status != BidStatus.PENDING:
        raise Conflict("Only a pending proposal can be edited.")
    if bid.task.status != TaskStatus.OPEN:
        raise Conflict("This task is no longer taking proposals.")
    _validate_terms(bid.task, amount, estimated_hours, cover_note, availability_note)
    _set_status(bid, BidStatus.PENDING, "This proposal was just answered and can no longer be edited.",
                amount=amount, estimated_hours=estimated_hours, cover_note=cover_note.strip(),
                availability_note=availability_note.strip())
    from marketplace.moderation.holds import hold
    from marketplace.moderation.screening import screen_bid
    reasons = screen_bid(bid)
    if reasons:
        hold("bid", bid, actor.id, reasons)
    if bid.moderation_status != ModerationStatus.APPROVED:
        return   # held (now or before): the business doesn't see it yet
    notify(bid.task.business_id, "bid_edited", f"{actor.full_name} updated their proposal on “{bid.task.title}”",
           f"New total: {format_money(bid_total(bid.task, amount, estimated_hours), bid.task.currency)}.",
           f"/tasks/{bid.task_id}#bid-{bid.id}")


def withdraw_bid(actor: User, bid: Bid) -> None:
    _require_bidder(actor, bid)
    _set_status(bid, BidStatus.WITHDRAWN, "Only a pending proposal can be withdrawn.")


def shortlist_bid(actor: User, bid: Bid, shortlisted: bool = True) -> None:
    _require_task_owner(actor, bid)
    if bid.status != BidStatus.PENDING:
        raise Conflict("Only a pending proposal can be shortlisted.")
    bid.shortlisted = shortlisted
    db.session.flush()


def decline_bid(actor: User, bid: Bid, note: str = "") -> None:
    _require_task_owner(actor, bid)
    if len(note) > 500:
        raise ValidationFailed("Keep the note under 500 characters.", field="note")
    _set_status(bid, BidStatus.DECLINED, "This proposal is no longer pending.", decline_note=note.strip() or None)
    notify(bid.freelancer_id, "bid_declined", f"Your proposal on “{bid.task.title}” was declined",
           note.strip() or "The business chose other proposals this time. Thank you for applying.",
           f"/tasks/{bid.task_id}")


def decline_pending_bids(task: Task, reason: str) -> int:
    """Decline every pending bid on the task with a polite notice. Returns how many."""
    declined = db.session.execute(
        update(Bid).where(Bid.task_id == task.id, Bid.status == BidStatus.PENDING)
        .values(status=BidStatus.DECLINED, decline_note=reason, updated_at=utcnow())
        .returning(Bid.freelancer_id).execution_options(synchronize_session=False)).scalars().all()
    for freelancer_id in declined:
        notify(freelancer_id, "bid_declined", f"“{task.title}” is no longer hiring",
               f"{reason} Thank you for your proposal — there will be other tasks that fit you.",
               f"/tasks/{task.id}")
    db.session.expire_all()
    return len(declined)


# --- the business's side ---------------------------------------------------------------

PROPOSALS_PER_PAGE = 20


def _owner_bids(actor: User, task: Task):
    """The task's proposals as its owner sees them, in order: hired, then pending, then declined;
    shortlisted first; cheapest (bid_total), earliest. Anyone but the owner: Forbidden."""
    if actor.id != task.business_id:
        raise Forbidden("Only the business that posted this task can see its proposals.")
    status_order = case({BidStatus.ACCEPTED: 0, BidStatus.PENDING: 1, BidStatus.DECLINED: 2}, value=Bid.status,
                        else_=3)
    total = (cast(Bid.amount, BigInteger) * func.coalesce(Bid.estimated_hours, 0)
             if task.pricing == Pricing.HOURLY else Bid.amount)
    return (select(Bid).where(Bid.task_id == task.id, Bid.status != BidStatus.WITHDRAWN,
                              Bid.moderation_status == ModerationStatus.APPROVED)
            .order_by(status_order, Bid.shortlisted.desc(), total, Bid.created_at, Bid.id)
            .options(selectinload(Bid.freelancer)))


def bids_for_task(actor: User, task: Task) -> list[Bid]:
    """Every proposal on the task, for its owner, in the owner's order (_owner_bids)."""
    return list(db.session.scalars(_owner_bids(actor, task)))


def proposal_page(actor: User, task: Task, page: int, per_page: int = PROPOSALS_PER_PAGE):
    """One page of the owner's proposals (a Flask-SQLAlchemy Pagination); a page past the last
    gives the last page."""
    statement = _owner_bids(actor, task)
    result = db.paginate(statement, page=max(page, 1), per_page=per_page, error_out=False)
    if result.pages and result.page > result.pages:
        result = db.paginate(statement, page=result.pages, per_page=per_page, error_out=False)
    return result


def bids_of(actor: User) -> list[Bid]:
    if not actor.is_freelancer:
        raise Forbidden("Only specialists send proposals.")
    return list(db.session.scalars(select(Bid).where(Bid.freelancer_id == actor.id)
                                   .order_by(Bid.created_at.desc(), Bid.id.desc())
                                   .options(selectinload(Bid.task))))


# --- invitations -----------------------------------------------------------------------

def invite(actor: User, task: Task, freelancer_id: int, message: str = "", *, automatic: bool = False) -> Invitation:
    if actor.id != task.business_id:
        raise Forbidden("Only the business that posted this task can invite specialists to it.")
    if not automatic:
        require_confirmed_email(actor, "invite specialists")
    if task.status != TaskStatus.OPEN or not task.is_visible_publicly:
        raise Conflict("Publish the task before inviting specialists.")
    if task.filled_seats >= task.seats:
        raise Conflict("All seats on this task are filled.")
    if len(message) > 2000:
        raise ValidationFailed("Keep the message under 2,000 characters.", field="message")
    freelancer = db.session.get(User, freelancer_id)
    if freelancer is None or freelancer.role != Role.FREELANCER or freelancer.status != AccountStatus.ACTIVE:
        raise NotFound("We couldn't find that specialist.")
    if invitation_for(task.id, freelancer_id) is not None:
        raise Conflict(f"{freelancer.full_name} has already been invited to this task.")
    invitation = Invitation(task_id=task.id, freelancer_id=freelancer_id, message=message.strip(),
                            automatic=automatic)
    try:
        with db.session.begin_nested():
            db.session.add(invitation)
            db.session.flush()
    except IntegrityError:
        raise Conflict(f"{freelancer.full_name} has already been invited to this task.")
    from marketplace.messaging.services import get_or_create_thread
    get_or_create_thread(task, freelancer_id)
    notify(freelancer, "invitation", f"You're invited to “{task.title}”",
           excerpt(message, 300) or "A business thinks you'd be a great fit. Take a look and send a proposal.",
           "/invitations")
    return invitation


def get_invitation_for(actor: User, invitation_id: int) -> Invitation:
    invitation = db.session.scalar(select(Invitation).where(Invitation.id == invitation_id)
                                   .options(selectinload(Invitation.task)))
    if invitation is None or actor.id not in (invitation.freelancer_id, invitation.task.business_id):
        raise NotFound("We couldn't find that invitation.")
    return invitation


def answer_invitation(actor: User, invitation: Invitation, accept: bool) -> None:
    if actor.id != invitation.freelancer_id:
        raise Forbidden("Only the invited specialist can answer this invitation.")
    if accept and (invitation.task.status != TaskStatus.OPEN or not invitation.task.is_visible_publicly):
        raise Conflict("This task is no longer hiring, so the invitation can't be accepted.")
    to = InvitationStatus.ACCEPTED if accept else InvitationStatus.DECLINED
    changed = db.session.execute(update(Invitation).where(Invitation.id == invitation.id,
                                                          Invitation.status == InvitationStatus.PENDING)
                                 .values(status=to, answered_at=utcnow())
                                 .execution_options(synchronize_session=False))
    if changed.rowcount != 1:
        raise Conflict("You've already answered this invitation.")
    db.session.refresh(invitation)
    verb = "accepted" if accept else "declined"
    notify(invitation.task.business_id, f"invitation_{verb}",
           f"{actor.full_name} {verb} your invitation to “{invitation.task.title}”",
           "Expect a proposal soon." if accept else "", f"/tasks/{invitation.task_id}")
    events.publish("invitation.answered", [invitation.task.business_id],
                   {"invitation_id": invitation.id, "task_id": invitation.task_id,
                    "specialist_id": invitation.freelancer_id, "accepted": accept})


def invitations_of(actor: User) -> list[Invitation]:
    if not actor.is_freelancer:
        raise Forbidden("Only specialists receive invitations.")
    return list(db.session.scalars(select(Invitation).where(Invitation.freelancer_id == actor.id)
                                   .order_by(Invitation.created_at.desc(), Invitation.id.desc())
                                   .options(selectinload(Invitation.task).selectinload(Task.business))))


def invitations_on(actor: User, task: Task) -> list[Invitation]:
    if actor.id != task.business_id:
        raise Forbidden("Only the business that posted this task can see its invitations.")
    return list(db.session.scalars(select(Invitation).where(Invitation.task_id == task.id)
                                   .order_by(Invitation.created_at.desc())
                                   .options(selectinload(Invitation.freelancer))))
