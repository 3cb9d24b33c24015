"""Property tests of the billing arithmetic: nothing past the limit is billed, no minute is billed twice."""
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given, settings, strategies as st

from marketplace.timesheets.weeks import (
    MINUTE, LocalTimeError, allocate_week, amount_for_minutes, local_span_to_utc, split_at_midnights,
    split_by_week, week_amount, week_start,
)

UTC = timezone.utc
ORIGIN = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday three weeks before Europe's spring change
ZONES = ["UTC", "Europe/Paris", "Europe/London", "America/New_York", "America/Los_Angeles",
         "America/Santiago", "Australia/Lord_Howe", "Asia/Kolkata", "Asia/Kathmandu", "Pacific/Chatham"]


@st.composite
def timesheets(draw):
    """Non-overlapping entries (key, start, end) over a few weeks, in shuffled order."""
    cursor = ORIGIN + timedelta(minutes=draw(st.integers(0, 7 * 24 * 60)))
    entries = []
    for key in range(draw(st.integers(0, 25))):
        cursor += timedelta(minutes=draw(st.integers(0, 3 * 24 * 60)))
        length = draw(st.integers(1, 20 * 60))
        entries.append((key, cursor, cursor + timedelta(minutes=length)))
        cursor += timedelta(minutes=length)
    return draw(st.permutations(entries))


def minutes_of(start, end):
    return {start + i * MINUTE for i in range(int((end - start) // MINUTE))}


@settings(max_examples=200, deadline=None)
@given(timesheets(), st.one_of(st.none(), st.integers(0, 60 * 60)))
def test_every_billable_minute_is_billed_exactly_once(entries, limit):
    logged = set()
    for _, start, end in entries:
        logged |= minutes_of(start, end)
    weeks = sorted({week_start(p.start) for _, s, e in entries for p in split_by_week(s, e)})
    billed: list[datetime] = []
    over = 0
    for start in weeks:
        week = allocate_week(entries, start, limit)
        assert week.billable == (week.logged if limit is None else min(week.logged, limit))
        assert week.billable + week.over_limit == week.logged
        for part in week.parts:
            assert week_start(part.span.start) == start and part.span.end <= start + timedelta(days=7)
            # The billed minutes of a part are its first ones; the rest is over the limit.
            billed.extend(part.span.start + i * MINUTE for i in range(part.billable))
        over += week.over_limit
    assert len(billed) == len(set(billed))            # no minute billed twice
    assert set(billed) <= logged                       # only logged minutes are billed
    assert len(billed) + over == len(logged)           # every logged minute is billed or over the limit
    if limit is None:
        assert set(billed) == logged


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 7 * 24 * 60 * 4), st.integers(1, 7 * 24 * 60 * 3), st.sampled_from(ZONES))
def test_splitting_preserves_every_minute(offset, length, zone):
    start = ORIGIN + timedelta(minutes=offset)
    end = start + timedelta(minutes=length)
    for parts in (split_by_week(start, end), [p for _, p in split_at_midnights(start, end, ZoneInfo(zone))]):
        assert sum(p.minutes for p in parts) == length
        assert parts[0].start == start and parts[-1].end == end
        assert all(a.end == b.start for a, b in zip(parts, parts[1:]))
    assert all(week_start(p.start) == week_start(p.end - MINUTE) for p in split_by_week(start, end))
    days = split_at_midnights(start, end, ZoneInfo(zone))
    assert all(p.start.astimezone(ZoneInfo(zone)).date() == d == (p.end - MINUTE).astimezone(ZoneInfo(zone)).date()
               for d, p in days)


@settings(max_examples=300, deadline=None)
@given(timesheets(), st.integers(0, 60 * 60), st.integers(0, 50_000), st.integers(0, 100_000))
def test_billed_amount_never_exceeds_limit_times_rate(entries, limit, rate, retainer):
    for start in {week_start(s) for _, s, _ in entries} or {ORIGIN}:
        week = allocate_week(entries, start, limit)
        amount = week_amount(week.billable, rate, retainer)
        assert amount <= amount_for_minutes(limit, rate) + retainer
        assert amount * 60 <= limit * rate + 30 + retainer * 60  # and within half a minor unit of exact
        assert abs((amount - retainer) * 60 - week.billable * rate) <= 30


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(ZONES), st.dates(date(2026, 1, 1), date(2027, 12, 31)),
       st.times(), st.times())
def test_local_times_round_trip_or_refuse_clearly(zone, day, start, end):
    try:
        span = local_span_to_utc(day, start, end, zone)
    except LocalTimeError as error:
        assert str(error)
        return
    tz = ZoneInfo(zone)
    local_start, local_end = span.start.astimezone(tz), span.end.astimezone(tz)
    assert local_start.date() == day
    assert local_start.time() == start.replace(second=0, microsecond=0)
    assert local_end.time() == end.replace(second=0, microsecond=0)
    assert local_end.date() in (day, day + timedelta(days=1))
    assert 0 < span.minutes < 26 * 60
    # A start that isn't ambiguous maps back to the same wall time: the ordinary case is exact.
    if start.replace(second=0, microsecond=0) < end.replace(second=0, microsecond=0):
        assert local_end.date() == day
