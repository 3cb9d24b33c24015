"""Threads, messages and read markers."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.accounts.models import User
from marketplace.core.time import utcnow
from marketplace.extensions import db
from marketplace.tasks.models import ModerationStatus, Task, _enum


class Thread(db.Model):
    """The conversation between a task's business and one specialist.

    Started by a bid or an invitation; after hire the same thread carries the
    engagement (engagement_id is set), so nothing said before is lost.
    """

    __tablename__ = "threads"
    __table_args__ = (UniqueConstraint("task_id", "freelancer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    business_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    freelancer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    engagement_id: Mapped[int | None] = mapped_column(ForeignKey("engagements.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_message_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)

    task: Mapped[Task] = relationship()
    business: Mapped[User] = relationship(foreign_keys=[business_id])
    freelancer: Mapped[User] = relationship(foreign_keys=[freelancer_id])

    def participant_ids(self) -> tuple[int, int]:
        return self.business_id, self.freelancer_id


class Message(db.Model):
    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_thread_id_id", "thread_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    sender_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Held by the risk screen until an operator approves it; only the sender sees a held message.
    moderation_status: Mapped[ModerationStatus] = mapped_column(
        _enum(ModerationStatus), default=ModerationStatus.APPROVED, server_default=ModerationStatus.APPROVED.value)

    sender: Mapped[User] = relationship()


class ThreadRead(db.Model):
    """How far each participant has read a thread (read receipts and unread counts)."""

    __tablename__ = "thread_reads"

    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    last_read_message_id: Mapped[int] = mapped_column(Integer, default=0)
    read_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
