"""What every operation module shares: the acting user."""
from __future__ import annotations

from flask import g


def actor():
    """The owner of the request's token (marketplace/api/__init__.py authenticated it)."""
    return g.api_user
