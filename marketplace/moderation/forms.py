"""Moderation forms: shape only (the services check the rules)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length

from marketplace.core.forms import SingleLineField
from marketplace.moderation.models import FLAG_REASONS

REASON_MAX = 500
FLAG_DETAILS_MAX = 1000


class CodeForm(FlaskForm):
    code = SingleLineField("Code", validators=[DataRequired("Enter the code from your app or a recovery code."),
                                               Length(max=40, message="That is not a code.")],
                           render_kw={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True,
                                      "spellcheck": "false"})
    next = HiddenField()


class ReportForm(FlaskForm):
    reason = SelectField("Why are you reporting this?", choices=list(FLAG_REASONS),
                         validators=[DataRequired("Choose a reason.")])
    details = TextAreaField("What should our team know? (optional)",
                            validators=[Length(max=FLAG_DETAILS_MAX,
                                               message=f"Keep it under {FLAG_DETAILS_MAX} characters.")],
                            render_kw={"rows": 4, "maxlength": FLAG_DETAILS_MAX})


class ReasonForm(FlaskForm):
    """An operator action that tells the user why."""
    reason = TextAreaField("Reason (sent to the user)",
                           validators=[DataRequired("Give a reason: the user will read it."),
                                       Length(max=REASON_MAX, message=f"Keep it under {REASON_MAX} characters.")],
                           render_kw={"rows": 2, "maxlength": REASON_MAX})


class OptionalReasonForm(FlaskForm):
    reason = TextAreaField("Note (optional)",
                           validators=[Length(max=REASON_MAX, message=f"Keep it under {REASON_MAX} characters.")],
                           render_kw={"rows": 2, "maxlength": REASON_MAX})
