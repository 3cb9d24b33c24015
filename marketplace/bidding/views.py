from __future__ import annotations

from flask import Blueprint

bp = Blueprint("bidding", __name__)
