"""Hiring: accepting a bid creates a contract and its first payable, without ever overfilling a task.

Race safety works the same on PostgreSQL and SQLite (where SELECT ... FOR
UPDATE is ignored), with conditional UPDATEs checked by their rowcount:

1. the task's filled_seats goes up by one only while it is below seats and
   the task is open (two businesses' tabs or 20 parallel acceptances: the
   database serialises the row update and re-checks the condition, so
   exactly `seats` of them win);
2. the bid moves pending -> accepted only if it is still pending
   (a double click or a second tab loses here, and its seat is rolled back);
3. the CHECK constraint filled_seats <= seats and the unique bid_id on
   contracts back both up.

A fixed-price hire is a contract with one milestone of the agreed total. An hourly
hire is an hourly contract (rate from the proposal, weekly limit from its estimated
hours, see contracts/services.py) with no up-front charge: each finished week is
invoiced and charged to the business's saved card (marketplace/invoicing/).

A loser raises Conflict, and the view's rollback undoes its step 1.
"""
from __future__ import annotations

from flask import current_app
from sqlalchemy import update

from marketplace.accounts.models import AccountStatus, User
from marketplace.bidding.models import Bid, BidStatus
from marketplace.bidding.services import bid_total, decline_pending_bids
from marketplace.accounts.confirmation import require_confirmed_email
from marketplace.core.errors import Conflict, Forbidden
from marketplace.core.money import format_money, split_fee
from marketplace.core.time import utcnow
from marketplace.contracts.models import Contract
from marketplace.contracts.services import open_contract
from marketplace.engagements.models import Engagement, EngagementEvent, EngagementStatus
from marketplace.extensions import db
from marketplace.notifications.services import notify
from marketplace.tasks.models import ModerationStatus, Task, TaskStatus

ALREADY_FILLED = "All seats on this task are already filled."


CHANGED = "The specialist changed this proposal a moment ago. Review the new terms before hiring."


def accept_bid(actor: User, bid: Bid, seen_amount: int | None = None,
               seen_hours: int | None = None) -> Engagement | None:
    """Hire on `bid` (see `hire`): the first milestone of a fixed-price contract, None for an hourly one."""
    contract = hire(actor, bid, seen_amount, seen_hours)
    return contract.payables[0] if contract.is_fixed else None


def hire(actor: User, bid: Bid, seen_amount: int | None = None, seen_hours: int | None = None) -> Contract:
    """Hire on `bid`. `seen_amount`/`seen_hours` are the terms the business was shown: if the
    specialist edited the proposal since, nothing happens and the business is told."""
    task: Task = bid.task
    if actor.id != task.business_id:
        raise Forbidden("Only the business that posted this task can hire for it.")
    if actor.status != AccountStatus.ACTIVE:
        raise Forbidden("This account is suspended.")
    require_confirmed_email(actor, "hire")
    if task.status != TaskStatus.OPEN:
        raise Conflict(ALREADY_FILLED if task.status == TaskStatus.IN_PROGRESS
                       else "This task is not open for hiring.")
    if bid.status != BidStatus.PENDING:
        raise Conflict("This proposal is no longer pending.")
    if task.moderation_status != ModerationStatus.APPROVED or bid.moderation_status != ModerationStatus.APPROVED:
        raise Conflict("This task or proposal is waiting for a review by our team; hiring opens once it is approved.")
    if seen_amount is not None and (bid.amount, bid.estimated_hours) != (seen_amount, seen_hours):
        raise Conflict(CHANGED)

    # The task row is locked first, then the bid: every hiring path takes locks in
    # this order, so parallel acceptances queue up instead of deadlocking.
    seat = db.session.execute(update(Task).where(Task.id == task.id, Task.status == TaskStatus.OPEN,
                                                 Task.moderation_status == ModerationStatus.APPROVED,
                                                 Task.filled_seats < Task.seats)
                              .values(filled_seats=Task.filled_seats + 1, updated_at=utcnow())
                              .execution_options(synchronize_session=False))
    if seat.rowcount != 1:
        raise Conflict(ALREADY_FILLED)
    terms = [Bid.amount == seen_amount, Bid.estimated_hours.is_(None) if seen_hours is None
             else Bid.estimated_hours == seen_hours] if seen_amount is not None else []
    taken = db.session.execute(update(Bid).where(Bid.id == bid.id, Bid.status == BidStatus.PENDING,
                                                 Bid.moderation_status == ModerationStatus.APPROVED, *terms)
                               .values(status=BidStatus.ACCEPTED, updated_at=utcnow())
                               .execution_options(synchronize_session=False))
    if taken.rowcount != 1:
        raise Conflict(CHANGED if terms else "This proposal is no longer pending.")
    db.session.refresh(task)
    db.session.refresh(bid)

    fee_bps = current_app.config["PLATFORM_FEE_BPS"]
    contract = open_contract(task, bid, fee_bps)
    from marketplace.messaging.services import link_engagement
    if contract.is_fixed:
        amount = bid_total(task, bid.amount, bid.estimated_hours)
        fee, payout = split_fee(amount, fee_bps)
        engagement = Engagement(contract_id=contract.id, task_id=task.id, bid_id=bid.id,
                                business_id=task.business_id, freelancer_id=bid.freelancer_id, amount=amount,
                                currency=task.currency, fee_bps=fee_bps, fee_amount=fee, payout_amount=payout,
                                title=task.title, position=1, status=EngagementStatus.AWAITING_FUNDING)
        db.session.add(engagement)
        db.session.flush()
        db.session.add(EngagementEvent(engagement_id=engagement.id, actor_id=actor.id, from_status=None,
                                       to_status=EngagementStatus.AWAITING_FUNDING.value,
                                       note=f"Proposal accepted at {format_money(amount, task.currency)}"))
        link_engagement(task.id, bid.freelancer_id, engagement.id)
        notify(bid.freelancer_id, "hired", f"You're hired for “{task.title}”",
               f"{actor.public_name} accepted your proposal: {format_money(amount, task.currency)}, of which you "
               f"receive {format_money(payout, task.currency)} after the platform fee. Work starts once the "
               "business funds the engagement.", f"/engagements/{engagement.id}")
    else:
        rate = format_money(bid.amount, task.currency)
        notify(bid.freelancer_id, "hired", f"You're hired for “{task.title}” (hourly)",
               f"{actor.public_name} hired you at {rate}/h, up to {contract.weekly_limit_minutes // 60} h a week. "
               "Log your time on the contract's timesheet; each week is invoiced on Monday and paid to you "
               "after the business's review window (Friday).", f"/contracts/{contract.id}")

    if task.filled_seats >= task.seats:
        filled = db.session.execute(update(Task).where(Task.id == task.id, Task.status == TaskStatus.OPEN)
                                    .values(status=TaskStatus.IN_PROGRESS)
                                    .execution_options(synchronize_session=False))
        if filled.rowcount == 1:
            decline_pending_bids(task, "All seats on this task have been filled.")
        db.session.refresh(task)
    db.session.flush()
    db.session.expire(contract, ["payables"])
    return contract
