"""What now: the few things each side should act on, for the dashboard and the navigation badge."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import joinedload

from marketplace.accounts.models import User
from marketplace.bidding.models import Bid, BidStatus, Invitation, InvitationStatus
from marketplace.core.time import utcnow
from marketplace.engagements.models import Engagement, EngagementStatus
from marketplace.extensions import db
from marketplace.tasks.models import ModerationStatus, Task, TaskStatus

SHOWN = 5
LIVE = (EngagementStatus.AWAITING_FUNDING, EngagementStatus.ACTIVE, EngagementStatus.DELIVERED,
        EngagementStatus.DISPUTED)
HELD = (EngagementStatus.ACTIVE, EngagementStatus.DELIVERED, EngagementStatus.DISPUTED)


def month_start(now: datetime) -> datetime:
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


@cache
def pending_invitation_statement():
    """Invitations to open tasks the specialist (the `user_id` parameter) hasn't answered; built
    once per process, as every page of a specialist shows the count (web/navigation.py)."""
    return (select(func.count(Invitation.id)).join(Task, Task.id == Invitation.task_id)
            .where(Invitation.freelancer_id == bindparam("user_id"), Invitation.status == InvitationStatus.PENDING,
                   Task.status == TaskStatus.OPEN))


def pending_invitation_count(user: User) -> int:
    """For the dashboard: invitations to open tasks the specialist hasn't answered."""
    return db.session.scalar(pending_invitation_statement(), {"user_id": user.id}) or 0


@dataclass
class SpecialistAgenda:
    active: list[Engagement] = field(default_factory=list)
    active_count: int = 0
    invitations: list[Invitation] = field(default_factory=list)
    invitation_count: int = 0
    proposals: list[Bid] = field(default_factory=list)
    proposal_count: int = 0
    earned_this_month: dict[str, int] = field(default_factory=dict)   # currency -> payout after fees


def specialist_agenda(user: User, now: datetime | None = None) -> SpecialistAgenda:
    now = now or utcnow()
    agenda = SpecialistAgenda()
    live = (Engagement.freelancer_id == user.id, Engagement.status.in_(LIVE))
    agenda.active_count = db.session.scalar(select(func.count(Engagement.id)).where(*live)) or 0
    agenda.active = list(db.session.scalars(select(Engagement).where(*live).options(joinedload(Engagement.task))
                                            .order_by(Engagement.updated_at.desc(), Engagement.id.desc()).limit(SHOWN)))
    pending = (Invitation.freelancer_id == user.id, Invitation.status == InvitationStatus.PENDING,
               Task.status == TaskStatus.OPEN)
    agenda.invitations = list(db.session.scalars(
        select(Invitation).join(Task, Task.id == Invitation.task_id).where(*pending)
        .options(joinedload(Invitation.task)).order_by(Invitation.id.desc()).limit(SHOWN)))
    agenda.invitation_count = pending_invitation_count(user)
    waiting = (Bid.freelancer_id == user.id, Bid.status == BidStatus.PENDING)
    agenda.proposal_count = db.session.scalar(select(func.count(Bid.id)).where(*waiting)) or 0
    agenda.proposals = list(db.session.scalars(select(Bid).where(*waiting).options(joinedload(Bid.task))
                                               .order_by(Bid.id.desc()).limit(SHOWN)))
    agenda.earned_this_month = dict(db.session.execute(
        select(Engagement.currency, func.sum(Engagement.payout_amount))
        .where(Engagement.freelancer_id == user.id, Engagement.status == EngagementStatus.COMPLETED,
               Engagement.completed_at >= month_start(now))
        .group_by(Engagement.currency)).all())
    return agenda


@dataclass
class BusinessAgenda:
    decisions: list[tuple[Task, int]] = field(default_factory=list)   # open tasks with proposals waiting
    to_fund: list[Engagement] = field(default_factory=list)
    to_approve: list[Engagement] = field(default_factory=list)
    held: dict[str, int] = field(default_factory=dict)                 # currency -> held for live work


def business_agenda(user: User) -> BusinessAgenda:
    agenda = BusinessAgenda()
    waiting = func.count(Bid.id)
    agenda.decisions = [(task, count) for task, count in db.session.execute(
        select(Task, waiting).join(Bid, Bid.task_id == Task.id)
        .where(Task.business_id == user.id, Task.status == TaskStatus.OPEN, Bid.status == BidStatus.PENDING,
               Bid.moderation_status == ModerationStatus.APPROVED)
        .group_by(Task.id).order_by(func.min(Bid.created_at)).limit(SHOWN)).all()]
    mine = Engagement.business_id == user.id
    agenda.to_fund = list(db.session.scalars(
        select(Engagement).where(mine, Engagement.status == EngagementStatus.AWAITING_FUNDING)
        .options(joinedload(Engagement.task), joinedload(Engagement.freelancer)).order_by(Engagement.id).limit(SHOWN)))
    agenda.to_approve = list(db.session.scalars(
        select(Engagement).where(mine, Engagement.status == EngagementStatus.DELIVERED)
        .options(joinedload(Engagement.task), joinedload(Engagement.freelancer))
        .order_by(Engagement.delivered_at, Engagement.id).limit(SHOWN)))
    agenda.held = dict(db.session.execute(
        select(Engagement.currency, func.sum(Engagement.amount)).where(mine, Engagement.status.in_(HELD))
        .group_by(Engagement.currency)).all())
    return agenda
