"""Week arithmetic for hourly contracts: pure functions, no database.

The rules the timesheet and weekly billing share:

- A billing week runs from Monday 00:00 to Sunday 23:59:59 UTC, whatever the
  specialist's time zone. A week is named by its start (an aware UTC datetime)
  and is the half-open interval [start, start + 7 days).
- Time is counted in whole minutes: an entry starts and ends on a whole UTC minute.
- Each minute of an entry belongs to the week it falls in: an entry crossing
  Monday 00:00 UTC is split there, so no minute is counted in two weeks.
- Within a week the entries count in chronological order (start, then their key);
  once the weekly limit is reached the rest of the week is "over the limit" and
  never billed.
- A week's amount is billed minutes x hourly rate / 60, rounded half up to the
  minor unit ONCE per week (never per entry), plus the weekly retainer.
"""
from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC = timezone.utc
WEEK = timedelta(days=7)
MINUTE = timedelta(minutes=1)


# ---------------------------------------------------------------- weeks

def _utc(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("week arithmetic needs timezone-aware datetimes")
    return instant.astimezone(UTC)


def week_start(instant: datetime) -> datetime:
    """Monday 00:00 UTC of the billing week that contains `instant`."""
    moment = _utc(instant)
    monday = moment.date() - timedelta(days=moment.weekday())
    return datetime.combine(monday, time(0), tzinfo=UTC)


def week_start_of_date(day: date) -> datetime:
    """Monday 00:00 UTC of the billing week that contains the UTC calendar `day`."""
    return datetime.combine(day - timedelta(days=day.weekday()), time(0), tzinfo=UTC)


def week_end(start: datetime) -> datetime:
    """The (exclusive) end of the week starting at `start`: the next Monday 00:00 UTC."""
    return week_start(start) + WEEK


def is_week_start(instant: datetime) -> bool:
    return instant.tzinfo is not None and week_start(instant) == _utc(instant)


# ---------------------------------------------------------------- spans

@dataclass(frozen=True, order=True)
class Span:
    """A half-open stretch of time [start, end) in whole UTC minutes."""

    start: datetime
    end: datetime

    def __post_init__(self):
        start, end = _utc(self.start), _utc(self.end)
        if start.second or start.microsecond or end.second or end.microsecond:
            raise ValueError("time is counted in whole minutes")
        if end <= start:
            raise ValueError("a span must end after it starts")
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)

    @property
    def minutes(self) -> int:
        return int((self.end - self.start) // MINUTE)

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end


def split_by_week(start: datetime, end: datetime) -> list[Span]:
    """[start, end) cut at every Monday 00:00 UTC; the parts keep every minute exactly once."""
    span = Span(start, end)
    parts: list[Span] = []
    cursor = span.start
    while cursor < span.end:
        cut = min(week_end(cursor), span.end)
        parts.append(Span(cursor, cut))
        cursor = cut
    return parts


def local_day_start(day: date, zone: tzinfo) -> datetime:
    """The first UTC instant of the local calendar `day` in `zone`.

    Where midnight itself is skipped by a DST change (America/Santiago, Asia/Beirut...)
    the day starts at the change, which is what fold=0 resolves a skipped time to.
    """
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def split_at_midnights(start: datetime, end: datetime, zone: tzinfo = UTC) -> list[tuple[date, Span]]:
    """[start, end) cut at each local midnight of `zone`, each part with its local date."""
    span = Span(start, end)
    parts: list[tuple[date, Span]] = []
    cursor = span.start
    while cursor < span.end:
        local_date = cursor.astimezone(zone).date()
        cut = min(local_day_start(local_date + timedelta(days=1), zone), span.end)
        parts.append((local_date, Span(cursor, cut)))
        cursor = cut
    return parts


# ---------------------------------------------------------------- local times

class LocalTimeError(ValueError):
    """A local date and time that can't be turned into one UTC instant. `str()` is user-facing."""


def zone_named(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise LocalTimeError(f"Unknown time zone {name!r}.") from exc


def _exists(local: datetime) -> bool:
    """False for wall times skipped when clocks go forward."""
    naive = local.replace(tzinfo=None)
    return local.astimezone(UTC).astimezone(local.tzinfo).replace(tzinfo=None, fold=0) == naive.replace(fold=0)


def is_ambiguous(local: datetime) -> bool:
    """True for wall times that happen twice when clocks go back."""
    return (local.replace(fold=0).utcoffset() != local.replace(fold=1).utcoffset()
            and _exists(local.replace(fold=0)) and _exists(local.replace(fold=1)))


def _skipped(day: date, at: time, zone_name: str) -> LocalTimeError:
    return LocalTimeError(
        f"{at:%H:%M} doesn't exist on {day:%a %d %b %Y} in {zone_name}: the clocks go forward "
        "that night. Use a time after the change.")


def local_span_to_utc(day: date, start: time, end: time, zone_name: str) -> Span:
    """A specialist's local date, start and end time in their IANA zone -> a UTC span.

    Stated rules:
    - `day` is the local date the work started on. An end time earlier than the
      start time means the work crossed midnight and ended the next day.
    - The end is the first moment after the start whose local clock reads `end`;
      so on the night clocks go back, 01:30 -> 01:10 is the 40 minutes from the
      first 01:30 to the second 01:10, and 00:00 -> 03:00 is four real hours.
    - A start time that happens twice (clocks going back) means its first
      occurrence, before the change.
    - A time skipped by clocks going forward (02:30 on a spring-forward night in
      Europe) is refused with a clear error; so is an end equal to the start.
    Seconds are ignored: entries are whole minutes.
    """
    try:
        return _local_span_to_utc(day, start, end, zone_name)
    except OverflowError as exc:
        raise LocalTimeError("That date is out of range.") from exc


def _local_span_to_utc(day: date, start: time, end: time, zone_name: str) -> Span:
    zone = zone_named(zone_name)
    start, end = start.replace(second=0, microsecond=0, tzinfo=None), end.replace(second=0, microsecond=0, tzinfo=None)
    if start == end:
        raise LocalTimeError("The end time must differ from the start time.")
    local_start = datetime.combine(day, start, tzinfo=zone)  # fold=0: the first occurrence
    if not _exists(local_start):
        raise _skipped(day, start, zone_name)
    start_utc = local_start.astimezone(UTC)
    for end_day in (day, day + timedelta(days=1)):
        later = [local.astimezone(UTC) for local in _occurrences(end_day, end, zone)
                 if local.astimezone(UTC) > start_utc]
        if later:
            return Span(start_utc, min(later))
        if end > start:
            # The end reads later than the start on the same day, yet no such moment exists:
            # it fell in the skipped hour. Never roll it over to the next day.
            raise _skipped(end_day, end, zone_name)
    raise _skipped(day + timedelta(days=1), end, zone_name)


def _occurrences(day: date, at: time, zone: ZoneInfo) -> list[datetime]:
    """Every real moment at which the local clock reads `at` on `day`: none, one or two."""
    return [local for fold in (0, 1)
            if _exists(local := datetime.combine(day, at, tzinfo=zone).replace(fold=fold))]


# ---------------------------------------------------------------- the weekly limit

@dataclass(frozen=True)
class EntryPart:
    """The part of one entry inside one week and how much of it is billable."""

    key: Hashable
    span: Span
    billable: int
    over_limit: int

    @property
    def minutes(self) -> int:
        return self.span.minutes


@dataclass(frozen=True)
class WeekAllocation:
    week_start: datetime
    limit_minutes: int | None  # None: no limit
    parts: tuple[EntryPart, ...] = field(default_factory=tuple)

    @property
    def logged(self) -> int:
        return sum(p.minutes for p in self.parts)

    @property
    def billable(self) -> int:
        return sum(p.billable for p in self.parts)

    @property
    def over_limit(self) -> int:
        return sum(p.over_limit for p in self.parts)

    def part_for(self, key: Hashable) -> EntryPart | None:
        return next((p for p in self.parts if p.key == key), None)


def allocate_week(entries: Iterable[tuple[Hashable, datetime, datetime]], start: datetime,
                  limit_minutes: int | None) -> WeekAllocation:
    """Split the week's minutes of `entries` (key, start, end) into billable and over the limit.

    Only the part of each entry inside the week [start, start + 7 days) counts.
    The entries are taken in chronological order (start, then key), so the first
    `limit_minutes` minutes logged in the week are the billable ones. The entries
    of one contract never overlap (the timesheet refuses it); overlapping input
    would be counted twice.
    """
    if not is_week_start(start):
        raise ValueError("a week starts on Monday 00:00 UTC")
    if limit_minutes is not None and limit_minutes < 0:
        raise ValueError("the weekly limit can't be negative")
    start = _utc(start)
    end = start + WEEK
    clipped = []
    for key, entry_start, entry_end in entries:
        span = Span(entry_start, entry_end)
        if span.end <= start or span.start >= end:
            continue
        clipped.append((span.start, _sort_key(key), key, Span(max(span.start, start), min(span.end, end))))
    clipped.sort(key=lambda item: (item[0], item[1]))
    remaining = limit_minutes
    parts = []
    for _, _, key, part in clipped:
        billable = part.minutes if remaining is None else min(part.minutes, remaining)
        if remaining is not None:
            remaining -= billable
        parts.append(EntryPart(key=key, span=part, billable=billable, over_limit=part.minutes - billable))
    return WeekAllocation(week_start=start, limit_minutes=limit_minutes, parts=tuple(parts))


def _sort_key(key: Hashable):
    # Keys are usually entry ids; None (an unsaved entry) sorts last, mixed types by their text.
    return (key is None, (0, key) if isinstance(key, int) else (1, str(key)))


# ---------------------------------------------------------------- money

def amount_for_minutes(minutes: int, hourly_rate: int) -> int:
    """minutes x hourly_rate / 60 in minor units, rounded half up (exact integer arithmetic)."""
    if minutes < 0 or hourly_rate < 0:
        raise ValueError("minutes and rate can't be negative")
    return (minutes * hourly_rate * 2 + 60) // 120


def week_amount(billable_minutes: int, hourly_rate: int, retainer: int = 0) -> int:
    """What one week bills: its billable minutes at the hourly rate (rounded once) plus the retainer."""
    if retainer < 0:
        raise ValueError("the retainer can't be negative")
    return amount_for_minutes(billable_minutes, hourly_rate) + retainer


def format_minutes(minutes: int) -> str:
    """125 -> '2:05' (hours:minutes), the way timesheets show durations."""
    sign = "-" if minutes < 0 else ""
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours}:{rest:02d}"
