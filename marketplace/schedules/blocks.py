"""The business's side of a schedule: add, edit and remove blocks, and keep shifts in step.

Rules, in one place:
- only the task's business edits its schedule, on an hourly task that is not over;
- a block has a channel the platform knows, 1-20 seats, different start and end minutes;
  a weekly block has a weekday, a one-off block a date within the task's dates;
- shifts exist for the block's dates between the task's start and end dates, up to
  SHIFT_HORIZON_DAYS ahead (the scheduled job extends them day by day);
- edits apply to shifts that have not started: a shift whose hours change keeps its
  row but releases its seats; a shift that disappears (block removed, seats reduced)
  is cancelled, and whoever held a seat in it is told.
Functions take `now` and only flush.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from marketplace.accounts.models import User
from marketplace.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from marketplace.core.reference import CHANNELS
from marketplace.core.time import as_utc
from marketplace.extensions import db
from marketplace.notifications.services import notify
from marketplace.schedules.models import MAX_BLOCK_SEATS, ScheduleBlock, Shift, ShiftSeat
from marketplace.schedules.occurrences import occurrence, weekly_dates
from marketplace.tasks.models import Pricing, Task, TaskStatus

CLOSED_TASK_STATUSES = (TaskStatus.COMPLETED, TaskStatus.CANCELLED, TaskStatus.REMOVED)


@dataclass(frozen=True)
class BlockInput:
    weekday: int | None
    on_date: date | None
    start_minute: int
    end_minute: int
    channel: str
    seats: int


def get_own_task(actor: User, task_id: int) -> Task:
    task = db.session.get(Task, task_id)
    if task is None or not (actor.id == task.business_id or actor.is_operator):
        raise NotFound("We couldn't find that task.")
    return task


def check_can_edit(actor: User, task: Task) -> None:
    if actor.id != task.business_id:
        raise Forbidden("Only the business that posted this task can change its coverage schedule.")
    if task.pricing != Pricing.HOURLY:
        raise Conflict("Coverage schedules are for hourly tasks.")
    if task.status in CLOSED_TASK_STATUSES:
        raise Conflict("This task is over; its schedule can no longer change.")


def can_edit(actor: User, task: Task) -> bool:
    try:
        check_can_edit(actor, task)
    except (Forbidden, Conflict):
        return False
    return True


def _validate(task: Task, data: BlockInput) -> None:
    if data.channel not in CHANNELS:
        raise ValidationFailed("Choose a support channel.", field="channel")
    if not 1 <= data.seats <= MAX_BLOCK_SEATS:
        raise ValidationFailed(f"A block needs between 1 and {MAX_BLOCK_SEATS} people.", field="seats")
    if data.start_minute == data.end_minute:
        raise ValidationFailed("The end must differ from the start (an earlier end runs past midnight).",
                               field="end")
    if (data.weekday is None) == (data.on_date is None):
        raise ValidationFailed("Choose a weekday for a weekly block or a date for a one-off block.")
    if data.weekday is not None and not 0 <= data.weekday <= 6:
        raise ValidationFailed("Choose a weekday.", field="weekday")
    if data.on_date is not None and not task.start_date <= data.on_date <= task.end_date:
        raise ValidationFailed(f"Choose a date between the task's dates ({task.start_date:%d %b %Y} – "
                               f"{task.end_date:%d %b %Y}).", field="on_date")


def get_block(task: Task, block_id: int) -> ScheduleBlock:
    block = db.session.get(ScheduleBlock, block_id)
    if block is None or block.task_id != task.id or block.removed_at is not None:
        raise NotFound("We couldn't find that block in this schedule.")
    return block


def blocks_of(task: Task) -> list[ScheduleBlock]:
    return list(db.session.scalars(
        select(ScheduleBlock).where(ScheduleBlock.task_id == task.id, ScheduleBlock.removed_at.is_(None))
        .order_by(ScheduleBlock.weekday.is_(None), ScheduleBlock.weekday, ScheduleBlock.on_date,
                  ScheduleBlock.start_minute, ScheduleBlock.id)))


def add_block(actor: User, task: Task, data: BlockInput, *, now: datetime) -> ScheduleBlock:
    check_can_edit(actor, task)
    _validate(task, data)
    block = ScheduleBlock(task_id=task.id, weekday=data.weekday, on_date=data.on_date, start_minute=data.start_minute,
                          end_minute=data.end_minute, channel=data.channel, seats=data.seats)
    db.session.add(block)
    db.session.flush()
    sync_block(block, now=now)
    return block


def edit_block(actor: User, block: ScheduleBlock, data: BlockInput, *, now: datetime) -> ScheduleBlock:
    task = block.task
    check_can_edit(actor, task)
    _validate(task, data)
    if (data.weekday is None) != (block.weekday is None):
        raise ValidationFailed("A weekly block stays weekly and a one-off block stays one-off; "
                               "remove it and add a new one instead.")
    block.weekday, block.on_date = data.weekday, data.on_date
    block.start_minute, block.end_minute = data.start_minute, data.end_minute
    block.channel, block.seats = data.channel, data.seats
    db.session.flush()
    sync_block(block, now=now)
    return block


def remove_block(actor: User, block: ScheduleBlock, *, now: datetime) -> int:
    """Remove a block: its shifts that haven't started are cancelled (holders told). Returns how many."""
    check_can_edit(actor, block.task)
    block.removed_at = now
    db.session.flush()
    return sync_block(block, now=now)


# ---------------------------------------------------------------- shifts in step with the blocks

def horizon_end(now: datetime) -> date:
    return now.date() + timedelta(days=current_app.config["SHIFT_HORIZON_DAYS"])


def _wanted_dates(block: ScheduleBlock, task: Task, first: date, last: date) -> list[date]:
    if block.removed_at is not None:
        return []
    first, last = max(first, task.start_date), min(last, task.end_date)
    if block.weekday is None:
        return [block.on_date] if first <= block.on_date <= last else []
    return weekly_dates(block.weekday, first, last)


def _release_seat(seat: ShiftSeat) -> int | None:
    holder = seat.holder_id
    seat.holder_id = seat.contract_id = seat.claimed_at = seat.reminded_at = None
    seat.assigned_by_business = False
    return holder


def _tell_holders(shift: Shift, holders: list[int], what: str) -> None:
    from marketplace.schedules.calendar import describe_shift
    for holder in holders:
        notify(holder, "shift_changed", f"Your shift changed: {shift.task.title}",
               f"{describe_shift(shift)}: {what}", "/shifts/mine")


def _set_seats(shift: Shift, seats: int) -> list[int]:
    """Grow or shrink a shift's seats; emptied seats go first. Returns the holders who lost one."""
    rows = list(shift.seat_rows)
    lost: list[int] = []
    if seats < len(rows):
        # Keep held seats where possible: remove free seats first, then the latest claims.
        order = sorted(rows, key=lambda s: (s.holder_id is not None,
                                            -as_utc(s.claimed_at).timestamp() if s.claimed_at else 0))
        for seat in order[:len(rows) - seats]:
            if seat.holder_id is not None:
                lost.append(seat.holder_id)
            shift.seat_rows.remove(seat)
            db.session.delete(seat)
    used = {s.seat_no for s in shift.seat_rows}
    number = 1
    while len(shift.seat_rows) < seats:
        while number in used:
            number += 1
        shift.seat_rows.append(ShiftSeat(seat_no=number))
        used.add(number)
    shift.seats = seats
    return lost


def _insert_shift(task: Task, block: ScheduleBlock, local_date: date, start: datetime, end: datetime) -> bool:
    """Insert one shift with its seats; False if a concurrent run inserted it first."""
    try:
        with db.session.begin_nested():
            shift = Shift(task_id=task.id, block_id=block.id, local_date=local_date, starts_at=start, ends_at=end,
                          channel=block.channel, seats=block.seats)
            shift.seat_rows = [ShiftSeat(seat_no=n) for n in range(1, block.seats + 1)]
            db.session.add(shift)
            db.session.flush()
    except IntegrityError:
        return False
    return True


def sync_block(block: ScheduleBlock, *, now: datetime) -> int:
    """Bring the block's shifts that haven't started in line with it. Returns how many shifts changed."""
    task = block.task
    today_local = now.date() - timedelta(days=1)   # a shift starting "today" in any zone is checked by time
    wanted = {d: occ for d in _wanted_dates(block, task, today_local, horizon_end(now))
              if (occ := occurrence(d, block.start_minute, block.end_minute, task.timezone)) is not None
              and occ.start > now}
    existing = {s.local_date: s for s in db.session.scalars(
        select(Shift).where(Shift.block_id == block.id, Shift.starts_at > now))}
    changed = 0
    for day, shift in existing.items():
        occ = wanted.pop(day, None)
        if occ is None:
            if shift.cancelled_at is None:
                holders = [h for h in (_release_seat(s) for s in shift.seat_rows) if h]
                shift.cancelled_at = now
                _tell_holders(shift, holders, "this shift was removed from the schedule, so you no longer hold it.")
                changed += 1
            continue
        touched = False
        if shift.cancelled_at is not None:
            shift.cancelled_at = None
            touched = True
        if (shift.start, shift.end) != (occ.start, occ.end):
            holders = [h for h in (_release_seat(s) for s in shift.seat_rows) if h]
            shift.starts_at, shift.ends_at = occ.start, occ.end
            _tell_holders(shift, holders, "its hours changed, so your seat was released. Claim it again if the "
                                          "new hours suit you.")
            touched = True
        if shift.channel != block.channel:
            shift.channel = block.channel
            touched = True
        if shift.seats != block.seats:
            _tell_holders(shift, _set_seats(shift, block.seats), "it needs fewer people now, so your seat was "
                                                                 "released.")
            touched = True
        changed += touched
    for day, occ in sorted(wanted.items()):
        changed += _insert_shift(task, block, day, occ.start, occ.end)
    db.session.flush()
    return changed


def extend_horizons(now: datetime | None = None) -> int:
    """Scheduled job: create the shifts that came within the horizon, for every live block. Idempotent."""
    from marketplace.core.time import app_now
    now = now or app_now()
    blocks = db.session.scalars(
        select(ScheduleBlock).join(Task, Task.id == ScheduleBlock.task_id)
        .where(ScheduleBlock.removed_at.is_(None), Task.end_date >= now.date() - timedelta(days=1),
               Task.status.not_in(CLOSED_TASK_STATUSES))).all()
    created = 0
    for block in blocks:
        task = block.task
        have = set(db.session.scalars(select(Shift.local_date).where(Shift.block_id == block.id)))
        for day in _wanted_dates(block, task, now.date() - timedelta(days=1), horizon_end(now)):
            if day in have:
                continue
            occ = occurrence(day, block.start_minute, block.end_minute, task.timezone)
            if occ is not None and occ.start > now:
                created += _insert_shift(task, block, day, occ.start, occ.end)
    return created
