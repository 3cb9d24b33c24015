"""Signed, expiring, single-use tokens for email verification and password reset.

A token carries a fingerprint of the state it is meant to change (the email
being verified and whether it is verified yet; the current password hash).
Once the action is done, that state differs, so the same token no longer
validates: single use without a token table.
"""
from __future__ import annotations

import hashlib

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from marketplace.accounts.models import User
from marketplace.core.errors import ValidationFailed
from marketplace.extensions import db

VERIFY = "verify-email"
RESET = "reset-password"


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"marketplace.{purpose}")


def _fingerprint(user: User, purpose: str) -> str:
    if purpose == VERIFY:
        state = f"{user.email}|{user.email_verified_at is not None}"
    else:
        state = f"{user.password_hash}|{user.email}"
    return hashlib.sha256(state.encode()).hexdigest()[:32]


def make_token(user: User, purpose: str) -> str:
    return _serializer(purpose).dumps({"uid": user.id, "fp": _fingerprint(user, purpose)})


def read_token(token: str, purpose: str) -> User:
    """The user the token was issued for, or ValidationFailed with a reason."""
    max_age = current_app.config["EMAIL_TOKEN_MAX_AGE" if purpose == VERIFY else "RESET_TOKEN_MAX_AGE"]
    try:
        data = _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired:
        raise ValidationFailed("This link has expired. Request a new one.")
    except BadSignature:
        raise ValidationFailed("This link is not valid. Check that you copied all of it.")
    user = db.session.get(User, data.get("uid")) if isinstance(data, dict) else None
    if user is None or data.get("fp") != _fingerprint(user, purpose):
        raise ValidationFailed("This link has already been used or is no longer valid.")
    return user
