"""Personal access tokens: created on the account settings page, shown once, stored hashed.

A token is "ht_" + 40 random url-safe characters. We keep its SHA-256 (a high-entropy secret
needs no slow hash) and its first characters as the visible prefix. Scopes: "read" (GET) or
"read write". Operators get no tokens: their powers are never reachable with one.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from marketplace.accounts.models import AccountStatus, User
from marketplace.api.models import ApiToken
from marketplace.core.errors import DomainError, Forbidden, NotFound, ValidationFailed
from marketplace.core.text import one_line
from marketplace.core.time import utcnow
from marketplace.extensions import db

TOKEN_PREFIX = "ht_"
SCOPES = {"read": "read", "write": "read write"}
MAX_TOKENS = 20


class Unauthenticated(DomainError):
    status_code = 401

    def __init__(self, message: str = "Send a valid token: Authorization: Bearer ht_...", **kw):
        super().__init__(message, **kw)


class InsufficientScope(Forbidden):
    problem = "insufficient-scope"


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_token(actor: User, name: str, scope: str, expires_in_days: int | None) -> tuple[ApiToken, str]:
    """The new token and its secret (shown once, never stored)."""
    if actor.is_operator:
        raise Forbidden("Operator accounts can't create API tokens: moderation happens on the site only.")
    if actor.status != AccountStatus.ACTIVE:
        raise Forbidden("This account is suspended.")
    name = one_line(name or "")
    if not name or len(name) > 80:
        raise ValidationFailed("Name the token (at most 80 characters), e.g. the tool that uses it.", field="name")
    if scope not in SCOPES:
        raise ValidationFailed("Choose read or read and write.", field="scope")
    max_days = current_app.config["API_TOKEN_MAX_DAYS"]
    if expires_in_days is None or not 1 <= expires_in_days <= max_days:
        raise ValidationFailed(f"Tokens expire after 1 to {max_days} days.", field="expires_in_days")
    live = [t for t in tokens_of(actor) if t.revoked_at is None]
    if len(live) >= MAX_TOKENS:
        raise ValidationFailed(f"You can have at most {MAX_TOKENS} tokens; revoke one first.", field="name")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(30)
    token = ApiToken(user_id=actor.id, name=name, prefix=raw[:10], token_hash=_digest(raw), scopes=SCOPES[scope],
                     expires_at=utcnow() + timedelta(days=expires_in_days))
    db.session.add(token)
    db.session.flush()
    return token, raw


def tokens_of(actor: User) -> list[ApiToken]:
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == actor.id)
                                   .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def revoke_token(actor: User, token_id: int) -> ApiToken:
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != actor.id:
        raise NotFound("We couldn't find that token.")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.flush()
    return token


def authenticate(raw: str) -> ApiToken:
    """The live token for this secret, its owner active and not an operator; Unauthenticated otherwise."""
    raw = (raw or "").strip()
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(raw))) \
        if raw.startswith(TOKEN_PREFIX) and len(raw) < 200 else None
    now = utcnow()
    if token is None or token.revoked_at is not None:
        raise Unauthenticated("This token is not valid or has been revoked.")
    expires = token.expires_at if token.expires_at.tzinfo else token.expires_at.replace(tzinfo=now.tzinfo)
    if expires <= now:
        raise Unauthenticated("This token has expired. Create a new one on your account settings page.")
    user = token.user
    if user.status != AccountStatus.ACTIVE:
        raise Unauthenticated("This account is suspended; its tokens don't work.")
    if user.is_operator:
        raise Unauthenticated("Operator accounts can't use the API.")
    token.last_used_at = now
    return token


def is_expired(token: ApiToken) -> bool:
    now = utcnow()
    expires = token.expires_at if token.expires_at.tzinfo else token.expires_at.replace(tzinfo=now.tzinfo)
    return expires <= now
