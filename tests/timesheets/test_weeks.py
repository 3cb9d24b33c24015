"""Table tests of the billing-week arithmetic: week boundaries, midnight, DST, limits, rounding."""
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from marketplace.timesheets.weeks import (
    LocalTimeError, Span, allocate_week, amount_for_minutes, format_minutes, is_ambiguous, local_span_to_utc,
    split_at_midnights, split_by_week, week_amount, week_end, week_start, week_start_of_date,
)

UTC = timezone.utc
MONDAY = datetime(2026, 11, 23, tzinfo=UTC)  # a Monday


def at(day, hh, mm=0):
    return datetime(2026, 11, day, hh, mm, tzinfo=UTC)


@pytest.mark.parametrize("instant, expected", [
    (at(23, 0), MONDAY),                                   # Monday 00:00 opens the week
    (at(29, 23, 59), MONDAY),                              # Sunday 23:59 is still in it
    (datetime(2026, 11, 29, 23, 59, 59, 999999, tzinfo=UTC), MONDAY),
    (at(30, 0), MONDAY + timedelta(days=7)),               # next Monday 00:00 is the next week
    (at(25, 12, 30), MONDAY),
    # Monday 00:30 in Paris is Sunday 23:30 UTC: the week is UTC, not local.
    (datetime(2026, 11, 30, 0, 30, tzinfo=ZoneInfo("Europe/Paris")), MONDAY),
    # Sunday 20:00 in New York is Monday 01:00 UTC: already the next week.
    (datetime(2026, 11, 29, 20, 0, tzinfo=ZoneInfo("America/New_York")), MONDAY + timedelta(days=7)),
    (datetime(2027, 1, 1, 10, tzinfo=UTC), datetime(2026, 12, 28, tzinfo=UTC)),  # weeks cross years
])
def test_week_start(instant, expected):
    assert week_start(instant) == expected
    assert week_end(expected) == expected + timedelta(days=7)


def test_week_start_of_a_utc_date_and_naive_datetimes_refused():
    assert week_start_of_date(date(2026, 11, 29)) == MONDAY
    assert week_start_of_date(date(2026, 11, 30)) == MONDAY + timedelta(days=7)
    with pytest.raises(ValueError):
        week_start(datetime(2026, 11, 25))


def test_split_by_week_cuts_at_monday_midnight_utc():
    parts = split_by_week(at(29, 22), at(30, 2))
    assert [(p.start, p.end, p.minutes) for p in parts] == [
        (at(29, 22), at(30, 0), 120), (at(30, 0), at(30, 2), 120)]
    # Inside one week: one part, even across midnight.
    assert split_by_week(at(24, 22), at(25, 2)) == [Span(at(24, 22), at(25, 2))]
    # Over two boundaries (a long span) every minute still counted once.
    long = split_by_week(at(22, 12), at(22, 12) + timedelta(days=8))
    assert [p.minutes for p in long] == [12 * 60, 7 * 24 * 60, 12 * 60]


def test_split_at_midnights_in_the_viewers_zone():
    ny = ZoneInfo("America/New_York")
    # 22:00-02:00 in New York (03:00-07:00 UTC): two local days, nothing crosses a UTC midnight.
    start = datetime(2026, 11, 24, 22, tzinfo=ny)
    parts = split_at_midnights(start, start + timedelta(hours=4), ny)
    assert [(d, p.minutes) for d, p in parts] == [(date(2026, 11, 24), 120), (date(2026, 11, 25), 120)]
    assert split_at_midnights(start, start + timedelta(hours=4)) == [
        (date(2026, 11, 25), Span(start, start + timedelta(hours=4)))]
    # The local day of the autumn change has 25 hours.
    paris = ZoneInfo("Europe/Paris")
    day = split_at_midnights(datetime(2026, 10, 25, tzinfo=paris), datetime(2026, 10, 26, tzinfo=paris), paris)
    assert [(d, p.minutes) for d, p in day] == [(date(2026, 10, 25), 25 * 60)]


def test_spans_are_whole_minutes_and_forward():
    with pytest.raises(ValueError):
        Span(at(23, 9), at(23, 9))
    with pytest.raises(ValueError):
        Span(at(23, 10), at(23, 9))
    with pytest.raises(ValueError):
        Span(at(23, 9), at(23, 10).replace(second=30))


def utc(y, mo, d, h, mi=0):
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


@pytest.mark.parametrize("zone, day, start, end, expected_start, minutes", [
    # An ordinary day; a half-hour offset zone.
    ("Europe/Paris", date(2026, 11, 24), time(9), time(17, 30), utc(2026, 11, 24, 8), 510),
    ("Asia/Kolkata", date(2026, 11, 24), time(9), time(17, 30), utc(2026, 11, 24, 3, 30), 510),
    # End before start: the work crossed midnight.
    ("Europe/Paris", date(2026, 11, 24), time(22), time(2), utc(2026, 11, 24, 21), 240),
    # Sunday evening in New York ends after Monday 00:00 UTC (the entry will be split by week).
    ("America/New_York", date(2026, 11, 29), time(18), time(21), utc(2026, 11, 29, 23), 180),
    # Spring forward in Europe (29 Mar 2026, 02:00 -> 03:00): 01:00-04:00 is two real hours.
    ("Europe/Paris", date(2026, 3, 29), time(1), time(4), utc(2026, 3, 29, 0), 120),
    ("Europe/Paris", date(2026, 3, 28), time(23), time(4), utc(2026, 3, 28, 22), 240),
    # Autumn in Europe (25 Oct 2026, 03:00 -> 02:00): 00:00-03:00 is four real hours.
    ("Europe/Paris", date(2026, 10, 25), time(0), time(3), utc(2026, 10, 24, 22), 240),
    # A repeated start time means its first occurrence (02:30 CEST = 00:30 UTC) ...
    ("Europe/Paris", date(2026, 10, 25), time(2, 30), time(2, 45), utc(2026, 10, 25, 0, 30), 15),
    # ... and the end is the first later moment reading the end time: the second 02:10.
    ("Europe/Paris", date(2026, 10, 25), time(2, 30), time(2, 10), utc(2026, 10, 25, 0, 30), 40),
    # America: spring forward 8 Mar 2026 (02:00 -> 03:00), fall back 1 Nov 2026 (02:00 -> 01:00).
    ("America/New_York", date(2026, 3, 8), time(1), time(3), utc(2026, 3, 8, 6), 60),
    ("America/New_York", date(2026, 3, 7), time(22), time(6), utc(2026, 3, 8, 3), 420),
    ("America/New_York", date(2026, 11, 1), time(0, 30), time(1, 30), utc(2026, 11, 1, 4, 30), 60),
    ("America/New_York", date(2026, 10, 31), time(22), time(6), utc(2026, 11, 1, 2), 540),
    ("America/Los_Angeles", date(2026, 11, 1), time(1, 15), time(1, 5), utc(2026, 11, 1, 8, 15), 50),
    # Seconds are dropped: entries are whole minutes.
    ("UTC", date(2026, 11, 24), time(9, 0, 59), time(9, 30, 10), utc(2026, 11, 24, 9), 30),
])
def test_local_times_to_utc(zone, day, start, end, expected_start, minutes):
    span = local_span_to_utc(day, start, end, zone)
    assert span.start == expected_start
    assert span.minutes == minutes


@pytest.mark.parametrize("zone, day, start, end, message", [
    ("Europe/Paris", date(2026, 3, 29), time(2, 30), time(4), "02:30 doesn't exist on Sun 29 Mar 2026"),
    ("Europe/Paris", date(2026, 3, 29), time(1), time(2, 15), "02:15 doesn't exist on Sun 29 Mar 2026"),
    ("Europe/Paris", date(2026, 3, 28), time(23), time(2, 15), "02:15 doesn't exist on Sun 29 Mar 2026"),
    ("America/New_York", date(2026, 3, 8), time(2, 15), time(5), "02:15 doesn't exist on Sun 08 Mar 2026"),
    ("UTC", date(2026, 11, 24), time(9), time(9), "must differ"),
    ("Mars/Olympus_Mons", date(2026, 11, 24), time(9), time(10), "Unknown time zone"),
    ("Asia/Tokyo", date(1, 1, 1), time(1), time(2), "out of range"),
    ("America/New_York", date(9999, 12, 31), time(22), time(2), "out of range"),
])
def test_impossible_local_times_are_clear_errors(zone, day, start, end, message):
    with pytest.raises(LocalTimeError, match=message):
        local_span_to_utc(day, start, end, zone)


def test_ambiguity_detection():
    paris = ZoneInfo("Europe/Paris")
    assert is_ambiguous(datetime(2026, 10, 25, 2, 30, tzinfo=paris))
    assert not is_ambiguous(datetime(2026, 10, 25, 3, 30, tzinfo=paris))
    assert not is_ambiguous(datetime(2026, 3, 29, 2, 30, tzinfo=paris))  # skipped, not repeated


def test_week_allocation_bills_the_first_minutes_up_to_the_limit():
    entries = [  # given out of order: allocation is chronological
        ("c", at(25, 9), at(25, 13)),
        ("a", at(23, 9), at(23, 13)),
        ("b", at(24, 9), at(24, 13)),
        ("outside", at(30, 9), at(30, 10)),
    ]
    week = allocate_week(entries, MONDAY, limit_minutes=600)
    assert [(p.key, p.minutes, p.billable, p.over_limit) for p in week.parts] == [
        ("a", 240, 240, 0), ("b", 240, 240, 0), ("c", 240, 120, 120)]
    assert (week.logged, week.billable, week.over_limit) == (720, 600, 120)
    assert week.part_for("c").over_limit == 120 and week.part_for("outside") is None


def test_week_allocation_clips_entries_crossing_the_week_boundary():
    entries = [(1, at(22, 22), at(23, 2)), (2, at(29, 23), at(30, 1))]
    week = allocate_week(entries, MONDAY, limit_minutes=None)
    assert [(p.key, p.span.start, p.span.end, p.billable) for p in week.parts] == [
        (1, at(23, 0), at(23, 2), 120), (2, at(29, 23), at(30, 0), 60)]
    next_week = allocate_week(entries, MONDAY + timedelta(days=7), limit_minutes=None)
    assert [(p.key, p.minutes) for p in next_week.parts] == [(2, 60)]


def test_week_allocation_edges():
    entries = [(2, at(23, 9), at(23, 10)), (1, at(23, 9, 30), at(23, 11))]  # same start order -> by start
    assert allocate_week([(5, at(23, 9), at(23, 10))], MONDAY, 0).billable == 0
    assert [p.key for p in allocate_week(entries, MONDAY, None).parts] == [2, 1]
    # Equal starts (only possible on bad input) are ordered by key, so the result is stable.
    tied = allocate_week([(9, at(23, 9), at(23, 10)), (3, at(23, 9), at(23, 10))], MONDAY, 60)
    assert [(p.key, p.billable) for p in tied.parts] == [(3, 60), (9, 0)]
    with pytest.raises(ValueError):
        allocate_week([], MONDAY + timedelta(hours=1), 60)
    with pytest.raises(ValueError):
        allocate_week([], MONDAY, -1)


@pytest.mark.parametrize("minutes, rate, expected", [
    (60, 2500, 2500),
    (90, 1999, 2999),     # 2998.5 -> 2999 (half up)
    (1, 100, 2),          # 1.67 -> 2
    (1, 30, 1),           # 0.5 -> 1
    (1, 29, 0),           # 0.48 -> 0
    (0, 5000, 0),
    (600, 3333, 33330),
    (601, 3333, 33386),   # 33385.55 -> 33386
])
def test_amount_for_minutes_rounds_half_up(minutes, rate, expected):
    assert amount_for_minutes(minutes, rate) == expected


def test_rounding_is_once_per_week_not_per_entry():
    # Three one-minute entries at 1.00/h: per entry 0.0167 each would round to 0.02 x 3;
    # the week bills 3 minutes once: 0.05.
    week = allocate_week([(i, at(23, 9, i * 2), at(23, 9, i * 2 + 1)) for i in range(3)], MONDAY, None)
    assert week.billable == 3
    assert week_amount(week.billable, 100) == 5
    assert sum(amount_for_minutes(p.billable, 100) for p in week.parts) == 6


def test_week_amount_adds_the_retainer():
    assert week_amount(600, 2500, retainer=10000) == 25000 + 10000
    assert week_amount(0, 2500, retainer=10000) == 10000
    with pytest.raises(ValueError):
        week_amount(10, 2500, retainer=-1)
    with pytest.raises(ValueError):
        amount_for_minutes(-1, 2500)


def test_format_minutes():
    assert [format_minutes(m) for m in (0, 5, 60, 125, 600, -30)] == ["0:00", "0:05", "1:00", "2:05", "10:00", "-0:30"]
