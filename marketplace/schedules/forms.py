"""Schedule forms: shape only (blocks.py and claims.py check the rules)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, RadioField, SelectField, SubmitField, TimeField
from wtforms.validators import InputRequired, NumberRange, Optional

from marketplace.core.forms import BoundedIntegerField, coerce_id
from marketplace.core.reference import CHANNELS
from marketplace.schedules.models import MAX_BLOCK_SEATS, WEEKDAYS


class BlockForm(FlaskForm):
    kind = RadioField("Repeats", choices=[("weekly", "Every week"), ("once", "Once (a one-off block)")],
                      default="weekly", validators=[InputRequired(message="Choose weekly or one-off.")])
    weekday = SelectField("Weekday", choices=[(str(i), name) for i, name in enumerate(WEEKDAYS)], default="0")
    on_date = DateField("Date (one-off)", validators=[Optional()])
    start = TimeField("Start", validators=[InputRequired(message="Enter a start time like 09:00.")])
    end = TimeField("End", validators=[InputRequired(message="Enter an end time like 17:00.")],
                    description="An end at or before the start runs past midnight.")
    channel = SelectField("Channel", choices=list(CHANNELS.items()))
    seats = BoundedIntegerField("People", default=1, low=1, high=MAX_BLOCK_SEATS, validators=[
        InputRequired(message="How many people should cover this block?"),
        NumberRange(min=1, max=MAX_BLOCK_SEATS, message=f"Between 1 and {MAX_BLOCK_SEATS} people.")])
    submit = SubmitField("Add block")

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.kind.data == "once" and self.on_date.data is None and not self.on_date.errors:
            self.on_date.errors = ["Choose the date of the one-off block."]
            valid = False
        return valid


class ActionForm(FlaskForm):
    """A button that only needs the CSRF token."""
    submit = SubmitField("Go")


class AssignForm(FlaskForm):
    specialist_id = SelectField("Specialist", coerce=coerce_id, validate_choice=False)
    submit = SubmitField("Assign")


class SwapForm(FlaskForm):
    seat_id = SelectField("Their shift", coerce=coerce_id, validate_choice=False)
    submit = SubmitField("Offer swap")


class ClaimForm(FlaskForm):
    series = HiddenField()
    submit = SubmitField("Claim")
