"""Task models."""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, Text, func,
                        text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.accounts.models import User
from marketplace.core.time import utcnow
from marketplace.extensions import db
from marketplace.profiles.models import Skill


class TaskStatus(str, enum.Enum):
    DRAFT = "draft"
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    REMOVED = "removed"


class ModerationStatus(str, enum.Enum):
    PENDING_REVIEW = "pending_review"
    APPROVED = "approved"
    REJECTED = "rejected"


class Pricing(str, enum.Enum):
    FIXED = "fixed"
    HOURLY = "hourly"


class HiringMode(str, enum.Enum):
    OPEN = "open"
    INVITE = "invite"
    MATCH = "match"


# The tasks anyone may browse, as the partial indexes and the listing queries both spell it
# (literal values, so the planners can match the index predicates).
LISTED_TASK_SQL = "status = 'open' AND moderation_status = 'approved'"


def _enum(e):
    from sqlalchemy import Enum
    return Enum(e, native_enum=False, length=20, values_callable=lambda x: [m.value for m in x])


def needed_hours(task) -> int:
    """Task.needed_hours, for a Task or any object with its columns (matching's plain rows)."""
    if task.estimated_hours:
        return task.estimated_hours
    days = (task.end_date - task.start_date).days + 1 if task.start_date and task.end_date else 1
    return max(1, (task.work_hours_end - task.work_hours_start) * max(1, days))


class Task(db.Model):
    __tablename__ = "tasks"
    __table_args__ = (
        CheckConstraint("seats >= 1", name="seats_positive"),
        CheckConstraint("filled_seats >= 0 AND filled_seats <= seats", name="filled_within_seats"),
        CheckConstraint("(pricing = 'fixed' AND budget > 0) OR (pricing = 'hourly' AND max_rate > 0 "
                        "AND estimated_hours > 0)", name="pricing_complete"),
        CheckConstraint("end_date >= start_date", name="dates_ordered"),
        CheckConstraint("work_hours_start BETWEEN 0 AND 23 AND work_hours_end BETWEEN 1 AND 24",
                        name="work_hours_range"),
        Index("ix_tasks_listing", "status", "moderation_status", "published_at"),
        Index("ix_tasks_published_at", "published_at", "id"),   # metrics: tasks posted in a period
        # Listed tasks (tasks/search.py) newest first: browsing walks this and stops after a page.
        Index("ix_tasks_listed", "published_at", "id", postgresql_where=text(LISTED_TASK_SQL),
              sqlite_where=text(LISTED_TASK_SQL)),
        # The time-zone filter, newest first: one zone is a few percent of the listing, which the walk
        # above filtered row by row (PostgreSQL chose a scan of every task and a sort instead).
        Index("ix_tasks_listed_timezone", "timezone", "published_at", "id", postgresql_where=text(LISTED_TASK_SQL),
              sqlite_where=text(LISTED_TASK_SQL)),
        # Written by hand in migration 0012 (see extensions.HAND_WRITTEN_INDEXES): the listed tasks
        # by total price (ix_tasks_listed_price); on PostgreSQL only, three unmapped columns the
        # database keeps up to date, search_vector (generated: to_tsvector('english', title || ' ' ||
        # description)), skill_ids and language_codes (copies of task_skills / task_languages, by
        # triggers), with one GIN index over the three for listed tasks (ix_tasks_search).
        # SQLite searches with LIKE and filters with EXISTS.
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(10), index=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    work_hours_start: Mapped[int] = mapped_column(Integer, default=9)   # local hour the coverage starts
    work_hours_end: Mapped[int] = mapped_column(Integer, default=17)    # local hour it ends (exclusive)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    pricing: Mapped[Pricing] = mapped_column(_enum(Pricing))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    budget: Mapped[int | None] = mapped_column(Integer, index=True)          # fixed: total, minor units
    max_rate: Mapped[int | None] = mapped_column(Integer)                    # hourly: max rate, minor units
    estimated_hours: Mapped[int | None] = mapped_column(Integer)
    seats: Mapped[int] = mapped_column(Integer, default=1)
    # Seats taken by live engagements; raised only by a conditional UPDATE (see engagements/hiring.py).
    filled_seats: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    hiring_mode: Mapped[HiringMode] = mapped_column(_enum(HiringMode), default=HiringMode.OPEN)
    status: Mapped[TaskStatus] = mapped_column(_enum(TaskStatus), default=TaskStatus.DRAFT, index=True)
    moderation_status: Mapped[ModerationStatus] = mapped_column(_enum(ModerationStatus),
                                                                default=ModerationStatus.APPROVED)
    moderation_note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 server_default=func.current_timestamp())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    business: Mapped[User] = relationship()
    skills: Mapped[list[TaskSkill]] = relationship(back_populates="task", cascade="all, delete-orphan",
                                                   order_by="(TaskSkill.required.desc(), TaskSkill.skill_id)")
    languages: Mapped[list[TaskLanguage]] = relationship(back_populates="task", cascade="all, delete-orphan",
                                                         order_by="TaskLanguage.language")

    @property
    def required_skills(self) -> list[TaskSkill]:
        return [s for s in self.skills if s.required]

    @property
    def nice_skills(self) -> list[TaskSkill]:
        return [s for s in self.skills if not s.required]

    @property
    def language_codes(self) -> list[str]:
        return [l.language for l in self.languages]

    @property
    def price_ceiling(self) -> int:
        """The most the business expects to pay in total (minor units)."""
        if self.pricing == Pricing.FIXED:
            return self.budget or 0
        return (self.max_rate or 0) * (self.estimated_hours or 0)

    @property
    def needed_hours(self) -> int:
        """Hours of work the task asks of one specialist: the estimate of an hourly task, or for a fixed
        one its daily coverage hours over its dates (what a fixed budget has to pay for)."""
        return needed_hours(self)

    @property
    def is_visible_publicly(self) -> bool:
        return (self.status in (TaskStatus.OPEN, TaskStatus.IN_PROGRESS, TaskStatus.COMPLETED)
                and self.moderation_status == ModerationStatus.APPROVED)

    @property
    def hiring_state(self) -> str:
        """What the task page says about hiring, the same for everyone: `draft`, `review` (published,
        waiting for moderation), `open` (taking proposals) or `closed` (filled, stopped, ended)."""
        if self.status == TaskStatus.DRAFT:
            return "draft"
        if self.status != TaskStatus.OPEN or self.moderation_status == ModerationStatus.REJECTED:
            return "closed"
        if self.moderation_status == ModerationStatus.PENDING_REVIEW:
            return "review"
        return "open" if self.filled_seats < self.seats else "closed"

    @property
    def seats_left(self) -> int:
        return self.seats - self.filled_seats


class TaskSkill(db.Model):
    __tablename__ = "task_skills"
    __table_args__ = (CheckConstraint("min_level BETWEEN 1 AND 5", name="min_level_range"),
                      Index("ix_task_skills_skill_task", "skill_id", "task_id"),   # the skill filter, index-only
                      # "Recommended for you" (matching/service.py) counts a specialist's skills over
                      # the tasks that require them, from this index alone. Each dialect's predicate is
                      # written as its queries render `WHERE task_skills.required`.
                      Index("ix_task_skills_required", "skill_id", "task_id",
                            postgresql_where=text("required"), sqlite_where=text("required = 1")))

    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True)
    skill_id: Mapped[int] = mapped_column(ForeignKey("skills.id"), primary_key=True)
    min_level: Mapped[int] = mapped_column(Integer, default=1)
    required: Mapped[bool] = mapped_column(Boolean, default=True)

    task: Mapped[Task] = relationship(back_populates="skills")
    skill: Mapped[Skill] = relationship(lazy="joined", innerjoin=True)


class TaskLanguage(db.Model):
    __tablename__ = "task_languages"
    __table_args__ = (Index("ix_task_languages_language_task", "language", "task_id"),)   # the language filter

    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True)
    language: Mapped[str] = mapped_column(String(8), primary_key=True)

    task: Mapped[Task] = relationship(back_populates="languages")
