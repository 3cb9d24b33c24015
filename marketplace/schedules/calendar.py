"""What the calendars show: a task's week in its own time zone, coverage over the next 14 days,
who is on shift now, and a specialist's shifts (and the open ones they could claim) in theirs."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from marketplace.accounts.models import User
from marketplace.contracts.models import Contract, ContractKind, ContractStatus
from marketplace.extensions import db
from marketplace.schedules.models import Shift, ShiftSeat, hhmm
from marketplace.tasks.models import Task

COVERAGE_DAYS = 14


def zone_of(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ValueError, KeyError, OSError):
        return ZoneInfo("UTC")


def zone_label(name: str) -> str:
    return name.split("/")[-1].replace("_", " ") if name and name != "UTC" else "UTC"


def local_span(shift: Shift, zone_name: str) -> str:
    """"Mon 23 Nov 09:00–17:00" in `zone_name` (with "+1" when it ends on a later day)."""
    zone = zone_of(zone_name)
    start, end = shift.start.astimezone(zone), shift.end.astimezone(zone)
    days = (end.date() - start.date()).days
    return (f"{start:%a %d %b} {start:%H:%M}–{end:%H:%M}" + (f" (+{days})" if days else ""))


def describe_shift(shift: Shift) -> str:
    """The shift in the task's own time zone, as the business planned it."""
    return f"{local_span(shift, shift.task.timezone)} {zone_label(shift.task.timezone)} time"


# ---------------------------------------------------------------- business: the task's week

@dataclass
class DayColumn:
    day: date
    shifts: list[Shift] = field(default_factory=list)


def week_monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def task_week(task: Task, monday: date) -> list[DayColumn]:
    """The task's shifts starting in the local week from `monday`, by local day."""
    days = [DayColumn(monday + timedelta(days=i)) for i in range(7)]
    shifts = db.session.scalars(
        select(Shift).where(Shift.task_id == task.id, Shift.local_date >= monday,
                            Shift.local_date < monday + timedelta(days=7), Shift.cancelled_at.is_(None))
        .options(selectinload(Shift.seat_rows).selectinload(ShiftSeat.holder)).order_by(Shift.starts_at)).all()
    for shift in shifts:
        days[(shift.local_date - monday).days].shifts.append(shift)
    return days


@dataclass
class Coverage:
    seat_minutes: int
    covered_minutes: int

    @property
    def percent(self) -> int | None:
        return round(100 * self.covered_minutes / self.seat_minutes) if self.seat_minutes else None


def coverage(task: Task, now: datetime, days: int = COVERAGE_DAYS) -> Coverage:
    """Seat-minutes held over seat-minutes wanted, for shifts starting in the next `days` days."""
    shifts = db.session.scalars(
        select(Shift).where(Shift.task_id == task.id, Shift.cancelled_at.is_(None), Shift.ends_at > now,
                            Shift.starts_at < now + timedelta(days=days))
        .options(selectinload(Shift.seat_rows))).all()
    wanted = sum(s.minutes * s.seats for s in shifts)
    held = sum(s.minutes * (s.seats - s.open_seats) for s in shifts)
    return Coverage(wanted, held)


def on_shift_now(task: Task, now: datetime) -> list[tuple[Shift, User]]:
    rows = db.session.execute(
        select(Shift, User).join(ShiftSeat, ShiftSeat.shift_id == Shift.id).join(User, User.id == ShiftSeat.holder_id)
        .where(Shift.task_id == task.id, Shift.cancelled_at.is_(None), Shift.starts_at <= now, Shift.ends_at > now)
        .order_by(Shift.starts_at, User.full_name)).all()
    return [(row[0], row[1]) for row in rows]


def open_shifts(task: Task, now: datetime, days: int = COVERAGE_DAYS) -> list[Shift]:
    """Shifts with an open seat starting within `days` days."""
    shifts = db.session.scalars(
        select(Shift).where(Shift.task_id == task.id, Shift.cancelled_at.is_(None), Shift.starts_at > now,
                            Shift.starts_at < now + timedelta(days=days),
                            select(ShiftSeat.id).where(ShiftSeat.shift_id == Shift.id,
                                                       ShiftSeat.holder_id.is_(None)).exists())
        .options(selectinload(Shift.seat_rows)).order_by(Shift.starts_at)).all()
    return list(shifts)


# ---------------------------------------------------------------- specialist: my shifts

@dataclass
class MyShift:
    shift: Shift
    seat: ShiftSeat
    can_log_time: bool = False


def my_shifts(user: User, start: datetime, end: datetime) -> list[MyShift]:
    rows = db.session.execute(
        select(Shift, ShiftSeat).join(ShiftSeat, ShiftSeat.shift_id == Shift.id)
        .where(ShiftSeat.holder_id == user.id, Shift.cancelled_at.is_(None), Shift.ends_at > start,
               Shift.starts_at < end)
        .options(selectinload(Shift.task)).order_by(Shift.starts_at)).all()
    return [MyShift(shift, seat) for shift, seat in rows]


def claimable_shifts(user: User, now: datetime, days: int = COVERAGE_DAYS) -> list[Shift]:
    """Open seats in the next `days` days on tasks where the user has an active hourly contract."""
    task_ids = select(Contract.task_id).where(Contract.freelancer_id == user.id, Contract.kind == ContractKind.HOURLY,
                                              Contract.status == ContractStatus.ACTIVE)
    held = select(ShiftSeat.shift_id).where(ShiftSeat.holder_id == user.id)
    return list(db.session.scalars(
        select(Shift).where(Shift.task_id.in_(task_ids), Shift.cancelled_at.is_(None), Shift.starts_at > now,
                            Shift.starts_at < now + timedelta(days=days), Shift.id.not_in(held),
                            select(ShiftSeat.id).where(ShiftSeat.shift_id == Shift.id,
                                                       ShiftSeat.holder_id.is_(None)).exists())
        .options(selectinload(Shift.task), selectinload(Shift.seat_rows)).order_by(Shift.starts_at)))


def swappable_seats(user: User, shift: Shift, now: datetime) -> list[ShiftSeat]:
    """Seats other specialists hold in later shifts of the same task (what a swap could take)."""
    return list(db.session.scalars(
        select(ShiftSeat).join(Shift, Shift.id == ShiftSeat.shift_id)
        .where(Shift.task_id == shift.task_id, Shift.id != shift.id, Shift.cancelled_at.is_(None),
               Shift.starts_at > now, ShiftSeat.holder_id.is_not(None), ShiftSeat.holder_id != user.id)
        .options(selectinload(ShiftSeat.shift), selectinload(ShiftSeat.holder)).order_by(Shift.starts_at)
        .limit(50)))


def time_label(minute: int) -> str:
    return hhmm(minute)


