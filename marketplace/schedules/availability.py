"""A specialist's stated availability (their profile's preferred hours) and how much of a set of
open shift hours it covers. Pure functions apart from `find_for_open_hours`.

Preferred hours are free text; these forms are understood (case-insensitive, in the
specialist's own time zone): "Weekdays 08:00–16:00", "Mon-Fri 9-17", "weekends 10:00-14:00",
"Mon, Wed, Fri 18:00-23:00", "daily 22:00-06:00" (past midnight), several separated by ";".
Text without a time range means the default working day, Monday to Friday 09:00-17:00.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from marketplace.schedules.occurrences import occurrence, overlap_minutes

DAY_NAMES = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
DEFAULT_WINDOWS = tuple((d, 9 * 60, 17 * 60) for d in range(5))
_RANGE = re.compile(r"(\d{1,2})(?::(\d{2}))?\s*(?:-|–|—|to)\s*(\d{1,2})(?::(\d{2}))?")
_DAY_SPAN = re.compile(r"\b(mon|tue|wed|thu|fri|sat|sun)[a-z]*\s*(?:-|–|—|to)\s*(mon|tue|wed|thu|fri|sat|sun)[a-z]*")
_DAY = re.compile(r"\b(mon|tue|wed|thu|fri|sat|sun)[a-z]*")


@dataclass(frozen=True)
class Window:
    weekday: int
    start_minute: int
    end_minute: int     # <= start: past midnight


def _days(text: str) -> list[int]:
    if "weekday" in text:
        return list(range(5))
    if "weekend" in text:
        return [5, 6]
    if "daily" in text or "every day" in text or "any day" in text:
        return list(range(7))
    span = _DAY_SPAN.search(text)
    if span:
        first, last = DAY_NAMES[span.group(1)], DAY_NAMES[span.group(2)]
        return [(first + i) % 7 for i in range((last - first) % 7 + 1)]
    named = [DAY_NAMES[m] for m in _DAY.findall(text)]
    return sorted(set(named)) if named else list(range(5))


def parse_availability(text: str) -> list[Window]:
    windows: list[Window] = []
    for part in re.split(r"[;\n]", (text or "").lower()):
        found = _RANGE.search(part)
        if not found:
            continue
        h1, m1, h2, m2 = (int(g) if g else 0 for g in found.groups())
        if not (0 <= h1 <= 24 and 0 <= h2 <= 24 and m1 < 60 and m2 < 60):
            continue
        start, end = (h1 * 60 + m1) % 1440, (h2 * 60 + m2) % 1440
        if start == end:
            continue
        windows += [Window(d, start, end) for d in _days(part[:found.start()] + " " + part[found.end():])]
    return windows or [Window(*w) for w in DEFAULT_WINDOWS]


def covered_minutes(windows: list[Window], zone: str, start: datetime, end: datetime) -> int:
    """Minutes of UTC [start, end) inside the windows, read in the specialist's zone `zone`."""
    from marketplace.schedules.calendar import zone_of
    tz = zone_of(zone)
    first = start.astimezone(tz).date() - timedelta(days=1)
    last = end.astimezone(tz).date()
    total = 0
    day = first
    while day <= last:
        for w in windows:
            if w.weekday == day.weekday():
                occ = occurrence(day, w.start_minute, w.end_minute, tz)
                if occ is not None:
                    total += overlap_minutes(occ.start, occ.end, start, end)
        day += timedelta(days=1)
    return min(total, int((end - start).total_seconds() // 60))


@dataclass
class AvailableMatch:
    match: object            # matching.scoring.Match
    covered: int             # minutes of the open hours they are available for
    wanted: int              # open minutes asked about

    @property
    def explanation(self) -> str:
        hours = f"available for {self.covered / 60:g} of {self.wanted / 60:g} open hours"
        return f"{hours}, {self.match.explanation}"


def find_for_open_hours(task, spans: list[tuple[datetime, datetime]], limit: int = 20) -> list[AvailableMatch]:
    """Matching's ranking of specialists for the task, re-ranked by how much of the open hours their
    stated availability covers (then by the match score)."""
    from marketplace.matching.service import rank_specialists
    wanted = sum(int((e - s).total_seconds() // 60) for s, e in spans)
    results = []
    for match in rank_specialists(task, limit=max(limit * 3, 30)):
        profile = match.profile
        windows = parse_availability(profile.preferred_hours)
        covered = sum(covered_minutes(windows, profile.timezone, s, e) for s, e in spans)
        results.append(AvailableMatch(match, covered, wanted))
    results.sort(key=lambda r: (-r.covered, -r.match.score, r.match.candidate.user_id))
    return results[:limit]


