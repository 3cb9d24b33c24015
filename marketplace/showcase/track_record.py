"""A specialist's track record on the platform: jobs, repeat clients, response time, work history.

Everything comes from what happened here (engagements, messages, reviews), never from what the
specialist typed. Work history lists only businesses that allowed it (business_profiles.show_work_history).
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, func, select

from marketplace.accounts.models import User
from marketplace.core.time import as_utc, utcnow
from marketplace.engagements.models import Engagement, EngagementStatus
from marketplace.extensions import db
from marketplace.messaging.models import Message, Thread
from marketplace.profiles.models import BusinessProfile, FreelancerProfile
from marketplace.reviews.models import Review
from marketplace.tasks.models import ModerationStatus, Task

WORK_HISTORY_SHOWN = 8
# Response time looks at the recent conversations only: how someone answers today.
RESPONSE_WINDOW_DAYS = 180
RESPONSE_MESSAGES_READ = 400
MIN_RESPONSES = 3


@dataclass
class WorkItem:
    task_title: str
    company: str
    completed_at: datetime
    stars: int | None          # the business's revealed review, when there is one
    comment: str = ""


@dataclass
class TrackRecord:
    member_since: datetime
    jobs_completed: int
    repeat_clients: int
    response_minutes: int | None            # the median first answer, or None with too few to tell
    work_history: list[WorkItem] = field(default_factory=list)

    @property
    def response_label(self) -> str | None:
        minutes = self.response_minutes
        if minutes is None:
            return None
        if minutes <= 60:
            return "within an hour"
        if minutes <= 6 * 60:
            return "within a few hours"
        if minutes <= 24 * 60:
            return "within a day"
        return f"within {min(-(-minutes // (24 * 60)), 7)} days" if minutes < 7 * 24 * 60 else "in more than a week"


def _jobs_by_client(freelancer_id: int) -> dict[int, int]:
    """business id -> contracts with at least one completed payable."""
    rows = db.session.execute(
        select(Engagement.business_id, func.count(func.distinct(Engagement.contract_id)))
        .where(Engagement.freelancer_id == freelancer_id, Engagement.status == EngagementStatus.COMPLETED)
        .group_by(Engagement.business_id))
    return dict(rows.all())


def typical_response_minutes(user_id: int, now: datetime | None = None) -> int | None:
    """Median time from the other side's message to this person's next message in the same thread."""
    since = (now or utcnow()) - timedelta(days=RESPONSE_WINDOW_DAYS)
    rows = db.session.execute(
        select(Message.thread_id, Message.sender_id, Message.created_at)
        .join(Thread, Thread.id == Message.thread_id)
        .where((Thread.freelancer_id == user_id) | (Thread.business_id == user_id),
               Message.created_at >= since, Message.moderation_status == ModerationStatus.APPROVED)
        .order_by(Message.id.desc()).limit(RESPONSE_MESSAGES_READ)).all()
    waits: list[float] = []
    waiting_since: dict[int, datetime] = {}
    for thread_id, sender_id, created in sorted(rows, key=lambda r: as_utc(r.created_at)):
        created = as_utc(created)
        if sender_id != user_id:
            waiting_since.setdefault(thread_id, created)      # the first unanswered message counts
        elif thread_id in waiting_since:
            waits.append((created - waiting_since.pop(thread_id)).total_seconds() / 60)
    if len(waits) < MIN_RESPONSES:
        return None
    return max(1, round(statistics.median(waits)))


def work_history(freelancer_id: int, limit: int = WORK_HISTORY_SHOWN) -> list[WorkItem]:
    """Completed work for businesses that allow it to be shown, newest first (one query)."""
    review = and_(Review.contract_id == Engagement.contract_id, Review.author_id == Engagement.business_id,
                  Review.revealed_at.is_not(None), Review.hidden_at.is_(None))
    latest = (select(Engagement.contract_id, func.max(Engagement.id).label("engagement_id"))
              .where(Engagement.freelancer_id == freelancer_id, Engagement.status == EngagementStatus.COMPLETED)
              .group_by(Engagement.contract_id).subquery())
    rows = db.session.execute(
        select(Task.title, BusinessProfile.company_name, User.full_name, Engagement.completed_at,
               Engagement.updated_at, Review.stars, Review.public_comment)
        .select_from(latest)
        .join(Engagement, Engagement.id == latest.c.engagement_id)
        .join(Task, Task.id == Engagement.task_id)
        .join(BusinessProfile, and_(BusinessProfile.user_id == Engagement.business_id,
                                    BusinessProfile.show_work_history.is_(True)))
        .join(User, User.id == Engagement.business_id)
        .outerjoin(Review, review)
        .order_by(Engagement.id.desc()).limit(limit))
    return [WorkItem(task_title=r.title, company=r.company_name or r.full_name,
                     completed_at=as_utc(r.completed_at or r.updated_at), stars=r.stars,
                     comment=r.public_comment or "") for r in rows]


def track_record(profile: FreelancerProfile) -> TrackRecord:
    by_client = _jobs_by_client(profile.user_id)
    return TrackRecord(member_since=as_utc(profile.user.created_at), jobs_completed=sum(by_client.values()),
                       repeat_clients=sum(1 for jobs in by_client.values() if jobs >= 2),
                       response_minutes=typical_response_minutes(profile.user_id),
                       work_history=work_history(profile.user_id))
