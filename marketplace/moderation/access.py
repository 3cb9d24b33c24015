"""Who may use the moderation console: operators who have passed their second factor.

The role check is also made by every moderation service (`require_operator`);
the second factor is a property of the login session, so the views check it
with `operator_required`. Passing the second factor stores the user's login id
(which embeds the rotating session token) in the session: logging out or
changing the password invalidates it along with the login.
"""
from __future__ import annotations

from functools import wraps

from flask import redirect, request, session, url_for
from flask_login import current_user

from marketplace.accounts.models import User
from marketplace.core.errors import Forbidden

MFA_SESSION_KEY = "mfa_verified_for"


def require_operator(actor: User | None) -> None:
    """Domain-layer check: only an active operator may take a moderation action."""
    if actor is None or getattr(actor, "is_anonymous", True) or not actor.is_operator:
        raise Forbidden("Only operators can use the moderation console.")
    if not actor.is_active:
        raise Forbidden("This account is suspended.")


def second_factor_passed(user: User) -> bool:
    return session.get(MFA_SESSION_KEY) == user.get_id()


def mark_second_factor_passed(user: User) -> None:
    session[MFA_SESSION_KEY] = user.get_id()


def forget_second_factor() -> None:
    session.pop(MFA_SESSION_KEY, None)


def operator_required(view):
    """Views of the console: 403 for everyone but operators; an operator who has not passed the
    second factor in this session is sent to set it up or enter a code first."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
        require_operator(current_user)
        if not second_factor_passed(current_user):
            return redirect(url_for("moderation.two_factor", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)
    return wrapper
