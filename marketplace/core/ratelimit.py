"""Rate limits that survive their storage going away.

With `RATELIMIT_STORAGE_URI=redis://...` every limited endpoint (login, sign-up, password
reset, the operators' second factor) asks Redis first. If Redis is down, Flask-Limiter's
in-memory fallback (`RATELIMIT_IN_MEMORY_FALLBACK_ENABLED` in config.py) keeps counting in
each worker's memory and goes back to Redis once it answers. That switch is only a warning
in Flask-Limiter's log; here it becomes an error that says what it means, because limits
per worker are weaker than shared ones and someone should bring Redis back.
"""
from __future__ import annotations

import logging

from flask import Flask

REDIS_SCHEMES = ("redis", "rediss", "valkey")
# An unreachable (not just refusing) host costs at most this long, then the fallback takes over.
REDIS_TIMEOUT_SECONDS = 0.5

FALLBACK_MESSAGE = ("Rate-limit storage (RATELIMIT_STORAGE_URI) is unreachable: rate limits now count in each "
                    "worker's memory until it answers again. Logins keep working; bring the storage back.")
RECOVERED_MESSAGE = "Rate-limit storage (RATELIMIT_STORAGE_URI) answers again: rate limits are shared again."


class _StorageAlarm(logging.Filter):
    """Raises Flask-Limiter's own fallback and recovery records to error and warning."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        if message.startswith("Rate limit storage unreachable"):
            record.msg, record.args = FALLBACK_MESSAGE, ()
            record.levelno, record.levelname = logging.ERROR, "ERROR"
        elif message.startswith("Rate limit storage recovered"):
            record.msg, record.args = RECOVERED_MESSAGE, ()
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


_ALARM = _StorageAlarm()


def init_rate_limits(app: Flask) -> None:
    from marketplace.extensions import limiter

    if str(app.config.get("RATELIMIT_STORAGE_URI") or "").startswith(REDIS_SCHEMES):
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
                                                           "socket_timeout": REDIS_TIMEOUT_SECONDS})
    logger = logging.getLogger("flask-limiter")
    if _ALARM not in logger.filters:
        logger.addFilter(_ALARM)
    limiter.init_app(app)
