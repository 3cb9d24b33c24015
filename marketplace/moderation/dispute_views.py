"""Disputes: the parties' statements and the operator's split. (Placeholder: being built.)"""
from __future__ import annotations

from flask import Blueprint

from marketplace.moderation.access import operator_required

bp = Blueprint("disputes", __name__)


@bp.get("/moderation/disputes")
@operator_required
def operator_index():
    return "disputes", 501
