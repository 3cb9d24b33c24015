"""Wrong passwords lock one client out of one email address, not the account.

Why not lock the account: then anyone could lock anyone out (operators included) with
LOGIN_MAX_FAILURES wrong passwords, and the lock message told them which addresses have an
account. Instead failures are counted per (email address, client address) pair:

- An attacker only locks themselves out; the owner, from any other address, logs in as usual.
- Guessing stays bounded: LOGIN_MAX_FAILURES tries per address per LOGIN_LOCK_MINUTES for each
  account, and the per-IP rate limit (RATELIMIT_AUTH) caps tries across accounts. IPv6 clients
  count per /64, the block one subscriber usually holds, so rotating addresses buys nothing.
- The key is the email as typed, whether or not an account uses it: an unknown address gets
  the same messages, at the same moments, as a known one.
- An owner behind the same address as the attacker (a shared NAT) resets the password (the
  emailed link clears every lock on the address, `clear_email`), or, as an operator, types the
  second-factor code along with the password on the login form (accounts.services.authenticate).

Wrong second-factor codes are another matter: whoever types them holds the password, so they
still lock the account itself (moderation/two_factor.py).
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError

from marketplace.accounts.models import LoginThrottle
from marketplace.core.time import as_utc, utcnow
from marketplace.extensions import db

UNKNOWN_CLIENT = "unknown"


def email_digest(email: str) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, (email or "").strip().lower().encode(), hashlib.sha256).hexdigest()


def client_key(remote_addr: str | None) -> str:
    """The client's address as the lockout counts it: IPv4 as is, IPv6 by its /64."""
    try:
        address = ipaddress.ip_address((remote_addr or "").strip())
    except ValueError:
        return (remote_addr or UNKNOWN_CLIENT)[:64]
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _window() -> timedelta:
    return timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])


def _find(digest: str, client: str, *, for_update: bool = False) -> LoginThrottle | None:
    query = select(LoginThrottle).where(LoginThrottle.email_digest == digest, LoginThrottle.client == client)
    return db.session.scalar(query.with_for_update() if for_update else query)


def locked_until(email: str, client: str, now: datetime | None = None) -> datetime | None:
    """When this client may try this address again, if it is locked out now."""
    row = _find(email_digest(email), client)
    until = as_utc(row.locked_until) if row is not None else None
    return until if until is not None and until > (now or utcnow()) else None


def record_failure(email: str, client: str, now: datetime | None = None) -> datetime | None:
    """Count a wrong password; returns the end of the lock when this failure starts one."""
    now = now or utcnow()
    digest = email_digest(email)
    row = _find(digest, client, for_update=True)
    if row is None:
        row = LoginThrottle(email_digest=digest, client=client, failures=0, last_failed_at=now)
        try:
            with db.session.begin_nested():
                db.session.add(row)
                db.session.flush()
        except IntegrityError:   # a parallel failure created it first
            row = _find(digest, client, for_update=True)
    if now - as_utc(row.last_failed_at) > _window():
        row.failures = 0   # the earlier failures are old news
    row.failures += 1
    row.last_failed_at = now
    locked = None
    if row.failures >= current_app.config["LOGIN_MAX_FAILURES"]:
        row.failures = 0
        row.locked_until = locked = now + _window()
    db.session.flush()
    return locked


def clear(email: str, client: str) -> None:
    """A correct password from this client: its count starts again."""
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.email_digest == email_digest(email),
                                                   LoginThrottle.client == client))


def clear_email(email: str) -> None:
    """The owner proved control of the mailbox (password reset): every client starts again."""
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.email_digest == email_digest(email)))


def purge_expired() -> int:
    """Rows whose count and lock have both run out (jobs run-due)."""
    now = utcnow()
    stale = db.session.execute(delete(LoginThrottle).where(
        LoginThrottle.last_failed_at < now - _window(),
        or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until < now)))
    return stale.rowcount or 0
