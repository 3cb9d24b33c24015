"""Account forms: shape checks only; rules live in services."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, RadioField, SubmitField
from wtforms.validators import DataRequired, Email, Length, Optional

from marketplace.accounts.passwords import MAX_LENGTH, MIN_LENGTH
from marketplace.core.forms import SingleLineField, single_line

EMAIL = [DataRequired("Enter your email address."), Email("Enter a valid email address, like name@example.com."),
         Length(max=254)]
NEW_PASSWORD = [DataRequired("Choose a password."),
                Length(min=MIN_LENGTH, max=MAX_LENGTH, message=f"Use {MIN_LENGTH} to {MAX_LENGTH} characters.")]


class SignupForm(FlaskForm):
    role = RadioField("I want to", choices=[("business", "Hire support specialists"),
                                            ("freelancer", "Work as a support specialist")],
                      validators=[DataRequired("Choose whether you are hiring or offering support.")])
    full_name = SingleLineField("Your name", validators=[DataRequired("Tell us your name."), Length(max=120)])
    email = EmailField("Work email", validators=EMAIL, filters=[single_line])
    password = PasswordField("Password", validators=NEW_PASSWORD,
                             description=f"At least {MIN_LENGTH} characters. A short phrase is easy to remember.")
    submit = SubmitField("Create account")


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=EMAIL, filters=[single_line])
    password = PasswordField("Password", validators=[DataRequired("Enter your password."), Length(max=MAX_LENGTH)])
    remember = BooleanField("Keep me signed in on this device for 14 days")
    # Offered only after a lockout answer (accounts.lockout): an operator's way in from a locked address.
    code = SingleLineField("Second-factor code", validators=[Optional(), Length(max=40)],
                       description="Operators: the code from your authenticator app, or a recovery code.")
    next = HiddenField()
    submit = SubmitField("Log in")


class ReauthenticateForm(FlaskForm):
    password = PasswordField("Password", validators=[DataRequired("Enter your password."), Length(max=MAX_LENGTH)])
    next = HiddenField()
    submit = SubmitField("Confirm")


class ForgotPasswordForm(FlaskForm):
    email = EmailField("Email", validators=EMAIL, filters=[single_line])
    submit = SubmitField("Send reset link")


class ResetPasswordForm(FlaskForm):
    password = PasswordField("New password", validators=NEW_PASSWORD)
    submit = SubmitField("Set new password")


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired("Enter your current password."),
                                                                     Length(max=MAX_LENGTH)])
    new_password = PasswordField("New password", validators=NEW_PASSWORD)
    submit = SubmitField("Change password")


class ChangeEmailForm(FlaskForm):
    email = EmailField("New email", validators=EMAIL, filters=[single_line])
    current_password = PasswordField("Current password", validators=[DataRequired("Enter your current password."),
                                                                     Length(max=MAX_LENGTH)])
    submit = SubmitField("Change email")


class ResendVerificationForm(FlaskForm):
    submit = SubmitField("Send the link again")
