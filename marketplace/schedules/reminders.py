"""Scheduled shift jobs (run by `jobs run-due`): each selects what is due and marks it in the same
statement that claims it (`UPDATE ... WHERE <mark> IS NULL`, checked by rowcount), so two runs at
once send every reminder exactly once.

- an hour before a shift, its holders are reminded;
- 48 hours before a shift that still has open seats, the business is alerted, with a link
  to the specialists whose stated availability covers the open hours;
- after a shift ends with no time logged for it, the holder is asked to log it and the
  business is asked whether to mark it missed.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from marketplace.core.time import app_now
from marketplace.extensions import db
from marketplace.notifications.services import notify
from marketplace.schedules.calendar import describe_shift, local_span
from marketplace.schedules.models import Shift, ShiftSeat

REMINDER_BEFORE = timedelta(hours=1)
OPEN_ALERT_BEFORE = timedelta(hours=48)
FOLLOWUP_WITHIN = timedelta(days=7)   # older shifts are not chased


def _claim_mark(model, row_id: int, column: str, now: datetime, *conditions) -> bool:
    done = db.session.execute(update(model).where(model.id == row_id, getattr(model, column).is_(None), *conditions)
                              .values({column: now}).execution_options(synchronize_session=False))
    return done.rowcount == 1


def send_shift_reminders(now: datetime | None = None) -> int:
    now = now or app_now()
    due = db.session.execute(
        select(ShiftSeat.id, Shift.id).join(Shift, Shift.id == ShiftSeat.shift_id)
        .where(ShiftSeat.holder_id.is_not(None), ShiftSeat.reminded_at.is_(None), Shift.cancelled_at.is_(None),
               Shift.starts_at > now, Shift.starts_at <= now + REMINDER_BEFORE)).all()
    sent = 0
    for seat_id, shift_id in due:
        if not _claim_mark(ShiftSeat, seat_id, "reminded_at", now, ShiftSeat.holder_id.is_not(None)):
            continue
        seat, shift = db.session.get(ShiftSeat, seat_id), db.session.get(Shift, shift_id)
        from marketplace.timesheets.services import timezone_of
        notify(seat.holder_id, "shift_reminder", f"Your shift starts within the hour: {shift.task.title}",
               f"{local_span(shift, timezone_of(seat.holder))} your time ({shift.channel}).", "/shifts/mine")
        sent += 1
    return sent


def alert_open_shifts(now: datetime | None = None) -> int:
    now = now or app_now()
    free_seat = select(ShiftSeat.id).where(ShiftSeat.shift_id == Shift.id, ShiftSeat.holder_id.is_(None)).exists()
    due = db.session.scalars(
        select(Shift.id).where(Shift.open_alert_sent_at.is_(None), Shift.cancelled_at.is_(None), Shift.starts_at > now,
                               Shift.starts_at <= now + OPEN_ALERT_BEFORE, free_seat)).all()
    sent = 0
    for shift_id in due:
        if not _claim_mark(Shift, shift_id, "open_alert_sent_at", now):
            continue
        shift = db.session.get(Shift, shift_id)
        notify(shift.task.business_id, "shift_uncovered",
               f"{shift.open_seats} open seat{'s' if shift.open_seats != 1 else ''} in 48 h: {shift.task.title}",
               f"Nobody has claimed {shift.open_seats} of {shift.seats} seats in {describe_shift(shift)} yet. "
               "Find specialists whose availability covers those hours, or assign a hired specialist.",
               f"/tasks/{shift.task_id}/schedule/find?shift={shift.id}")
        sent += 1
    return sent


def ask_about_unlogged_shifts(now: datetime | None = None) -> int:
    from marketplace.timesheets.models import TimeEntry
    now = now or app_now()
    logged = select(TimeEntry.id).where(TimeEntry.contract_id == ShiftSeat.contract_id,
                                        TimeEntry.started_at < Shift.ends_at, TimeEntry.ended_at > Shift.starts_at)
    due = db.session.execute(
        select(ShiftSeat.id, Shift.id).join(Shift, Shift.id == ShiftSeat.shift_id)
        .where(ShiftSeat.holder_id.is_not(None), ShiftSeat.followup_sent_at.is_(None), ShiftSeat.missed_at.is_(None),
               Shift.cancelled_at.is_(None), Shift.ends_at <= now, Shift.ends_at > now - FOLLOWUP_WITHIN,
               ~logged.exists())).all()
    asked = 0
    for seat_id, shift_id in due:
        if not _claim_mark(ShiftSeat, seat_id, "followup_sent_at", now):
            continue
        seat, shift = db.session.get(ShiftSeat, seat_id), db.session.get(Shift, shift_id)
        when = describe_shift(shift)
        notify(seat.holder_id, "shift_unlogged", f"No time logged for your shift: {shift.task.title}",
               f"{when} has ended and no time is logged for it. Log it from the shift (the hours are filled in).",
               "/shifts/mine?past=1")
        notify(shift.task.business_id, "shift_unlogged",
               f"No time logged for {seat.holder.full_name}'s shift: {shift.task.title}",
               f"{when} has ended with no time logged. If {seat.holder.full_name} didn't work it, mark it missed.",
               f"/tasks/{shift.task_id}/schedule?week={shift.local_date.isoformat()}")
        asked += 1
    return asked
