"""Contract models.

A contract holds the terms between one business and one specialist on one
task. What moves money is a *payable* under it: an `Engagement` row
(marketplace/engagements/models.py) with its own funding charge, state
machine, ledger transactions and receipt. A fixed-price contract's payables
are its milestones; an hourly contract will bill weekly invoices and bonuses
through the same lifecycle.
"""
from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, CheckConstraint, Date, DateTime, ForeignKey, Integer, String, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.accounts.models import User
from marketplace.core.time import utcnow
from marketplace.extensions import db
from marketplace.tasks.models import Task, _enum

if TYPE_CHECKING:
    from marketplace.engagements.models import Engagement

# Hourly hires get a weekly limit of the task's estimated hours, capped at a full-time week:
# nobody supports one customer base more than 60 hours a week (and the business can change it).
MAX_WEEKLY_LIMIT_MINUTES = 60 * 60


class ContractKind(str, enum.Enum):
    FIXED = "fixed"
    HOURLY = "hourly"


class ContractStatus(str, enum.Enum):
    ACTIVE = "active"
    PAUSED = "paused"
    ENDED = "ended"


class Contract(db.Model):
    __tablename__ = "contracts"
    __table_args__ = (
        CheckConstraint("fee_bps BETWEEN 0 AND 10000", name="fee_bps_range"),
        CheckConstraint("kind = 'fixed' OR (hourly_rate > 0 AND weekly_limit_minutes > 0)",
                        name="hourly_terms_complete"),
        CheckConstraint("hourly_rate IS NULL OR hourly_rate > 0", name="hourly_rate_positive"),
        CheckConstraint("weekly_limit_minutes IS NULL OR weekly_limit_minutes BETWEEN 1 AND 10080",
                        name="weekly_limit_range"),
        CheckConstraint("next_weekly_limit_minutes IS NULL OR next_weekly_limit_minutes BETWEEN 1 AND 10080",
                        name="next_weekly_limit_range"),
        CheckConstraint("weekly_retainer >= 0", name="weekly_retainer_not_negative"),
        CheckConstraint("(status = 'ended' AND ended_at IS NOT NULL) OR (status <> 'ended' AND ended_at IS NULL)",
                        name="ended_at_matches_status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    # One contract per accepted proposal: the database refuses a second hire on the same bid.
    bid_id: Mapped[int] = mapped_column(ForeignKey("bids.id"), unique=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    freelancer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[ContractKind] = mapped_column(_enum(ContractKind))
    currency: Mapped[str] = mapped_column(String(3))
    fee_bps: Mapped[int] = mapped_column(Integer)
    status: Mapped[ContractStatus] = mapped_column(_enum(ContractStatus), default=ContractStatus.ACTIVE,
                                                   index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Hourly terms (all empty or defaults on a fixed-price contract). Money in minor units.
    hourly_rate: Mapped[int | None] = mapped_column(Integer)
    weekly_limit_minutes: Mapped[int | None] = mapped_column(Integer)
    # A limit change takes effect from the next week; the weekly close moves it into weekly_limit_minutes.
    next_weekly_limit_minutes: Mapped[int | None] = mapped_column(Integer)
    weekly_retainer: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    manual_time_allowed: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    starts_on: Mapped[date | None] = mapped_column(Date)
    paused_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    task: Mapped[Task] = relationship()
    business: Mapped[User] = relationship(foreign_keys=[business_id])
    freelancer: Mapped[User] = relationship(foreign_keys=[freelancer_id])
    payables: Mapped[list[Engagement]] = relationship(back_populates="contract",
                                                      order_by="(Engagement.position, Engagement.id)")

    @property
    def is_fixed(self) -> bool:
        return self.kind == ContractKind.FIXED

    @property
    def is_ended(self) -> bool:
        return self.status == ContractStatus.ENDED
