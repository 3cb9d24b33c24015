"""Marketplace metrics for operators. (Placeholder: being built.)"""
from __future__ import annotations

from flask import Blueprint

from marketplace.moderation.access import operator_required

bp = Blueprint("metrics", __name__)


@bp.get("/moderation/metrics")
@operator_required
def index():
    return "metrics", 501
