from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DecimalField, SelectField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from marketplace.core.forms import BoundedIntegerField, MinorUnits, RepeatedHiddenTag, SingleLineField, coerce_id


class BidForm(FlaskForm):
    amount = DecimalField("Your price (USD)", places=2,
                          validators=[InputRequired("Enter your price."),
                                      MinorUnits("0.01", "100000", message="Enter an amount above zero and at "
                                                                           "most $100,000.00.")])
    estimated_hours = BoundedIntegerField("Estimated hours", validators=[Optional(), NumberRange(min=1, max=2000)])
    cover_note = TextAreaField("Cover note", validators=[DataRequired("Tell the business why you're a good fit."),
                                                         Length(max=5000)],
                               description="How you'd handle their customers, relevant experience, questions.")
    availability_note = SingleLineField("Availability", validators=[Length(max=300)],
                                        description="For example: free from the 12th, mornings CET.")
    submit = SubmitField("Send proposal")


class DeclineForm(RepeatedHiddenTag, FlaskForm):
    note = TextAreaField("Note to the specialist (optional)", validators=[Length(max=500)])
    submit = SubmitField("Decline")


class ActionForm(RepeatedHiddenTag, FlaskForm):
    """A button that only carries the CSRF token."""
    submit = SubmitField("Confirm")


class InviteForm(FlaskForm):
    task_id = SelectField("Task", coerce=coerce_id, choices=[],
                          validators=[InputRequired("Choose one of your open tasks.")])
    message = TextAreaField("Message", validators=[Length(max=2000)],
                            description="Say why you think they'd be a good fit.")
    submit = SubmitField("Send invitation")
