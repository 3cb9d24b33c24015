"""Bid and invitation models."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.accounts.models import User
from marketplace.core.time import utcnow
from marketplace.extensions import db
from marketplace.tasks.models import ModerationStatus, Task, _enum


class BidStatus(str, enum.Enum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


LIVE_BID_STATUSES = ("pending", "accepted")


class Bid(db.Model):
    __tablename__ = "bids"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("estimated_hours IS NULL OR estimated_hours > 0", name="hours_positive"),
        # One live bid per freelancer per task; withdrawn/declined ones don't count.
        Index("uq_bids_live_per_freelancer", "task_id", "freelancer_id", unique=True,
              sqlite_where=db.text("status IN ('pending', 'accepted')"),
              postgresql_where=db.text("status IN ('pending', 'accepted')")),
        Index("ix_bids_task_status", "task_id", "status"),
        Index("ix_bids_created_at", "created_at", "task_id", "freelancer_id"),   # metrics: bids in a period
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    freelancer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # Fixed-price task: the total; hourly task: the hourly rate. Minor units of the task's currency.
    amount: Mapped[int] = mapped_column(Integer)
    estimated_hours: Mapped[int | None] = mapped_column(Integer)
    cover_note: Mapped[str] = mapped_column(Text)
    availability_note: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[BidStatus] = mapped_column(_enum(BidStatus), default=BidStatus.PENDING)
    shortlisted: Mapped[bool] = mapped_column(Boolean, default=False)
    decline_note: Mapped[str | None] = mapped_column(String(500))
    # Held by the risk screen until an operator approves it (moderation/screening.py); the business
    # sees only approved bids.
    moderation_status: Mapped[ModerationStatus] = mapped_column(
        _enum(ModerationStatus), default=ModerationStatus.APPROVED, server_default=ModerationStatus.APPROVED.value)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    task: Mapped[Task] = relationship()
    freelancer: Mapped[User] = relationship()


class InvitationStatus(str, enum.Enum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class Invitation(db.Model):
    __tablename__ = "invitations"
    __table_args__ = (UniqueConstraint("task_id", "freelancer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    freelancer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    message: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[InvitationStatus] = mapped_column(_enum(InvitationStatus), default=InvitationStatus.PENDING)
    # True when the platform's matching sent it (hiring mode "match").
    automatic: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    task: Mapped[Task] = relationship()
    freelancer: Mapped[User] = relationship()
