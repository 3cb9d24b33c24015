"""Payment forms: shape only."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, SubmitField
from wtforms.validators import AnyOf, InputRequired

from marketplace.payments.gateway import SANDBOX_CARDS


class SandboxCardForm(FlaskForm):
    """Test mode: which test card to save (what an off-session charge on it will do)."""
    behaviour = HiddenField(validators=[InputRequired(), AnyOf(list(SANDBOX_CARDS))])
    submit = SubmitField("Save this test card")
