"""The operator console: second factor, queue, actions, audit log. (Placeholder: being built.)"""
from __future__ import annotations

from flask import Blueprint, render_template

from marketplace.moderation.access import operator_required

bp = Blueprint("moderation", __name__, url_prefix="/moderation")


@bp.route("/2fa", methods=["GET", "POST"])
def two_factor():
    return "two factor", 501


@bp.get("/")
@operator_required
def queue():
    return "queue", 501


@bp.get("/audit")
@operator_required
def audit():
    return "audit", 501
