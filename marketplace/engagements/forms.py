"""Engagement action forms: shape only (the transitions check the rules)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


class NoteForm(FlaskForm):
    note = TextAreaField("Note", validators=[DataRequired(message="Please write a short note."), Length(max=2000)])
    submit = SubmitField("Send")


class OptionalNoteForm(FlaskForm):
    note = TextAreaField("Reason (optional)", validators=[Optional(), Length(max=1000)])
    submit = SubmitField("Confirm")
