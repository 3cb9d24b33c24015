"""Upload forms: CSRF and shape only; content checks live in files/content.py."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SubmitField


class AvatarForm(FlaskForm):
    """The file itself is read from request.files (field "file") by the view."""
    submit = SubmitField("Upload")


class AvatarRemoveForm(FlaskForm):
    submit = SubmitField("Remove")
