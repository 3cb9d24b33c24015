"""The navigation's badges: every count a signed-in page shows in its menu, in one statement.

Each feature owns its count (unread notifications, threads with unread messages, invitations
waiting for a specialist, mail given up on for operators); asking for them one by one cost three
or four round trips and as many ORM executions on every page. The statement is built once per
role and run on the request's connection as plain SQL.
"""
from __future__ import annotations

from functools import cache

from flask import g
from flask_login import current_user
from sqlalchemy import select

from marketplace.accounts.models import Role
from marketplace.extensions import db
from marketplace.messaging.services import unread_thread_count_statement
from marketplace.notifications.services import unread_count_statement
from marketplace.outbox.services import failed_count_statement
from marketplace.showcase.dashboard import pending_invitation_statement

EMPTY = {"notifications": 0, "messages": 0, "invitations": 0, "failed_mail": 0}


@cache
def _statement(role: Role):
    counts = {"notifications": unread_count_statement(), "messages": unread_thread_count_statement()}
    if role == Role.FREELANCER:
        counts["invitations"] = pending_invitation_statement()
    if role == Role.OPERATOR:
        counts["failed_mail"] = failed_count_statement()
    return select(*(statement.scalar_subquery().label(name) for name, statement in counts.items()))


def badge_counts(user) -> dict[str, int]:
    """The badge counts of `user`'s menu (zeros for a visitor)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return dict(EMPTY)
    row = db.session.connection().execute(_statement(user.role), {"user_id": user.id}).one()
    return {**EMPTY, **{name: value or 0 for name, value in row._mapping.items()}}


def nav_badges() -> dict[str, int]:
    """The signed-in user's badge counts, counted once per request (base.html asks in two places)."""
    if "nav_badges" not in g:
        g.nav_badges = badge_counts(current_user)
    return g.nav_badges
