"""Hourly billing forms: shape only (invoicing/services.py checks the rules)."""
from __future__ import annotations

import secrets

from flask_wtf import FlaskForm
from wtforms import DecimalField, HiddenField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from marketplace.core.forms import MinorUnits, coerce_id, single_line

EXPIRED = "That form expired. Please reload the page and try again."


class BonusForm(FlaskForm):
    title = StringField("What is it for?", filters=[single_line],
                        validators=[DataRequired("Give the bonus a short title."), Length(max=100)])
    amount = DecimalField("Amount", places=2,
                          validators=[InputRequired("Enter the bonus amount."),
                                      MinorUnits("0.01", "100000", message="Enter an amount above zero and at "
                                                                           "most $100,000.00.")])
    # A one-time key, new each time the form is shown (`new_key`): submitting the same form twice
    # (a double click) finds the bonus the first submit added instead of charging again.
    key = HiddenField(validators=[Optional(), Length(max=64, message=EXPIRED),
                                  Regexp(r"^[A-Za-z0-9_-]+$", message=EXPIRED)])
    submit = SubmitField("Pay bonus")

    def new_key(self) -> None:
        self.key.data = secrets.token_urlsafe(24)


class DisputeEntriesForm(FlaskForm):
    entries = SelectMultipleField("Entries", coerce=coerce_id, option_widget=CheckboxInput(), widget=ListWidget(),
                                  validate_choice=False,
                                  validators=[DataRequired("Choose at least one entry to dispute.")])
    reason = TextAreaField("What is wrong with these entries?",
                           validators=[DataRequired("Please say what is wrong with these entries."),
                                       Length(max=800)])
    submit = SubmitField("Dispute these entries")


class ContractActionForm(FlaskForm):
    submit = SubmitField("Confirm")
