"""Who may use the moderation console: operators who have passed their second factor.

The role check is also made by every moderation service (`require_operator`);
the second factor is a property of the login session. `register_second_factor_gate`
holds an operator who has entered only the password at the TOTP page for every
page of the site (operators can read every email in the outbox, private feedback,
held items, and cancel engagements outside /moderation); `operator_required` checks
it again on the console's views. Passing the second factor stores the user's login id
(which embeds the rotating session token) in the session: logging out or
changing the password invalidates it along with the login.
"""
from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import Flask, redirect, request, session, url_for
from flask_login import current_user

from marketplace.accounts.models import User
from marketplace.core.errors import Forbidden, error_response, is_api_request, wants_json
from marketplace.core.urls import is_safe_redirect

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


# Endpoints an operator may reach before passing the second factor: the TOTP page itself, logging
# out, static files (Flask's and bootstrap-flask's) and the health checks. Error pages are not
# endpoints: a request that matches no route (404/405) has no endpoint and passes to its error page.
SECOND_FACTOR_EXEMPT = frozenset({"moderation.two_factor", "accounts.logout", "static", "bootstrap.static",
                                  "web.healthz", "web.ping"})
SECOND_FACTOR_REQUIRED = "Enter the code from your authenticator app first: operators need the second factor."


def _second_factor_next() -> str | None:
    """Where to return after the code: this page for a GET, the page the form was on for a POST."""
    if request.method in ("GET", "HEAD"):
        return request.full_path.rstrip("?")
    if not is_safe_redirect(request.referrer):
        return None
    back = urlsplit(request.referrer)
    return back.path + (f"?{back.query}" if back.query else "")


def register_second_factor_gate(app: Flask) -> None:
    """Every request of an operator who has not passed the second factor in this session goes to the
    TOTP page (JSON clients get a 403 with the reason), whatever the page: operator powers are not
    limited to /moderation."""
    @app.before_request
    def _require_second_factor():
        endpoint = request.endpoint
        if endpoint is None or endpoint in SECOND_FACTOR_EXEMPT or is_api_request():
            return None   # the API ignores cookies: operators have no tokens
        if not current_user.is_authenticated or not current_user.is_operator:
            return None
        if second_factor_passed(current_user):
            return None
        if wants_json():
            return error_response(403, SECOND_FACTOR_REQUIRED)
        return redirect(url_for("moderation.two_factor", next=_second_factor_next()))
