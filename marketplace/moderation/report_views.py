"""The "Report" action on tasks, profiles, bids, messages and reviews. (Placeholder: being built.)"""
from __future__ import annotations

from flask import Blueprint
from flask_login import login_required

bp = Blueprint("reports", __name__)


@bp.route("/report/<target_type>/<int:target_id>", methods=["GET", "POST"])
@login_required
def new(target_type: str, target_id: int):
    return "report", 501
