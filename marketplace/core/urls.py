"""Redirect targets (only paths within this site are followed) and the absolute links put in emails."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, request


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


def public_url(path: str) -> str:
    """`path` on this site as an absolute URL from PUBLIC_BASE_URL, for links read outside the site (emails).

    Never from the request: its Host header is whatever the client sent (TRUSTED_HOSTS checks the name,
    not the port), and a job has no request at all.
    """
    if not path.startswith("/") or path.startswith("//"):
        raise ValueError(f"not a path on this site: {path!r}")
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path
