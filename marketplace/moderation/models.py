"""Moderation records: flags, held items waiting for an operator, the audit log, operator second factors."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.accounts.models import User
from marketplace.core.time import utcnow
from marketplace.extensions import db

# What can be reported or held for review; target_id is that table's id (a profile's is the user id).
TARGET_TYPES = ("task", "profile", "bid", "message", "review")
FLAG_REASONS: tuple[tuple[str, str], ...] = (
    ("off_platform", "Asks to move contact or payment off the platform"),
    ("spam", "Spam or advertising"),
    ("abusive", "Abusive, harassing or hateful"),
    ("fraud", "Scam or fraud"),
    ("prohibited", "Prohibited work or content"),
    ("fake", "Fake or misleading"),
    ("other", "Something else"),
)


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Flag(db.Model):
    """A user's report of a task, profile, bid, message or review. One open flag per reporter and target."""

    __tablename__ = "flags"
    __table_args__ = (
        CheckConstraint(_in("target_type", TARGET_TYPES), name="target_type_known"),
        CheckConstraint(_in("reason", [r for r, _ in FLAG_REASONS]), name="reason_known"),
        CheckConstraint("status IN ('open', 'upheld', 'dismissed')", name="status_known"),
        Index("uq_flags_open_per_reporter", "reporter_id", "target_type", "target_id", unique=True,
              sqlite_where=db.text("status = 'open'"), postgresql_where=db.text("status = 'open'")),
        Index("ix_flags_status_created", "status", "created_at"),
        Index("ix_flags_target", "target_type", "target_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    target_type: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[int] = mapped_column(Integer)
    # Whose item it is (the task's business, the bid's specialist...), for the queue and suspensions.
    target_owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    reason: Mapped[str] = mapped_column(String(20))
    details: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(12), default="open")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    handled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolution_note: Mapped[str] = mapped_column(String(500), default="", server_default="")

    reporter: Mapped[User] = relationship(foreign_keys=[reporter_id])
    target_owner: Mapped[User | None] = relationship(foreign_keys=[target_owner_id])


class ModerationCase(db.Model):
    """An item the risk screen (or a first-task rule) held in `pending_review`, waiting for an operator.

    The item itself carries moderation_status; the case carries why it was held
    and who decided. An operator's decision is a conditional UPDATE on
    `status = 'open'`, so a second operator acting on the same case is told it
    was already handled.
    """

    __tablename__ = "moderation_cases"
    __table_args__ = (
        CheckConstraint(_in("target_type", ("task", "bid", "message")), name="target_type_known"),
        CheckConstraint("status IN ('open', 'approved', 'rejected', 'removed')", name="status_known"),
        Index("ix_moderation_cases_status_created", "status", "created_at"),
        Index("ix_moderation_cases_target", "target_type", "target_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    target_type: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[int] = mapped_column(Integer)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)   # the item's author
    reasons: Mapped[str] = mapped_column(Text)          # the screen's findings, one per line
    status: Mapped[str] = mapped_column(String(12), default="open")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    handled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_note: Mapped[str] = mapped_column(String(500), default="", server_default="")

    owner: Mapped[User] = relationship(foreign_keys=[owner_id])

    @property
    def reason_list(self) -> list[str]:
        return [line for line in self.reasons.splitlines() if line.strip()]


class AuditEntry(db.Model):
    """One operator action (or system decision): append-only, searchable by operators."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_created", "created_at"),
        Index("ix_audit_entries_target", "target_type", "target_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)   # None: the system
    action: Mapped[str] = mapped_column(String(40), index=True)     # approve, reject, remove, warn, suspend, ...
    target_type: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[int] = mapped_column(Integer)
    subject_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)  # who it affects
    reason: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[str] = mapped_column(Text, default="")           # e.g. amounts of a dispute split
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    subject_user: Mapped[User | None] = relationship(foreign_keys=[subject_user_id])


class AuditLogIsAppendOnly(Exception):
    pass


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
def _forbid_changes(mapper, connection, target):
    # Migration 0006 also installs database triggers that refuse UPDATE and DELETE.
    raise AuditLogIsAppendOnly("audit entries are append-only")


class RecoveryCode(db.Model):
    """A one-time recovery code for an operator's second factor (stored hashed)."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(128))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DisputeStatement(db.Model):
    """A party's (or an operator's) statement in an engagement's dispute thread."""

    __tablename__ = "dispute_statements"

    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    author: Mapped[User] = relationship()
