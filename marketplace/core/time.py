"""Time helpers: the app stores and compares timezone-aware UTC datetimes."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import available_timezones

UTC = timezone.utc


def utcnow() -> datetime:
    return datetime.now(UTC)


def app_now() -> datetime:
    """"Now" for calendar rules (the open billing week): the real clock, unless the
    development/testing setting FAKE_NOW pins it to an ISO-8601 instant (naive = UTC)."""
    from flask import current_app, has_app_context
    fake = current_app.config.get("FAKE_NOW") if has_app_context() else None
    if not fake:
        return utcnow()
    value = datetime.fromisoformat(fake)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


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
# (value, label) pairs for <select> menus: one list for the process, so option lists cache it.
TIMEZONE_CHOICES: list[tuple[str, str]] = [(zone, zone) for zone in TIMEZONES]
