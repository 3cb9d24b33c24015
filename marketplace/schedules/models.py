"""Coverage schedule models.

- `ScheduleBlock`: what the business asks for, in the task's time zone: a weekly block
  (weekday + local start/end) or a one-off block (a local date + start/end). An end at or
  before the start means the block runs past midnight into the next local day.
- `Shift`: one dated occurrence of a block, in UTC; (block, local date) is unique, so
  generating shifts twice (two `jobs run-due` at once) can never make two.
- `ShiftSeat`: one person's place in a shift. A seat is taken by a conditional UPDATE
  (`holder_id IS NULL`), and a person holds at most one seat of a shift (unique), so a
  seat is never given twice on either database.
- `ShiftDrop`: a dropped seat, late when inside the notice period (reliability counts it).
- `ShiftSwap`: a swap one specialist offers and the other confirms.
- `ShiftFeed`: the secret (hashed) token of a specialist's iCalendar feed.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String,
                        UniqueConstraint, false)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.accounts.models import User
from marketplace.core.time import as_utc, utcnow
from marketplace.extensions import db
from marketplace.tasks.models import Task

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MAX_BLOCK_SEATS = 20


def hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


class ScheduleBlock(db.Model):
    __tablename__ = "schedule_blocks"
    __table_args__ = (
        CheckConstraint("(weekday IS NOT NULL AND on_date IS NULL) OR (weekday IS NULL AND on_date IS NOT NULL)",
                        name="weekly_or_one_off"),
        CheckConstraint("weekday IS NULL OR weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("start_minute BETWEEN 0 AND 1439 AND end_minute BETWEEN 0 AND 1439",
                        name="minutes_in_day"),
        CheckConstraint("start_minute <> end_minute", name="not_empty"),
        CheckConstraint(f"seats BETWEEN 1 AND {MAX_BLOCK_SEATS}", name="seats_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int | None] = mapped_column(Integer)          # 0 = Monday; None for a one-off block
    on_date: Mapped[date | None] = mapped_column(Date)            # a one-off block's local date
    start_minute: Mapped[int] = mapped_column(Integer)            # local minutes after midnight
    end_minute: Mapped[int] = mapped_column(Integer)              # <= start_minute: ends the next day
    channel: Mapped[str] = mapped_column(String(10))
    seats: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    task: Mapped[Task] = relationship()

    @property
    def is_weekly(self) -> bool:
        return self.weekday is not None

    @property
    def crosses_midnight(self) -> bool:
        return self.end_minute <= self.start_minute

    @property
    def hours_label(self) -> str:
        return f"{hhmm(self.start_minute)}–{hhmm(self.end_minute)}" + (" (+1 day)" if self.crosses_midnight else "")

    @property
    def label(self) -> str:
        when = f"every {WEEKDAYS[self.weekday]}" if self.is_weekly else self.on_date.strftime("%a %d %b %Y")
        return f"{when} {self.hours_label}"


class Shift(db.Model):
    __tablename__ = "shifts"
    __table_args__ = (
        UniqueConstraint("block_id", "local_date", name="uq_shifts_block_date"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint(f"seats BETWEEN 1 AND {MAX_BLOCK_SEATS}", name="seats_range"),
        Index("ix_shifts_task_starts", "task_id", "starts_at"),
        Index("ix_shifts_starts", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    block_id: Mapped[int] = mapped_column(ForeignKey("schedule_blocks.id", ondelete="CASCADE"))
    local_date: Mapped[date] = mapped_column(Date)   # the local date the shift starts on (task's zone)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    channel: Mapped[str] = mapped_column(String(10))
    seats: Mapped[int] = mapped_column(Integer)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The 48-hour "still has open seats" alert to the business, sent once.
    open_alert_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    task: Mapped[Task] = relationship()
    block: Mapped[ScheduleBlock] = relationship()
    seat_rows: Mapped[list[ShiftSeat]] = relationship(back_populates="shift", order_by="ShiftSeat.seat_no",
                                                      cascade="all, delete-orphan")

    @property
    def start(self) -> datetime:
        return as_utc(self.starts_at)

    @property
    def end(self) -> datetime:
        return as_utc(self.ends_at)

    @property
    def minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)

    @property
    def holders(self) -> list[User]:
        return [s.holder for s in self.seat_rows if s.holder_id is not None]

    @property
    def open_seats(self) -> int:
        return sum(1 for s in self.seat_rows if s.holder_id is None)


class ShiftSeat(db.Model):
    __tablename__ = "shift_seats"
    __table_args__ = (
        UniqueConstraint("shift_id", "seat_no", name="uq_shift_seats_shift_seat"),
        UniqueConstraint("shift_id", "holder_id", name="uq_shift_seats_shift_holder"),
        CheckConstraint("(holder_id IS NULL) = (contract_id IS NULL)", name="holder_has_contract"),
        Index("ix_shift_seats_holder", "holder_id", "shift_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shift_id: Mapped[int] = mapped_column(ForeignKey("shifts.id", ondelete="CASCADE"))
    seat_no: Mapped[int] = mapped_column(Integer)
    holder_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    assigned_by_business: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))      # the 1-hour reminder
    followup_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # "no time logged" asks
    missed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))        # the business marked it

    shift: Mapped[Shift] = relationship(back_populates="seat_rows")
    holder: Mapped[User | None] = relationship()


class ShiftDrop(db.Model):
    __tablename__ = "shift_drops"
    __table_args__ = (Index("ix_shift_drops_specialist", "specialist_id", "dropped_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shift_id: Mapped[int] = mapped_column(ForeignKey("shifts.id", ondelete="CASCADE"), index=True)
    specialist_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    late: Mapped[bool] = mapped_column(Boolean)
    dropped_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    shift: Mapped[Shift] = relationship()


class ShiftSwap(db.Model):
    __tablename__ = "shift_swaps"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'accepted', 'declined', 'cancelled')", name="status_known"),
        CheckConstraint("from_seat_id <> to_seat_id", name="two_seats"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    from_seat_id: Mapped[int] = mapped_column(ForeignKey("shift_seats.id", ondelete="CASCADE"))
    to_seat_id: Mapped[int] = mapped_column(ForeignKey("shift_seats.id", ondelete="CASCADE"))
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    counterpart_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    from_seat: Mapped[ShiftSeat] = relationship(foreign_keys=[from_seat_id])
    to_seat: Mapped[ShiftSeat] = relationship(foreign_keys=[to_seat_id])
    requester: Mapped[User] = relationship(foreign_keys=[requester_id])
    counterpart: Mapped[User] = relationship(foreign_keys=[counterpart_id])


class ShiftFeed(db.Model):
    """A specialist's iCalendar feed: only the SHA-256 of the secret token is stored."""

    __tablename__ = "shift_feeds"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
