"""Messaging forms: shape checks only; the rules live in services."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SubmitField, TextAreaField
from wtforms.validators import Length

from marketplace.messaging.services import MAX_MESSAGE_LENGTH, clean_body


class MessageForm(FlaskForm):
    # Cleaned before validation, so the length checked is the length stored.
    body = TextAreaField("Your message", filters=[clean_body],
                         # Empty is allowed with an attachment; the service refuses a message with neither.
                         validators=[Length(max=MAX_MESSAGE_LENGTH,
                                            message=f"Messages can be at most {MAX_MESSAGE_LENGTH:,} characters.")],
                         render_kw={"rows": 4, "maxlength": MAX_MESSAGE_LENGTH,
                                    "placeholder": "Write a reply…"})
    submit = SubmitField("Send")


class OpenThreadForm(FlaskForm):
    """"Message" on a proposal card: CSRF only."""
