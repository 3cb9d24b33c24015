"""Operators' second factor: TOTP (RFC 6238) with one-time recovery codes.

Setup stores a fresh secret on the user without enabling it; the first correct
code enables it and returns ten recovery codes, shown once and stored only as
SHA-256 hashes (each code carries 80 random bits, so a fast hash is enough).
Verification accepts the current time step and one step either side, never a
step at or before the last one accepted (a conditional UPDATE, so two tabs
racing with the same code cannot both pass), or an unused recovery code (also
spent by a conditional UPDATE). Wrong codes lock the account itself (whoever types
them holds the password; wrong passwords only lock one client out, accounts/lockout.py):
at the limit the account is locked and every session ends, and until the lock ends only
a recovery code gets in (`verify_at_login`).
Once the factor is enabled only an accepted code clears that counter (`_claim_step`,
`_spend_recovery_code`); a correct password does not (`accounts.services.authenticate`).
"""
from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

import pyotp
import segno
from flask import current_app
from sqlalchemy import delete, or_, select, update

from marketplace.accounts.models import User
from marketplace.core.errors import Conflict, ValidationFailed
from marketplace.core.time import as_utc, utcnow
from marketplace.extensions import db
from marketplace.moderation.access import require_operator
from marketplace.moderation.audit import record
from marketplace.moderation.models import RecoveryCode

RECOVERY_CODE_COUNT = 10
STEP_SECONDS = 30
DRIFT_STEPS = 1
MAX_CODE_LENGTH = 40   # anything longer is not a code; refused before hashing


def is_enabled(user: User) -> bool:
    return user.has_second_factor


def begin_setup(user: User) -> str:
    """The pending secret for an operator without a second factor (created on first visit)."""
    require_operator(user)
    if is_enabled(user):
        raise Conflict("Two-factor authentication is already set up on this account.")
    if not user.totp_secret:
        user.totp_secret = pyotp.random_base32()
        db.session.flush()
    return user.totp_secret


def provisioning_uri(user: User) -> str:
    return pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.email,
                                                         issuer_name=current_app.config["SITE_NAME"])


def qr_svg(uri: str) -> str:
    """The QR code as an inline <svg> element (no external image, nothing for the CSP to refuse)."""
    return segno.make(uri, error="m").svg_inline(scale=5, title="QR code for your authenticator app",
                                                 dark="#111", light="#fff")


def _normalize(code: str | None) -> str:
    return "".join((code or "").split()).replace("-", "").lower()


def _hash_recovery(code: str) -> str:
    return hashlib.sha256(_normalize(code).encode()).hexdigest()


def _new_recovery_code() -> str:
    raw = secrets.token_hex(10)  # 80 bits
    return "-".join(raw[i:i + 5] for i in range(0, 20, 5))


def _matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    current = int((now if now is not None else time.time()) // STEP_SECONDS)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if secrets.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def _claim_step(user: User, step: int) -> bool:
    """Record `step` as used unless it (or a later one) already was."""
    changed = db.session.execute(
        update(User).where(User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step, failed_logins=0).execution_options(synchronize_session=False))
    db.session.refresh(user)
    return changed.rowcount == 1


def _spend_recovery_code(user: User, code: str) -> bool:
    changed = db.session.execute(
        update(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _hash_recovery(code),
                                   RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow()).execution_options(synchronize_session=False))
    if changed.rowcount == 1:
        user.failed_logins = 0
        db.session.flush()
        return True
    return False


@dataclass
class FailedCode:
    message: str
    locked: bool   # the account is now locked and every session ended: log the browser out


def _count_failure(user: User) -> FailedCode:
    from marketplace.accounts.services import end_all_sessions

    cfg = current_app.config
    db.session.execute(update(User).where(User.id == user.id).values(failed_logins=User.failed_logins + 1)
                       .execution_options(synchronize_session=False))
    db.session.refresh(user)
    if user.failed_logins >= cfg["LOGIN_MAX_FAILURES"]:
        user.failed_logins = 0
        user.locked_until = utcnow() + timedelta(minutes=cfg["LOGIN_LOCK_MINUTES"])
        end_all_sessions(user)
        record(None, "second_factor_lockout", "user", user.id, subject_user_id=user.id,
               reason=f"{cfg['LOGIN_MAX_FAILURES']} wrong second-factor codes in a row")
        db.session.flush()
        return FailedCode("Too many wrong codes. This account is locked for "
                          f"{cfg['LOGIN_LOCK_MINUTES']} minutes and has been signed out everywhere.", True)
    db.session.flush()
    return FailedCode("That code is not correct, or it was already used. Wait for the next code and try again.",
                      False)


def confirm_setup(user: User, code: str) -> list[str] | FailedCode:
    """Enable the second factor with a first correct code; returns the recovery codes (plain, shown once)."""
    require_operator(user)
    if is_enabled(user):
        raise Conflict("Two-factor authentication is already set up on this account.")
    if not user.totp_secret:
        raise ValidationFailed("Start the setup again: reload this page for a new QR code.")
    code = _normalize(code)
    step = _matching_step(user.totp_secret, code)
    if step is None or not _claim_step(user, step):
        return _count_failure(user)
    enabled = db.session.execute(update(User).where(User.id == user.id, User.totp_enabled_at.is_(None))
                                 .values(totp_enabled_at=utcnow()).execution_options(synchronize_session=False))
    if enabled.rowcount != 1:
        raise Conflict("Two-factor authentication was just set up in another window.")
    db.session.refresh(user)
    codes = _replace_recovery_codes(user)
    record(user, "second_factor_enabled", "user", user.id, subject_user_id=user.id)
    return codes


def _replace_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_hash_recovery(c)) for c in codes)
    db.session.flush()
    return codes


def verify(user: User, code: str) -> str | FailedCode:
    """Check a login code: 'totp' or 'recovery' when accepted, FailedCode otherwise."""
    require_operator(user)
    if not is_enabled(user):
        raise Conflict("Set up two-factor authentication first.")
    code = _normalize(code)
    if not code or len(code) > MAX_CODE_LENGTH:
        return _count_failure(user)
    if len(code) == 6 and code.isascii() and code.isdigit():
        step = _matching_step(user.totp_secret, code)
        if step is not None and _claim_step(user, step):
            return "totp"
        return _count_failure(user)
    if _spend_recovery_code(user, code):
        record(user, "recovery_code_used", "user", user.id, subject_user_id=user.id,
               details=f"{unused_recovery_codes(user)} recovery codes left")
        return "recovery"
    return _count_failure(user)


def verify_at_login(user: User, code: str | None) -> str | None:
    """A code typed on the login form with the right password while a lockout is in the way:
    'totp' or 'recovery' when accepted, None otherwise.

    The lockout may be the client's (wrong passwords, `accounts.lockout`): then this is `verify`,
    and a wrong code counts towards the account's lock like on the code page. Or it may be the
    account's own lock after wrong codes: then only a recovery code gets in. Its 80 random bits
    cannot be guessed, whereas accepting authenticator codes during that lock would let whoever
    holds the password go on guessing them, which is what the lock stops.
    """
    if user is None or not user.is_operator or not is_enabled(user):
        return None
    locked = as_utc(user.locked_until)
    if locked is None or locked <= utcnow():
        outcome = verify(user, code or "")
        return None if isinstance(outcome, FailedCode) else outcome
    code = _normalize(code)
    if not code or len(code) > MAX_CODE_LENGTH or not _spend_recovery_code(user, code):
        return None
    user.locked_until = None
    db.session.flush()
    record(user, "recovery_code_used", "user", user.id, subject_user_id=user.id,
           details=f"on the login form during a second-factor lockout; {unused_recovery_codes(user)} left")
    return "recovery"


def unused_recovery_codes(user: User) -> int:
    from sqlalchemy import func
    return db.session.scalar(select(func.count()).select_from(RecoveryCode)
                             .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))) or 0


def reset(user: User) -> None:
    """Remove an operator's second factor (lost phone): the next login sets up a new one.

    Only from the command line (`flask --app wsgi reset-second-factor EMAIL`), by someone with
    access to the servers. Every session of the account ends and the reset is audited.
    """
    from marketplace.accounts.models import new_session_token
    require_operator(user)
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    user.session_token = new_session_token()
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    record(None, "reset_second_factor", "user", user.id, subject_user_id=user.id,
           reason="Second factor reset from the command line")
    db.session.flush()
