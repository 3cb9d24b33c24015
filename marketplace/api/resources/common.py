"""What every operation module shares: the acting user and running work after the commit."""
from __future__ import annotations

from typing import Callable

from flask import g


def actor():
    """The owner of the request's token (marketplace/api/__init__.py authenticated it)."""
    return g.api_user


def after_commit(action: Callable[[], None]) -> None:
    """Run `action` once the request's transaction has committed (payments the pages also start then)."""
    g.setdefault("api_after_commit", []).append(action)
