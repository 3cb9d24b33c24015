"""Account settings pages for personal access tokens: create (shown once), list, revoke."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, SubmitField
from wtforms.validators import DataRequired, Length

from marketplace.api import tokens
from marketplace.core.errors import DomainError
from marketplace.core.forms import SingleLineField, attach_error
from marketplace.extensions import db

bp = Blueprint("api_tokens", __name__)

class ActionForm(FlaskForm):
    """A button that only carries the CSRF token."""
    submit = SubmitField("Confirm")


EXPIRY_CHOICES = [("30", "30 days"), ("90", "90 days"), ("365", "1 year")]


class TokenForm(FlaskForm):
    name = SingleLineField("Name", validators=[DataRequired("Name the token."), Length(max=80)],
                           description="Where you use it, e.g. “Helpdesk sync”.")
    scope = RadioField("Access", default="read", choices=[("read", "Read only"),
                                                          ("write", "Read and write (create, change, hire)")])
    expires_in_days = SelectField("Expires after", choices=EXPIRY_CHOICES, default="90")
    submit = SubmitField("Create token")


def _page(form: TokenForm, new_secret: str | None = None, status: int = 200):
    return render_template("api/tokens.html", form=form, tokens=tokens.tokens_of(current_user),
                           new_secret=new_secret, action_form=ActionForm(), is_expired=tokens.is_expired), status


@bp.get("/account/tokens")
@login_required
def index():
    return _page(TokenForm())


@bp.post("/account/tokens")
@login_required
def create():
    form = TokenForm()
    if form.validate_on_submit():
        try:
            _token, secret = tokens.create_token(current_user, form.name.data, form.scope.data,
                                                 int(form.expires_in_days.data))
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            attach_error(form, error)
        else:
            # Shown on this response only: we keep just its hash.
            return _page(TokenForm(formdata=None), new_secret=secret, status=201)
    return _page(form, status=400)


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke(token_id: int):
    if not ActionForm().validate_on_submit():
        flash("Your form expired. Please try again.", "danger")
        return redirect(url_for("api_tokens.index"))
    token = tokens.revoke_token(current_user, token_id)
    db.session.commit()
    flash(f"Token “{token.name}” revoked: it stops working at once.", "success")
    return redirect(url_for("api_tokens.index"))
