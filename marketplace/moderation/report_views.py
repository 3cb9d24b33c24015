"""The "Report" action on tasks, profiles, bids, messages and reviews. (Placeholder: being built.)"""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("reports", __name__)
