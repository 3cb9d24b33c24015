"""Local blocks to UTC shifts across DST changes and midnight, in several time zones (table + properties)."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings, strategies as st

from marketplace.schedules.occurrences import local_to_utc, occurrence, weekly_dates

UTC = timezone.utc


def _utc(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize("zone, day, start, end, utc_start, utc_end", [
    # 09:00-17:00 keeps its local hours on both sides of the US spring change (8 March 2026).
    ("America/New_York", date(2026, 3, 7), "09:00", "17:00", _utc(2026, 3, 7, 14), _utc(2026, 3, 7, 22)),
    ("America/New_York", date(2026, 3, 9), "09:00", "17:00", _utc(2026, 3, 9, 13), _utc(2026, 3, 9, 21)),
    # A night block across the spring change is an hour shorter, across the autumn one an hour longer.
    ("America/New_York", date(2026, 3, 7), "22:00", "06:00", _utc(2026, 3, 8, 3), _utc(2026, 3, 8, 10)),
    ("America/New_York", date(2026, 10, 31), "22:00", "06:00", _utc(2026, 11, 1, 2), _utc(2026, 11, 1, 11)),
    # Europe changes on other dates (29 March / 25 October 2026).
    ("Europe/London", date(2026, 3, 28), "09:00", "17:00", _utc(2026, 3, 28, 9), _utc(2026, 3, 28, 17)),
    ("Europe/London", date(2026, 3, 30), "09:00", "17:00", _utc(2026, 3, 30, 8), _utc(2026, 3, 30, 16)),
    ("Europe/Berlin", date(2026, 10, 24), "23:00", "07:00", _utc(2026, 10, 24, 21), _utc(2026, 10, 25, 6)),
    # Southern hemisphere: Sydney leaves summer time on 5 April 2026.
    ("Australia/Sydney", date(2026, 4, 4), "09:00", "17:00", _utc(2026, 4, 3, 22), _utc(2026, 4, 4, 6)),
    ("Australia/Sydney", date(2026, 4, 6), "09:00", "17:00", _utc(2026, 4, 5, 23), _utc(2026, 4, 6, 7)),
    # No DST; a half-hour offset.
    ("Asia/Kolkata", date(2026, 3, 8), "21:30", "02:00", _utc(2026, 3, 8, 16), _utc(2026, 3, 8, 20, 30)),
    # Skipped local time: 02:30 on the US spring night starts when the clocks jump (07:00 UTC).
    ("America/New_York", date(2026, 3, 8), "02:30", "04:00", _utc(2026, 3, 8, 7), _utc(2026, 3, 8, 8)),
    # Repeated local time: 01:30 on the US autumn night means its first occurrence (EDT).
    ("America/New_York", date(2026, 11, 1), "01:30", "03:00", _utc(2026, 11, 1, 5, 30), _utc(2026, 11, 1, 8)),
    # Chile skips midnight (6 September 2026): a block from 00:00 starts at the jump.
    ("America/Santiago", date(2026, 9, 6), "00:00", "08:00", _utc(2026, 9, 6, 4), _utc(2026, 9, 6, 11)),
    # Lord Howe Island moves its clocks by 30 minutes (5 April 2026).
    ("Australia/Lord_Howe", date(2026, 4, 4), "20:00", "04:00", _utc(2026, 4, 4, 9), _utc(2026, 4, 4, 17, 30)),
])
def test_block_occurrences_keep_local_hours(zone, day, start, end, utc_start, utc_end):
    h1, m1 = map(int, start.split(":"))
    h2, m2 = map(int, end.split(":"))
    occ = occurrence(day, h1 * 60 + m1, h2 * 60 + m2, zone)
    assert (occ.start, occ.end) == (utc_start, utc_end)
    assert occ.local_date == day


def test_a_block_entirely_inside_a_skipped_hour_has_no_occurrence():
    assert occurrence(date(2026, 3, 8), 2 * 60 + 10, 2 * 60 + 40, "America/New_York") is None


def test_weekly_dates_pick_the_weekday_within_the_range():
    assert weekly_dates(0, date(2026, 11, 25), date(2026, 12, 14)) == [date(2026, 11, 30), date(2026, 12, 7),
                                                                      date(2026, 12, 14)]
    assert weekly_dates(2, date(2026, 11, 26), date(2026, 11, 30)) == []


ZONES = ["America/New_York", "Europe/London", "Europe/Berlin", "Australia/Sydney", "Asia/Kolkata",
         "America/Santiago", "Australia/Lord_Howe", "Pacific/Chatham", "America/St_Johns", "UTC"]


@settings(max_examples=400, deadline=None)
@given(zone=st.sampled_from(ZONES), day=st.dates(date(2025, 1, 1), date(2028, 12, 31)),
       start=st.integers(0, 1439), end=st.integers(0, 1439))
def test_every_local_block_maps_to_one_utc_interval(zone, day, start, end):
    if start == end:
        with pytest.raises(ValueError):
            occurrence(day, start, end, zone)
        return
    occ = occurrence(day, start, end, zone)
    tz = ZoneInfo(zone)
    local_minutes = (end - start) % 1440
    if occ is None:
        # Only when both ends fall in the same skipped stretch of the clock.
        assert local_minutes <= 180
        return
    assert occ.start < occ.end
    assert occ.start.tzinfo == UTC and occ.start.second == 0
    # Its length is the local length give or take the day's DST change (at most 3 hours anywhere).
    assert abs(occ.minutes - local_minutes) <= 180
    # The wall clock at the start shows the block's start, unless that time was skipped (then later).
    shown = occ.start.astimezone(tz)
    wanted = datetime.combine(day, time(start // 60, start % 60))
    assert shown.replace(tzinfo=None) >= wanted
    assert shown.replace(tzinfo=None) - wanted <= timedelta(hours=3)
    # Next week's occurrence of the same block never overlaps this one.
    following = occurrence(day + timedelta(days=7), start, end, zone)
    assert following is None or following.start >= occ.end


@settings(max_examples=300, deadline=None)
@given(zone=st.sampled_from(ZONES), moment=st.datetimes(datetime(2025, 1, 1), datetime(2028, 12, 31)))
def test_local_to_utc_is_monotonic(zone, moment):
    tz = ZoneInfo(zone)
    moment = moment.replace(second=0, microsecond=0)
    a, b = local_to_utc(moment, tz), local_to_utc(moment + timedelta(minutes=30), tz)
    assert a <= b
