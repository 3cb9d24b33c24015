"""From local blocks to UTC shifts: pure functions, no database.

A block is a local start and end (minutes after midnight) in the task's time zone;
an end at or before the start runs into the next local day. Its occurrence on a
local date is one UTC interval, so 09:00-17:00 stays 09:00-17:00 on the wall clock
across daylight-saving changes (the interval is 7 or 9 hours long on the nights the
clocks change under a block that crosses them). Two rules make that mapping total
and monotonic:

- a local time that happens twice (clocks go back) means its first occurrence;
- a local time that never happens (clocks go forward) means the moment the clocks
  jump, the first instant the wall clock shows a later time.

An occurrence whose start and end both fall in the same skipped hour is empty and
yields no shift.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

UTC = timezone.utc
MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True)
class Occurrence:
    local_date: date
    start: datetime   # UTC
    end: datetime     # UTC

    @property
    def minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)


def _exists(local: datetime, zone: tzinfo) -> bool:
    aware = local.replace(tzinfo=zone)
    return aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == local


def local_to_utc(local: datetime, zone: tzinfo) -> datetime:
    """A naive local wall-clock time in `zone` as a UTC instant (see the module rules)."""
    if _exists(local, zone):
        return local.replace(tzinfo=zone, fold=0).astimezone(UTC)
    # Skipped: the clocks jump somewhere between the two readings of this wall time
    # (the post-change offset gives the earlier instant). Find the jump to the minute.
    low = local.replace(tzinfo=zone, fold=1).astimezone(UTC)
    high = local.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if low > high:
        low, high = high, low
    before = low.astimezone(zone).utcoffset()
    while high - low > timedelta(minutes=1):
        middle = low + (high - low) / 2
        middle = middle.replace(second=0, microsecond=0)
        if middle <= low:
            break
        if middle.astimezone(zone).utcoffset() == before:
            low = middle
        else:
            high = middle
    return high


def occurrence(day: date, start_minute: int, end_minute: int, zone: tzinfo | str) -> Occurrence | None:
    """The UTC interval of a block [start_minute, end_minute) starting on local `day`, or None if empty."""
    if isinstance(zone, str):
        zone = ZoneInfo(zone)
    if not (0 <= start_minute < MINUTES_PER_DAY and 0 <= end_minute < MINUTES_PER_DAY) or start_minute == end_minute:
        raise ValueError("a block starts and ends within a day, at different minutes")
    start_local = datetime.combine(day, time(start_minute // 60, start_minute % 60))
    end_day = day if end_minute > start_minute else day + timedelta(days=1)
    end_local = datetime.combine(end_day, time(end_minute // 60, end_minute % 60))
    start, end = local_to_utc(start_local, zone), local_to_utc(end_local, zone)
    if end <= start:
        return None
    return Occurrence(day, start, end)


def weekly_dates(weekday: int, first: date, last: date) -> list[date]:
    """Every date with this weekday (0 = Monday) in [first, last]."""
    if last < first:
        return []
    day = first + timedelta(days=(weekday - first.weekday()) % 7)
    out = []
    while day <= last:
        out.append(day)
        day += timedelta(days=7)
    return out


def overlap_minutes(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> int:
    start, end = max(a_start, b_start), min(a_end, b_end)
    return max(0, int((end - start).total_seconds() // 60))
