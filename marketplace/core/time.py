"""Time helpers: the app stores and compares timezone-aware UTC datetimes."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import available_timezones

UTC = timezone.utc


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; treat them as the UTC they were stored as."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _timezone_choices() -> list[str]:
    zones = {z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/", "posix/", "right/"))}
    return sorted(zones | {"UTC"})


TIMEZONES: list[str] = _timezone_choices()
TIMEZONE_SET = frozenset(TIMEZONES)
