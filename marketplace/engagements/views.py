from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from marketplace.engagements import services

bp = Blueprint("engagements", __name__)


@bp.get("/engagements")
@login_required
def mine():
    return render_template("engagements/mine.html", engagements=services.engagements_of(current_user))


@bp.get("/engagements/<int:engagement_id>")
@login_required
def show(engagement_id: int):
    engagement = services.get_engagement_for(current_user, engagement_id)
    return render_template("engagements/show.html", engagement=engagement)
