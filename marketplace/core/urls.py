"""Redirect targets: only paths within this site are followed."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import request


def is_safe_redirect(target: str | None) -> bool:
    if not target or "\\" in target or any(ord(c) < 32 for c in target):
        return False
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        # An absolute URL is allowed only when it points at this very host.
        host = urlsplit(request.host_url)
        return parts.scheme in ("http", "https") and parts.netloc == host.netloc
    return target.startswith("/") and not target.startswith("//")


def safe_next(target: str | None, default: str) -> str:
    return target if is_safe_redirect(target) else default
