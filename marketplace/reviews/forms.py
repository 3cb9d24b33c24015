"""The review form: shape only. Who may review, and which scores a role must give, is the service's call."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SubmitField, TextAreaField
from wtforms.validators import Length, StopValidation

from marketplace.core.forms import SingleLineField
from marketplace.reviews.models import EMPATHY_DIMENSIONS
from marketplace.reviews.services import COMMENT_MAX, FEEDBACK_MAX

SCORES = ("1", "2", "3", "4", "5")


class Score:
    """A 1-5 score sent as a radio value. Missing is fine unless `required` (the service decides per role)."""

    def __init__(self, message: str, required: bool = False):
        self.message, self.required = message, required

    def __call__(self, form, field) -> None:
        raw = (field.data or "").strip()
        if not raw:
            if self.required:
                raise StopValidation(self.message)
            field.errors[:] = []
            raise StopValidation()
        if raw not in SCORES:
            raise StopValidation(self.message)


class ReviewForm(FlaskForm):
    stars = SingleLineField("Overall rating", validators=[Score("Choose an overall rating from 1 to 5 stars.",
                                                                required=True)])
    listening = SingleLineField(dict(EMPATHY_DIMENSIONS)["listening"],
                                validators=[Score("Score “Active listening” from 1 to 5.")])
    acknowledging = SingleLineField(dict(EMPATHY_DIMENSIONS)["acknowledging"],
                                    validators=[Score("Score “Acknowledging emotions” from 1 to 5.")])
    patience = SingleLineField(dict(EMPATHY_DIMENSIONS)["patience"],
                               validators=[Score("Score “Patience” from 1 to 5.")])
    positive_language = SingleLineField(dict(EMPATHY_DIMENSIONS)["positive_language"],
                                        validators=[Score("Score “Positive language” from 1 to 5.")])
    follow_through = SingleLineField(dict(EMPATHY_DIMENSIONS)["follow_through"],
                                     validators=[Score("Score “Follow-through” from 1 to 5.")])
    public_comment = TextAreaField("Public comment", validators=[Length(
        max=COMMENT_MAX, message=f"The public comment can be at most {COMMENT_MAX} characters.")])
    private_feedback = TextAreaField("Private feedback to the platform", validators=[Length(
        max=FEEDBACK_MAX, message=f"The private feedback can be at most {FEEDBACK_MAX} characters.")])
    submit = SubmitField("Send review")

    def score(self, name: str) -> int | None:
        raw = (getattr(self, name).data or "").strip()
        return int(raw) if raw in SCORES else None

