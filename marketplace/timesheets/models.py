"""Timesheet models: the time a specialist logs on an hourly contract, and each week's limit."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.contracts.models import Contract
from marketplace.core.time import as_utc, utcnow
from marketplace.extensions import db

ENTRY_SOURCES = ("manual",)


class TimeEntry(db.Model):
    """Worked time [started_at, ended_at) in whole UTC minutes (see timesheets/weeks.py for the rules).

    `week_start` is the billing week of `started_at` (Monday 00:00 UTC), kept for indexing
    and for the weekly close. An entry crossing Monday 00:00 UTC is counted minute by
    minute in both weeks by `weeks.allocate_week`, so a week's query must also look at
    the entries of the week before.
    """

    __tablename__ = "time_entries"
    __table_args__ = (
        CheckConstraint("ended_at > started_at", name="ends_after_start"),
        CheckConstraint("minutes > 0", name="minutes_positive"),
        CheckConstraint("source IN ('manual')", name="source_known"),
        Index("ix_time_entries_contract_week", "contract_id", "week_start", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    week_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    minutes: Mapped[int] = mapped_column(Integer)
    memo: Mapped[str] = mapped_column(String(500))
    channel: Mapped[str] = mapped_column(String(20), default="", server_default="")
    # How the time was recorded; "manual" (typed in) is the only source today.
    source: Mapped[str] = mapped_column(String(10), default="manual", server_default="manual")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    contract: Mapped[Contract] = relationship()

    @property
    def start(self) -> datetime:
        return as_utc(self.started_at)

    @property
    def end(self) -> datetime:
        return as_utc(self.ended_at)


class TimesheetWeek(db.Model):
    """The weekly limit that applies to one contract-week, fixed once the week has activity.

    A row is written in the week itself (when the first entry is logged, or when the
    business changes the limit) and by the weekly close; a pending limit change
    (`Contract.next_weekly_limit_minutes`) is applied to the first row written for a
    later week than any existing row. So a week's limit never changes after the fact,
    and one (contract, week) row exists at most.
    """

    __tablename__ = "timesheet_weeks"
    __table_args__ = (
        UniqueConstraint("contract_id", "week_start", name="uq_timesheet_weeks_contract_week"),
        CheckConstraint("limit_minutes BETWEEN 1 AND 10080", name="limit_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"))
    week_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    limit_minutes: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
