"""Milestone forms: shape only (contracts/services.py checks the rules)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, DecimalField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from marketplace.core.forms import MinorUnits, single_line


class MilestoneForm(FlaskForm):
    title = StringField("Title", filters=[single_line],
                        validators=[DataRequired("Give the milestone a short title."), Length(max=120)])
    amount = DecimalField("Amount", places=2,
                          validators=[InputRequired("Enter the milestone's amount."),
                                      MinorUnits("0.01", "100000", message="Enter an amount above zero and at "
                                                                           "most $100,000.00.")])
    due_on = DateField("Due date (optional)", validators=[Optional()])
    submit = SubmitField("Add milestone")
