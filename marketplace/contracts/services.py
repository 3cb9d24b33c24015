"""Contracts: opening one at hiring, reading them, and fixed-price milestones.

A contract's money moves through its payables (`Engagement` rows), each with the
engagement state machine of marketplace/engagements/transitions.py. This module
adds and splits milestones; marketplace/contracts/lifecycle.py ends a contract
when its payables are settled. Functions only flush; the caller commits.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import current_app
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from marketplace.accounts.models import AccountStatus, User
from marketplace.bidding.models import Bid
from marketplace.contracts.models import MAX_WEEKLY_LIMIT_MINUTES, Contract, ContractKind, ContractStatus
from marketplace.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from marketplace.core.money import format_money, split_fee
from marketplace.core.text import one_line
from marketplace.core.time import utcnow
from marketplace.engagements.models import Engagement, EngagementEvent, EngagementStatus, PayableKind
from marketplace.extensions import db
from marketplace.notifications.services import notify
from marketplace.tasks.models import ModerationStatus, Pricing, Task, TaskStatus

TITLE_MAX = 120   # Engagement.title


def weekly_limit_for(estimated_hours: int | None) -> int:
    """The weekly limit (minutes) an hourly hire starts with: the proposal's estimated hours, capped at
    60 h a week (MAX_WEEKLY_LIMIT_MINUTES). The business can change it from the next week."""
    return max(1, min((estimated_hours or 0) * 60, MAX_WEEKLY_LIMIT_MINUTES))


def open_contract(task: Task, bid: Bid, fee_bps: int) -> Contract:
    """The contract a hire creates (hiring has already claimed the seat and the bid)."""
    hourly = task.pricing == Pricing.HOURLY
    hours = bid.estimated_hours if bid.estimated_hours is not None else task.estimated_hours
    contract = Contract(task_id=task.id, bid_id=bid.id, business_id=task.business_id,
                        freelancer_id=bid.freelancer_id, kind=ContractKind.HOURLY if hourly else ContractKind.FIXED,
                        currency=task.currency, fee_bps=fee_bps, status=ContractStatus.ACTIVE,
                        hourly_rate=bid.amount if hourly else None,
                        weekly_limit_minutes=weekly_limit_for(hours) if hourly else None)
    db.session.add(contract)
    db.session.flush()
    return contract


# --- reading ---------------------------------------------------------------------------------------

def get_contract_for(actor: User, contract_id: int) -> Contract:
    """The contract if the actor is its business, its specialist or an operator; strangers see nothing."""
    contract = db.session.scalar(select(Contract).where(Contract.id == contract_id)
                                 .options(selectinload(Contract.task), selectinload(Contract.business),
                                          selectinload(Contract.freelancer),
                                          selectinload(Contract.payables).selectinload(Engagement.events)))
    if contract is None or not can_view(actor, contract):
        raise NotFound("We couldn't find that contract.")
    return contract


def can_view(actor: User, contract: Contract) -> bool:
    return actor.id in (contract.business_id, contract.freelancer_id) or actor.is_operator


def contracts_of(actor: User) -> list[Contract]:
    """The actor's contracts (either side), newest first, with their task, parties and payables."""
    return list(db.session.scalars(
        select(Contract).where(or_(Contract.business_id == actor.id, Contract.freelancer_id == actor.id))
        .order_by(Contract.created_at.desc(), Contract.id.desc())
        .options(selectinload(Contract.task), selectinload(Contract.business), selectinload(Contract.freelancer),
                 selectinload(Contract.payables))))


def total_of(contract: Contract) -> int:
    """What the contract is worth now: its payables' amounts, except the cancelled ones."""
    return sum(p.amount for p in contract.payables if p.status != EngagementStatus.CANCELLED)


def unfunded_of(contract: Contract) -> int:
    return sum(p.amount for p in contract.payables if p.status == EngagementStatus.AWAITING_FUNDING)


def paid_out_of(contract: Contract) -> int:
    """Released to the specialist (before the fee): approved milestones and the release share of resolutions."""
    return sum(p.amount if p.status == EngagementStatus.COMPLETED else (p.resolution_release or 0)
               for p in contract.payables if p.status in (EngagementStatus.COMPLETED, EngagementStatus.RESOLVED))


# --- milestones ------------------------------------------------------------------------------------

@dataclass
class MilestoneData:
    title: str
    amount: int | None           # minor units
    due_on: date | None = None


def _require_business(actor: User, contract: Contract) -> None:
    if actor.status != AccountStatus.ACTIVE:
        raise Forbidden("This account is suspended.")
    if actor.id != contract.business_id:
        if can_view(actor, contract):
            raise Forbidden("Only the business on this contract can change its milestones.")
        raise NotFound("We couldn't find that contract.")


def _lock_open_contract(contract: Contract) -> None:
    """Lock the contract row (it serialises with the payable that would end it) and check it still runs."""
    db.session.execute(select(Contract.id).where(Contract.id == contract.id).with_for_update())
    db.session.refresh(contract)
    if contract.status == ContractStatus.ENDED:
        raise Conflict("This contract has ended, so its milestones can't change.")
    if contract.kind != ContractKind.FIXED:
        raise Conflict("Milestones are for fixed-price contracts; an hourly contract is billed by the week.")
    task = contract.task
    if task.status == TaskStatus.REMOVED or task.moderation_status == ModerationStatus.REJECTED:
        raise Conflict("This task was taken down by our moderation team, so no more milestones can be added.")


def _clean(data: MilestoneData, currency: str, today: date) -> tuple[str, int, date | None]:
    title = one_line(data.title)
    if not title:
        raise ValidationFailed("Give the milestone a short title.", field="title")
    if len(title) > TITLE_MAX:
        raise ValidationFailed(f"The title can be at most {TITLE_MAX} characters.", field="title")
    amount = data.amount
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValidationFailed("Enter an amount above zero.", field="amount")
    limit = current_app.config["MAX_BID_AMOUNT"]
    if amount > limit:
        raise ValidationFailed(f"A milestone can be at most {format_money(limit, currency)}.", field="amount")
    if data.due_on is not None and data.due_on < today:
        raise ValidationFailed("The due date can't be in the past.", field="due_on")
    return title, amount, data.due_on


def _new_payable(actor: User | None, contract: Contract, title: str, amount: int, due_on: date | None,
                 note: str, kind: PayableKind = PayableKind.MILESTONE, form_key: str | None = None) -> Engagement:
    """A new payable after the contract's others (actor None: the platform, e.g. the weekly close).
    `form_key`: the one-time key of the form that asked for it, unique per contract (Conflict if taken)."""
    position = (db.session.scalar(select(func.max(Engagement.position))
                                  .where(Engagement.contract_id == contract.id)) or 0) + 1
    fee, payout = split_fee(amount, contract.fee_bps)
    milestone = Engagement(contract_id=contract.id, task_id=contract.task_id, business_id=contract.business_id,
                           freelancer_id=contract.freelancer_id, payable_kind=kind,
                           title=title, due_on=due_on, position=position, amount=amount,
                           currency=contract.currency, fee_bps=contract.fee_bps, fee_amount=fee,
                           payout_amount=payout, status=EngagementStatus.AWAITING_FUNDING, form_key=form_key)
    try:
        with db.session.begin_nested():
            db.session.add(milestone)
    except IntegrityError:   # the same position (or form key) taken a moment earlier (SQLite has no row lock)
        raise Conflict("This contract has just changed. Please reload the page and try again.")
    db.session.add(EngagementEvent(engagement_id=milestone.id, actor_id=actor.id if actor else None,
                                   from_status=None, to_status=EngagementStatus.AWAITING_FUNDING.value,
                                   note=note[:500]))
    db.session.flush()
    db.session.expire(contract, ["payables"])
    return milestone


def add_milestone(actor: User, contract: Contract, data: MilestoneData, today: date | None = None) -> Engagement:
    """The business adds a milestone after the existing ones; the contract's total goes up by its amount."""
    _require_business(actor, contract)
    title, amount, due_on = _clean(data, contract.currency, today or utcnow().date())
    _lock_open_contract(contract)
    milestone = _new_payable(actor, contract, title, amount, due_on,
                             f"Milestone added by the business: {format_money(amount, contract.currency)}")
    notify(contract.freelancer_id, "milestone_added", f"New milestone on “{contract.task.title}”",
           f"{actor.full_name} added “{title}” ({format_money(amount, contract.currency)}). Work on it starts "
           "once the business funds it.", contract_link(contract))
    return milestone


def split_milestone(actor: User, milestone: Engagement, data: MilestoneData,
                    today: date | None = None) -> Engagement:
    """The business splits part of an unfunded milestone off into a new one; the total stays the same."""
    contract = milestone.contract
    _require_business(actor, contract)
    title, amount, due_on = _clean(data, contract.currency, today or utcnow().date())
    _lock_open_contract(contract)
    if milestone.status != EngagementStatus.AWAITING_FUNDING:
        raise Conflict("Only a milestone that isn't funded yet can be split.")
    if amount >= milestone.amount:
        raise ValidationFailed(f"Split off less than the milestone's "
                               f"{format_money(milestone.amount, contract.currency)} so that something is left on it.",
                               field="amount")
    remaining = milestone.amount - amount
    fee, payout = split_fee(remaining, milestone.fee_bps)
    # Only while it is still unfunded at the amount the business saw: a payment that lands meanwhile wins.
    changed = db.session.execute(
        update(Engagement).where(Engagement.id == milestone.id, Engagement.amount == milestone.amount,
                                 Engagement.status == EngagementStatus.AWAITING_FUNDING)
        .values(amount=remaining, fee_amount=fee, payout_amount=payout, updated_at=utcnow())
        .execution_options(synchronize_session=False))
    if changed.rowcount != 1:
        raise Conflict("This milestone has just changed. Please reload the page and try again.")
    db.session.refresh(milestone)
    new = _new_payable(actor, contract, title, amount, due_on,
                       f"Split off milestone {milestone.position} by the business: "
                       f"{format_money(amount, contract.currency)}")
    db.session.add(EngagementEvent(engagement_id=milestone.id, actor_id=actor.id,
                                   from_status=milestone.status.value, to_status=milestone.status.value,
                                   note=f"{format_money(amount, contract.currency)} split off into milestone "
                                        f"{new.position} “{title}”; "
                                        f"{format_money(remaining, contract.currency)} left on this one"))
    db.session.flush()
    db.session.expire(milestone, ["events"])
    notify(contract.freelancer_id, "milestone_added", f"Milestones changed on “{contract.task.title}”",
           f"{actor.full_name} split “{milestone.title}” into “{milestone.title}” "
           f"({format_money(remaining, contract.currency)}) and “{title}” ({format_money(amount, contract.currency)}). "
           "The contract's total is unchanged.", contract_link(contract))
    return new


def contract_link(contract: Contract) -> str:
    return f"/contracts/{contract.id}"


# --- the contract page -----------------------------------------------------------------------------

@dataclass
class TimelineLine:
    milestone: Engagement
    event: EngagementEvent


class ContractView:
    """What the viewer of a contract page sees and may do (plain predicates for the template)."""

    def __init__(self, actor: User, contract: Contract):
        self.is_business = actor.id == contract.business_id
        self.is_freelancer = actor.id == contract.freelancer_id
        running = contract.status != ContractStatus.ENDED and actor.status == AccountStatus.ACTIVE
        self.can_change_milestones = self.is_business and running and contract.kind == ContractKind.FIXED
        self.total = total_of(contract)
        self.unfunded = unfunded_of(contract)
        self.released = paid_out_of(contract)
        self.milestones = list(contract.payables)
        self.timeline = sorted((TimelineLine(p, ev) for p in contract.payables for ev in p.events),
                               key=lambda line: (line.event.created_at, line.event.id))


def contract_view(actor: User, contract: Contract) -> ContractView:
    return ContractView(actor, contract)


def get_milestone_of(contract: Contract, milestone_id: int) -> Engagement:
    """One payable of a contract the actor was already allowed to see."""
    milestone = next((p for p in contract.payables if p.id == milestone_id), None)
    if milestone is None:
        raise NotFound("We couldn't find that milestone on this contract.")
    return milestone
