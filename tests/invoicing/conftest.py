"""Hourly contracts with time logged, and the saved card the weekly invoices are charged to."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import pytest

from marketplace.extensions import db
from marketplace.timesheets.models import TimeEntry
from marketplace.timesheets.weeks import week_start
from tests.timesheets.conftest import create_hourly_contract  # noqa: F401  (re-exported for the tests)

UTC = timezone.utc
# Monday 23 Nov 2026 00:00 UTC starts the week the tests log time in; it closes on Monday 30 Nov.
WEEK = datetime(2026, 11, 23, tzinfo=UTC)
CLOSED = WEEK + timedelta(days=7, hours=1)           # Monday 30 Nov 01:00: the week is closed
IN_WINDOW = WEEK + timedelta(days=11, hours=12)      # Friday 4 Dec 12:00: still in the review window
AFTER_WINDOW = WEEK + timedelta(days=12, minutes=1)  # Saturday 5 Dec 00:01: the window has closed


def add_time(contract, start: datetime, minutes: int, memo: str = "Chat queue") -> TimeEntry:
    """A time entry written directly (the timesheet's own rules are tested in tests/timesheets)."""
    end = start + timedelta(minutes=minutes)
    entry = TimeEntry(contract_id=contract.id, started_at=start, ended_at=end, week_start=week_start(start),
                      minutes=minutes, memo=memo, channel="chat")
    db.session.add(entry)
    db.session.flush()
    return entry


def day(n: int, hour: int = 9) -> datetime:
    """Day n (0 = Monday) of the test week at `hour` UTC."""
    return WEEK + timedelta(days=n, hours=hour)
