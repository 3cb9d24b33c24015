"""Account use cases. Views commit; these functions only flush.

Links in emails are built by the caller (`link_for(token) -> absolute URL`),
so this module never touches the request.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from marketplace.accounts import lockout, tokens
from marketplace.accounts.models import AccountStatus, Role, User, new_session_token
from marketplace.accounts.passwords import (DUMMY_HASH, hash_password, needs_rehash, password_problem,
                                            verify_password)
from marketplace.core.errors import Conflict, ValidationFailed
from marketplace.core.text import one_line
from marketplace.core.time import as_utc, utcnow
from marketplace.extensions import db
from marketplace.outbox.services import send_mail

LinkFor = Callable[[str], str]
SIGNUP_ROLES = (Role.BUSINESS, Role.FREELANCER)


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def find_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalize_email(email)))


def _check_password(password: str, user_email: str, name: str | None = None) -> None:
    problem = password_problem(password, email=user_email, name=name)
    if problem:
        raise ValidationFailed(problem, field="password")


def create_user(email: str, password: str, full_name: str, role: Role, *, verified: bool = False) -> User:
    """Create an account of any role (operators only come through the CLI)."""
    email = normalize_email(email)
    full_name = one_line(full_name)
    if not full_name:
        raise ValidationFailed("Tell us your name.", field="full_name")
    _check_password(password, email, full_name)
    if find_by_email(email) is not None:
        raise Conflict("An account with this email already exists. Try logging in instead.", field="email")
    user = User(email=email, full_name=full_name, role=role, password_hash=hash_password(password),
                email_verified_at=utcnow() if verified else None)
    db.session.add(user)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        # Two sign-ups raced past the check above; the unique constraint decided.
        raise Conflict("An account with this email already exists. Try logging in instead.", field="email")
    from marketplace.profiles.services import create_empty_profile
    create_empty_profile(user)
    return user


def sign_up(email: str, password: str, full_name: str, role: Role | str, link_for: LinkFor) -> User:
    role = Role(role)
    if role not in SIGNUP_ROLES:
        raise ValidationFailed("Choose whether you are hiring or offering support.", field="role")
    user = create_user(email, password, full_name, role)
    send_verification_email(user, link_for)
    return user


def send_verification_email(user: User, link_for: LinkFor) -> None:
    link = link_for(tokens.make_token(user, tokens.VERIFY))
    send_mail(user.email, "Confirm your email address",
              f"Hi {user.first_name},\n\nPlease confirm your email address by opening this link:\n\n{link}\n\n"
              "The link works once and expires in 48 hours. If you didn't sign up, ignore this message.\n",
              secrets=[link])


def verify_email(token: str) -> User:
    user = tokens.read_token(token, tokens.VERIFY)
    user.email_verified_at = utcnow()
    db.session.flush()
    return user


@dataclass
class LoginResult:
    user: User | None
    error: str | None = None
    # A lockout answered: the login page offers the second-factor code field.
    locked: bool = False
    # 'totp' or 'recovery' when a code typed on the login form was accepted: the second factor is done.
    second_factor: str | None = None


GENERIC_FAILURE = "That email and password don't match. Check them and try again."


def _minutes_left(until, now) -> int:
    return max(1, -(-int((until - now).total_seconds()) // 60))


def _client_locked_message(until, now) -> str:
    # The same words for every address, with or without an account: nothing to enumerate.
    minutes = _minutes_left(until, now)
    return (f"Too many failed attempts: logins to this email address from your network are locked for about "
            f"{minutes} minute{'s' if minutes != 1 else ''}. Try again later, or reset your password.")


def _account_locked_message(until, now) -> str:
    minutes = _minutes_left(until, now)
    return (f"Too many wrong codes: this account is locked for about {minutes} more "
            f"minute{'s' if minutes != 1 else ''}. A recovery code, typed with your password, signs you in now.")


def authenticate(email: str, password: str, client: str = lockout.UNKNOWN_CLIENT,
                 code: str | None = None) -> LoginResult:
    """Check credentials, counting wrong passwords per email and client (`accounts.lockout`).

    `client` is the client's address (`lockout.client_key`). `code` is a second-factor code an
    operator may type with the password when a lockout is in the way. Always returns (never raises)
    so the caller commits the counters even when the login fails.
    """
    from marketplace.moderation import two_factor

    now = utcnow()
    user = find_by_email(email)
    client_lock = lockout.locked_until(email, client, now)
    if client_lock is not None:
        # Someone at this address ran out of tries for this email. The owner may be behind the same
        # address (shared NAT): an operator who adds a valid second factor to the right password gets in.
        # Anything less gets the same answer as everyone else, so it tells a guesser nothing.
        if code:
            password_ok = verify_password(user.password_hash if user is not None else DUMMY_HASH, password)
            accepted = (two_factor.verify_at_login(user, code)
                        if password_ok and user is not None and user.has_second_factor else None)
            if accepted and user.status == AccountStatus.ACTIVE:
                lockout.clear(email, client)
                return _signed_in(user, password, now, second_factor=accepted)
        return LoginResult(None, _client_locked_message(client_lock, now), locked=True)
    if user is None or not verify_password(user.password_hash, password):
        if user is None:
            verify_password(DUMMY_HASH, password)  # same cost as a real check
        locked = lockout.record_failure(email, client, now)
        if locked is not None:
            return LoginResult(None, _client_locked_message(locked, now), locked=True)
        return LoginResult(None, GENERIC_FAILURE)
    # The right password: only its holder reads what follows.
    lockout.clear(email, client)
    account_lock = as_utc(user.locked_until)
    if account_lock and account_lock > now:
        # Wrong second-factor codes locked the account (moderation.two_factor); a recovery code still works.
        accepted = two_factor.verify_at_login(user, code) if code else None
        if not accepted:
            db.session.flush()
            return LoginResult(None, _account_locked_message(account_lock, now), locked=True)
        if user.status == AccountStatus.ACTIVE:
            return _signed_in(user, password, now, second_factor=accepted)
    if user.status == AccountStatus.SUSPENDED:
        return LoginResult(None, "This account is suspended. Contact support if you think this is a mistake.")
    return _signed_in(user, password, now)


def _signed_in(user: User, password: str, now, second_factor: str | None = None) -> LoginResult:
    # Wrong second-factor codes count on the account (moderation.two_factor). A password alone only
    # clears that count for accounts without a second factor: otherwise anyone holding an operator's
    # password could log in again after every few wrong codes and guess codes forever. For those
    # accounts only a correct code (or recovery code) clears it.
    if not user.has_second_factor:
        user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    db.session.flush()
    return LoginResult(user, second_factor=second_factor)


def end_all_sessions(user: User) -> None:
    """Invalidate every session and remember cookie issued so far."""
    user.session_token = new_session_token()
    db.session.flush()


def request_password_reset(email: str, link_for: LinkFor) -> None:
    """Mail a reset link if the account exists; say nothing either way (no enumeration)."""
    user = find_by_email(email)
    if user is None or user.status == AccountStatus.SUSPENDED:
        return
    link = link_for(tokens.make_token(user, tokens.RESET))
    send_mail(user.email, "Reset your password",
              f"Hi {user.first_name},\n\nSomeone (hopefully you) asked to reset your password. "
              f"Open this link to choose a new one:\n\n{link}\n\n"
              "The link works once and expires in one hour. If you didn't ask, ignore this message: "
              "your password stays the same.\n", secrets=[link])


def reset_password(token: str, new_password: str) -> User:
    user = tokens.read_token(token, tokens.RESET)
    _check_password(new_password, user.email, user.full_name)
    _set_password(user, new_password)
    # Proving control of the mailbox also verifies it.
    user.email_verified_at = user.email_verified_at or utcnow()
    if not user.has_second_factor:   # same rule as at login: only a correct code clears an operator's count
        user.failed_logins, user.locked_until = 0, None
    lockout.clear_email(user.email)   # the emailed link is the way out of a lockout on a shared address
    db.session.flush()
    return user


def _set_password(user: User, new_password: str) -> None:
    user.password_hash = hash_password(new_password)
    end_all_sessions(user)


def _require_current_password(user: User, current_password: str) -> None:
    if not verify_password(user.password_hash, current_password or ""):
        raise ValidationFailed("Your current password is not correct.", field="current_password")


def change_password(user: User, current_password: str, new_password: str) -> None:
    _require_current_password(user, current_password)
    _check_password(new_password, user.email, user.full_name)
    if verify_password(user.password_hash, new_password):
        raise ValidationFailed("Choose a password different from the current one.", field="new_password")
    _set_password(user, new_password)
    send_mail(user.email, "Your password was changed",
              f"Hi {user.first_name},\n\nYour password was just changed and every other session was "
              "signed out. If this wasn't you, reset your password right away.\n")


def change_email(user: User, current_password: str, new_email: str, link_for: LinkFor) -> None:
    _require_current_password(user, current_password)
    new_email = normalize_email(new_email)
    if new_email == user.email:
        raise ValidationFailed("That is already your email address.", field="email")
    if find_by_email(new_email) is not None:
        raise Conflict("Another account already uses this email.", field="email")
    old_email = user.email
    user.email = new_email
    user.email_verified_at = None
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise Conflict("Another account already uses this email.", field="email")
    end_all_sessions(user)
    send_mail(old_email, "Your email address was changed",
              f"Hi {user.first_name},\n\nThe email address of your account was changed to {new_email}. "
              "If this wasn't you, contact support immediately.\n")
    send_verification_email(user, link_for)


def create_operator(email: str, password: str, full_name: str = "Operator") -> User:
    return create_user(email, password, full_name, Role.OPERATOR, verified=True)
