"""Stated availability, the shift jobs (reminders, open-seat alerts, unlogged shifts) and the shift record in matching."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.notifications.models import Notification
from marketplace.schedules import blocks, claims, records
from marketplace.schedules.availability import Window, covered_minutes, parse_availability
from marketplace.schedules.models import Shift
from marketplace.schedules.reminders import alert_open_shifts, ask_about_unlogged_shifts, send_shift_reminders
from tests.schedules.helpers import NOW, UTC, hire, hourly_task, weekly


@pytest.mark.parametrize("text, windows", [
    ("Weekdays 08:00–16:00 CET", [Window(d, 480, 960) for d in range(5)]),
    ("Mon-Wed 9-17", [Window(d, 540, 1020) for d in range(3)]),
    ("weekends 10:00-14:00; Fri 18:00 to 23:30", [Window(5, 600, 840), Window(6, 600, 840), Window(4, 1080, 1410)]),
    ("Daily 22:00-06:00", [Window(d, 1320, 360) for d in range(7)]),
    ("Sat, Sun 13:00–19:00", [Window(5, 780, 1140), Window(6, 780, 1140)]),
    ("", [Window(d, 540, 1020) for d in range(5)]),
    ("whenever you need me", [Window(d, 540, 1020) for d in range(5)]),
])
def test_preferred_hours_are_read_as_weekly_windows(text, windows):
    assert parse_availability(text) == windows


def test_covered_minutes_read_the_windows_in_the_specialists_zone():
    saturday = (datetime(2026, 11, 28, 14, tzinfo=UTC), datetime(2026, 11, 28, 18, tzinfo=UTC))
    assert covered_minutes(parse_availability("Sat 13:00-19:00"), "Europe/London", *saturday) == 240
    assert covered_minutes(parse_availability("Sat 13:00-19:00"), "America/New_York", *saturday) == 0
    assert covered_minutes(parse_availability("Sat 12:00-14:00"), "America/New_York", *saturday) == 60   # 17-19 UTC
    assert covered_minutes(parse_availability("Fri 22:00-02:00"), "UTC",
                           datetime(2026, 11, 28, 0, tzinfo=UTC), datetime(2026, 11, 28, 4, tzinfo=UTC)) == 120


def _count(kind):
    return db.session.scalar(select(func.count()).select_from(Notification).where(Notification.kind == kind))


def test_reminders_alerts_and_follow_ups_go_out_once():
    task = hourly_task(start=date(2026, 11, 23), end=date(2026, 12, 20), seats=3)
    block = blocks.add_block(task.business, task, weekly(3, "09:00", "17:00", seats=2), now=NOW)
    ana, contract = hire(task)
    shift = db.session.scalar(select(Shift).where(Shift.block_id == block.id).order_by(Shift.starts_at))
    claims.claim(ana, shift, now=NOW)
    before = shift.start - timedelta(minutes=30)
    for _ in range(2):
        assert send_shift_reminders(before) in (1, 0)
        assert alert_open_shifts(before) in (1, 0)
    assert (_count("shift_reminder"), _count("shift_uncovered")) == (1, 1)
    alert = db.session.scalar(select(Notification).where(Notification.kind == "shift_uncovered"))
    assert alert.link == f"/tasks/{task.id}/schedule/find?shift={shift.id}" and alert.user_id == task.business_id
    after = shift.end + timedelta(hours=1)
    assert ask_about_unlogged_shifts(after) == 1
    assert ask_about_unlogged_shifts(after) == 0
    assert _count("shift_unlogged") == 2            # the specialist and the business


def test_no_follow_up_when_time_was_logged_from_the_shift():
    from marketplace.timesheets.models import TimeEntry
    from marketplace.timesheets.weeks import week_start
    task = hourly_task(start=date(2026, 11, 23), end=date(2026, 12, 20))
    block = blocks.add_block(task.business, task, weekly(3, "09:00", "17:00"), now=NOW)
    ana, contract = hire(task)
    shift = db.session.scalar(select(Shift).where(Shift.block_id == block.id).order_by(Shift.starts_at))
    claims.claim(ana, shift, now=NOW)
    db.session.add(TimeEntry(contract_id=contract.id, started_at=shift.start, ended_at=shift.end,
                             week_start=week_start(shift.start), minutes=shift.minutes, memo="Shift"))
    db.session.flush()
    assert ask_about_unlogged_shifts(shift.end + timedelta(hours=1)) == 0


def test_the_shift_record_feeds_reliability_and_the_match_reasons(app):
    from marketplace.matching.scoring import Candidate, score
    task = hourly_task()
    steady = Candidate(user_id=1, hourly_rate=2500, timezone="UTC", shifts_kept=48, shifts_counted=49)
    flaky = Candidate(user_id=2, hourly_rate=2500, timezone="UTC", shifts_kept=10, shifts_counted=20)
    good, bad = score(task, steady, app.config), score(task, flaky, app.config)
    assert good.parts["on_time"] > bad.parts["on_time"] and good.score > bad.score
    assert "kept 48 of 49 shifts in the last 90 days" in good.explanation
    assert "shifts" not in score(task, Candidate(user_id=3, hourly_rate=2500, timezone="UTC"), app.config).explanation


def test_matching_loads_each_candidates_shift_record():
    from marketplace.matching.service import load_candidates
    task = hourly_task(start=date(2026, 8, 1), end=date(2026, 12, 20))
    block = blocks.add_block(task.business, task, weekly(0, "09:00", "17:00"), now=datetime(2026, 9, 1, tzinfo=UTC))
    ana, _ = hire(task)
    past = list(db.session.scalars(select(Shift).where(Shift.block_id == block.id, Shift.ends_at <= NOW)
                                   .order_by(Shift.starts_at)))[:3]
    for shift in past:
        claims.claim(ana, shift, now=past[0].start - timedelta(days=1))
    records.mark_missed(task.business, past[0].seat_rows[0], now=NOW)
    (candidate,) = load_candidates([ana.id])
    assert (candidate.shifts_kept, candidate.shifts_counted) == (2, 3)
