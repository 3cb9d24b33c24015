"""Kept, late-dropped and missed shifts: the record behind "kept 48 of 49 shifts in the last 90 days".

- kept: a seat held when its shift ended (not cancelled), that the business didn't mark missed;
- missed: a seat the business marked missed after the shift started;
- late drop: a seat given back less than SHIFT_DROP_NOTICE_HOURS before the shift started.
A shift counts in the window by when it started. The figures are counted from the rows
every time (never stored), so nothing a job runs can make them drift.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from marketplace.accounts.models import User
from marketplace.core.errors import Conflict, Forbidden
from marketplace.core.id_lists import ids_in
from marketplace.extensions import db
from marketplace.notifications.services import notify
from marketplace.schedules.calendar import describe_shift
from marketplace.schedules.models import Shift, ShiftDrop, ShiftSeat

WINDOW_DAYS = 90


@dataclass(frozen=True)
class ShiftRecord:
    kept: int = 0
    missed: int = 0
    late_drops: int = 0

    @property
    def total(self) -> int:
        return self.kept + self.missed + self.late_drops

    @property
    def summary(self) -> str:
        if not self.total:
            return f"no coverage shifts in the last {WINDOW_DAYS} days yet"
        return f"kept {self.kept} of {self.total} shift{'s' if self.total != 1 else ''} in the last {WINDOW_DAYS} days"


def records_for(user_ids: list[int], now: datetime) -> dict[int, ShiftRecord]:
    """Each user's record over the last WINDOW_DAYS (two grouped queries)."""
    if not user_ids:
        return {}
    since = now - timedelta(days=WINDOW_DAYS)
    held = db.session.execute(
        select(ShiftSeat.holder_id, func.count().filter(ShiftSeat.missed_at.is_(None)),
               func.count().filter(ShiftSeat.missed_at.is_not(None)))
        .join(Shift, Shift.id == ShiftSeat.shift_id)
        .where(ids_in(ShiftSeat.holder_id, user_ids), Shift.cancelled_at.is_(None), Shift.starts_at >= since,
               Shift.ends_at <= now)
        .group_by(ShiftSeat.holder_id)).all()
    # A missed seat counts from the moment it is marked (the shift has started by then).
    missed_early = dict(db.session.execute(
        select(ShiftSeat.holder_id, func.count()).join(Shift, Shift.id == ShiftSeat.shift_id)
        .where(ids_in(ShiftSeat.holder_id, user_ids), ShiftSeat.missed_at.is_not(None), Shift.cancelled_at.is_(None),
               Shift.starts_at >= since, Shift.ends_at > now)
        .group_by(ShiftSeat.holder_id)).all())
    late = dict(db.session.execute(
        select(ShiftDrop.specialist_id, func.count()).join(Shift, Shift.id == ShiftDrop.shift_id)
        .where(ids_in(ShiftDrop.specialist_id, user_ids), ShiftDrop.late.is_(True), Shift.starts_at >= since,
               Shift.starts_at <= now)
        .group_by(ShiftDrop.specialist_id)).all())
    out = {uid: ShiftRecord() for uid in user_ids}
    for uid, kept, missed in held:
        out[uid] = ShiftRecord(kept=kept, missed=missed)
    for uid in user_ids:
        record = out[uid]
        out[uid] = ShiftRecord(kept=record.kept, missed=record.missed + missed_early.get(uid, 0),
                               late_drops=late.get(uid, 0))
    return out


def record_of(user_id: int, now: datetime) -> ShiftRecord:
    return records_for([user_id], now)[user_id]


def mark_missed(actor: User, seat: ShiftSeat, *, now: datetime) -> ShiftSeat:
    """The business says the holder didn't work this shift. Once the shift has started; once."""
    shift = seat.shift
    if actor.id != shift.task.business_id:
        raise Forbidden("Only the business that posted this task can mark a shift missed.")
    if seat.holder_id is None:
        raise Conflict("Nobody held this seat.")
    if shift.start > now:
        raise Conflict("A shift can be marked missed once it has started.")
    marked = db.session.execute(update(ShiftSeat).where(ShiftSeat.id == seat.id, ShiftSeat.missed_at.is_(None),
                                                        ShiftSeat.holder_id.is_not(None))
                                .values(missed_at=now).execution_options(synchronize_session=False))
    if marked.rowcount != 1:
        raise Conflict("This shift is already marked missed.")
    db.session.refresh(seat)
    notify(seat.holder_id, "shift_missed", f"Shift marked missed: {shift.task.title}",
           f"{actor.full_name} marked {describe_shift(shift)} as missed. If you worked it, log your time "
           "and message the business.", "/shifts/mine")
    return seat
