"""Photos (specialists) and logos (businesses): one square image per account, initials until then.

The renditions are stored as `avatars/<token>-<size>.webp`, where the token is random and
changes with every upload, so their URLs can be cached for good and reveal nothing. They are
public, like the profile they illustrate.
"""
from __future__ import annotations

import re
import secrets

from marketplace.accounts.models import AccountStatus, User
from marketplace.core.errors import Forbidden, ValidationFailed
from marketplace.extensions import db
from marketplace.files.images import AVATAR_SIZES, avatar_renditions
from marketplace.storage import storage

TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,32}$")


def avatar_key(token: str, size: int) -> str:
    return f"avatars/{token}-{size}.webp"


def _check_owner(actor: User, user: User) -> None:
    if actor.id != user.id or actor.is_operator:
        raise Forbidden("You can only change your own photo or logo.")
    if actor.status != AccountStatus.ACTIVE:
        raise Forbidden("Suspended accounts can't change their photo or logo.")


def set_avatar(actor: User, data: bytes, max_bytes: int) -> str | None:
    """Store a new photo or logo for the actor. Returns the replaced token, whose files the caller
    removes with `discard_avatar` once the change is committed (a rollback keeps the old one whole)."""
    _check_owner(actor, actor)
    if len(data) > max_bytes:
        raise ValidationFailed(f"That image is larger than {max_bytes // (1024 * 1024)} MB.", field="file")
    renditions = avatar_renditions(data)
    token = secrets.token_urlsafe(16)
    for size, blob in renditions.items():
        storage().put(avatar_key(token, size), blob, "image/webp")
    old = actor.avatar_token
    actor.avatar_token = token
    db.session.flush()
    return old


def remove_avatar(actor: User) -> str | None:
    """Back to initials; returns the token for `discard_avatar` after the commit."""
    _check_owner(actor, actor)
    old = actor.avatar_token
    actor.avatar_token = None
    db.session.flush()
    return old


def discard_avatar(token: str | None) -> None:
    if not token:
        return
    for size in AVATAR_SIZES:
        storage().delete(avatar_key(token, size))


def initials(name: str | None) -> str:
    parts = [p for p in (name or "").split() if p[:1].isalnum()]
    if not parts:
        return "?"
    letters = parts[0][0] + (parts[-1][0] if len(parts) > 1 else "")
    return letters.upper()

