from __future__ import annotations

from flask import Blueprint
from flask_login import login_required

bp = Blueprint("notifications", __name__)


@bp.get("/notifications")
@login_required
def index():  # replaced by the notifications feature
    return "Notifications"
