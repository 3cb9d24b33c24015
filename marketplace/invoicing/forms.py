"""Hourly billing forms: shape only (invoicing/services.py checks the rules)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DecimalField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from marketplace.core.forms import MinorUnits, coerce_id, single_line


class BonusForm(FlaskForm):
    title = StringField("What is it for?", filters=[single_line],
                        validators=[DataRequired("Give the bonus a short title."), Length(max=100)])
    amount = DecimalField("Amount", places=2,
                          validators=[InputRequired("Enter the bonus amount."),
                                      MinorUnits("0.01", "100000", message="Enter an amount above zero and at "
                                                                           "most $100,000.00.")])
    submit = SubmitField("Pay bonus")


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
