from __future__ import annotations

from flask import Blueprint
from flask_login import login_required

bp = Blueprint("messaging", __name__)


@bp.get("/messages")
@login_required
def inbox():  # replaced by the messaging feature
    return "Messages"
