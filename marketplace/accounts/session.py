"""Flask-Login wiring: a user id plus a per-user session token.

The id Flask-Login stores in the session and remember cookie is
"<user id>:<session token>". Rotating the token (logout, password change)
makes every cookie issued before it useless.
"""
from __future__ import annotations

from flask import Flask
from flask_login import LoginManager

from marketplace.extensions import db


def init_login(app: Flask, login_manager: LoginManager) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Please log in to continue."
    login_manager.login_message_category = "info"
    login_manager.refresh_view = "accounts.reauthenticate"
    login_manager.needs_refresh_message = "For your security, please confirm your password to continue."
    login_manager.needs_refresh_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(user_id: str):
        from marketplace.accounts.models import User

        uid, _, token = (user_id or "").partition(":")
        if not uid.isdigit() or not token:
            return None
        user = db.session.get(User, int(uid))
        if user is None or user.session_token != token or not user.is_active:
            return None
        return user
