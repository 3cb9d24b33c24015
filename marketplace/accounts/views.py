"""Account pages: parse -> service -> commit -> render."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import confirm_login, current_user, fresh_login_required, login_required, login_user, logout_user

from marketplace.accounts import lockout, services
from marketplace.accounts.forms import (ChangeEmailForm, ChangePasswordForm, ForgotPasswordForm, LoginForm,
                                        ReauthenticateForm, ResendVerificationForm, ResetPasswordForm, SignupForm)
from marketplace.accounts.passwords import verify_password
from marketplace.core.errors import DomainError
from marketplace.core.forms import attach_error
from marketplace.core.urls import public_url, safe_next
from marketplace.extensions import db, limiter
from marketplace.moderation import two_factor
from marketplace.moderation.access import forget_second_factor, mark_second_factor_passed

bp = Blueprint("accounts", __name__)


def _auth_limit() -> str:
    return current_app.config["RATELIMIT_AUTH"]


def _verify_link(token: str) -> str:
    return public_url(url_for("accounts.verify_email", token=token))


def _reset_link(token: str) -> str:
    return public_url(url_for("accounts.reset_password", token=token))


def _start_session(user, remember: bool = False) -> None:
    login_user(user, remember=remember)
    # Permanent so PERMANENT_SESSION_LIFETIME (<= 12 h) bounds the session cookie.
    session.permanent = True


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(_auth_limit, methods=["POST"])
def signup():
    if current_user.is_authenticated:
        return redirect(url_for("web.dashboard"))
    form = SignupForm(role=request.args.get("role") if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            user = services.sign_up(form.email.data, form.password.data, form.full_name.data,
                                    form.role.data, _verify_link)
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            attach_error(form, error)
        else:
            _start_session(user)
            flash(f"Welcome, {user.first_name}! We sent a confirmation link to {user.email}.", "success")
            return redirect(url_for("profiles.edit"))
    return render_template("accounts/signup.html", form=form), 400 if request.method == "POST" else 200


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_auth_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("web.dashboard"))
    form = LoginForm(next=request.args.get("next", ""))
    show_code = False
    if form.validate_on_submit():
        result = services.authenticate(form.email.data, form.password.data, lockout.client_key(request.remote_addr),
                                       form.code.data)
        db.session.commit()  # keeps the failure counters even when the login fails
        if result.user is not None:
            _start_session(result.user, remember=form.remember.data)
            flash(f"Welcome back, {result.user.first_name}.", "success")
            if result.second_factor:   # typed on this form past a lockout
                mark_second_factor_passed(result.user)
                if result.second_factor == "recovery":
                    left = two_factor.unused_recovery_codes(result.user)
                    flash(f"Recovery code accepted. You have {left} left.", "warning" if left < 3 else "info")
                return redirect(safe_next(form.next.data, url_for("moderation.queue")))
            if result.user.is_operator:  # the console needs the second factor first
                return redirect(url_for("moderation.two_factor", next=safe_next(form.next.data, "") or None))
            return redirect(safe_next(form.next.data, url_for("web.dashboard")))
        form.form_errors.append(result.error)
        show_code = result.locked
    form.code.data = ""   # a code is never echoed back
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/login.html", form=form, show_code=show_code), status


@bp.route("/reauthenticate", methods=["GET", "POST"])
@login_required
@limiter.limit(_auth_limit, methods=["POST"])
def reauthenticate():
    form = ReauthenticateForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        if verify_password(current_user.password_hash, form.password.data):
            confirm_login()
            return redirect(safe_next(form.next.data, url_for("accounts.settings")))
        form.password.errors.append("That password is not correct.")
    return render_template("accounts/reauthenticate.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    services.end_all_sessions(current_user)
    db.session.commit()
    forget_second_factor()
    logout_user()
    flash("You have been logged out.", "info")
    return redirect(url_for("web.index"))


@bp.get("/verify/<token>")
def verify_email(token: str):
    try:
        user = services.verify_email(token)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        return render_template("accounts/verify_failed.html", message=error.message), 400
    flash("Thanks, your email address is confirmed.", "success")
    return redirect(url_for("web.dashboard" if current_user.is_authenticated and current_user.id == user.id
                            else "accounts.login"))


@bp.post("/verify/resend")
@login_required
@limiter.limit(_auth_limit)
def resend_verification():
    form = ResendVerificationForm()
    if form.validate_on_submit() and not current_user.is_verified:
        services.send_verification_email(current_user, _verify_link)
        db.session.commit()
        flash(f"We sent a new confirmation link to {current_user.email}.", "info")
    return redirect(url_for("web.dashboard"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_auth_limit, methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data, _reset_link)
        db.session.commit()
        flash("If an account uses that address, a reset link is on its way. It expires in one hour.", "info")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/forgot_password.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@limiter.limit(_auth_limit, methods=["POST"])
def reset_password(token: str):
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(token, form.password.data)
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            if error.field == "password":
                attach_error(form, error)
            else:
                return render_template("accounts/verify_failed.html", message=error.message), 400
        else:
            logout_user()
            flash("Your password was changed. Log in with your new password.", "success")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/reset_password.html", form=form)


@bp.get("/account")
@login_required
def settings():
    return render_template("accounts/settings.html", email_form=ChangeEmailForm(prefix="email"),
                           password_form=ChangePasswordForm(prefix="pw"))


@bp.post("/account/password")
@fresh_login_required
def change_password():
    form = ChangePasswordForm(prefix="pw")
    if form.validate_on_submit():
        try:
            services.change_password(current_user, form.current_password.data, form.new_password.data)
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            attach_error(form, error, "new_password")
        else:
            # This browser continues with the new session token; every other session ends.
            _start_session(current_user._get_current_object())
            flash("Your password was changed. Other devices have been signed out.", "success")
            return redirect(url_for("accounts.settings"))
    return render_template("accounts/settings.html", email_form=ChangeEmailForm(prefix="email"),
                           password_form=form), 400


@bp.post("/account/email")
@fresh_login_required
def change_email():
    form = ChangeEmailForm(prefix="email")
    if form.validate_on_submit():
        try:
            services.change_email(current_user, form.current_password.data, form.email.data, _verify_link)
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            attach_error(form, error, "email")
        else:
            _start_session(current_user._get_current_object())
            flash(f"Your email is now {current_user.email}. Check that inbox for a confirmation link.", "success")
            return redirect(url_for("accounts.settings"))
    return render_template("accounts/settings.html", email_form=form,
                           password_form=ChangePasswordForm(prefix="pw")), 400
