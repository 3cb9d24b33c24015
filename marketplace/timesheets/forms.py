"""Timesheet forms: shape only (timesheets/services.py checks the rules)."""
from __future__ import annotations

from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import DateField, DecimalField, SelectField, SubmitField, TextAreaField, TimeField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, StopValidation

from marketplace.core.reference import CHANNELS
from marketplace.timesheets.services import MEMO_MAX


class EntryForm(FlaskForm):
    day = DateField("Date", validators=[InputRequired(message="Choose the date you started.")],
                    description="The date the work started, in your time zone.")
    start = TimeField("Start", validators=[InputRequired(message="Enter a start time like 09:00.")])
    end = TimeField("End", validators=[InputRequired(message="Enter an end time like 13:30.")],
                    description="An end earlier than the start means you worked past midnight.")
    channel = SelectField("Channel", choices=[("", "—")] + list(CHANNELS.items()), default="")
    memo = TextAreaField("What you did", validators=[
        DataRequired(message="Please say what you worked on (tickets handled, channel...)."),
        Length(max=MEMO_MAX)], render_kw={"rows": 2, "maxlength": MEMO_MAX})
    submit = SubmitField("Save entry")


def _finite(form, field) -> None:
    # Decimal parses "NaN", "sNaN" and "Infinity"; NumberRange can't compare them (sNaN raises).
    if field.data is not None and not field.data.is_finite():
        raise StopValidation("Enter the weekly limit in hours, like 10 or 7.5.")


class LimitForm(FlaskForm):
    hours = DecimalField("Weekly limit (hours)", places=2, validators=[
        InputRequired(message="Enter the weekly limit in hours."), _finite,
        NumberRange(min=Decimal("0.25"), max=Decimal(60), message="Enter between 0.25 and 60 hours.")],
        description="Applies from next Monday 00:00 UTC; this week keeps its limit.")
    submit = SubmitField("Change from next week")

    @property
    def minutes(self) -> int:
        return int((self.hours.data * 60).to_integral_value())


class ConfirmForm(FlaskForm):
    submit = SubmitField("Delete")
