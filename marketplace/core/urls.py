"""Redirect targets (only paths within this site are followed) and the absolute links put in emails."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, has_request_context, request, url_for


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


def memoized_url_for(endpoint: str, **values) -> str:
    """url_for for templates, remembering the links that never change: an endpoint without arguments
    (the navigation's twenty-odd links on every page) or a static file. Every other call is url_for's."""
    if (not has_request_context() or endpoint.startswith(".")
            or values and (len(values) != 1 or not isinstance(values.get("filename"), str))):
        return url_for(endpoint, **values)
    key = (id(current_app.url_map), request.script_root, endpoint, values.get("filename"))
    known = _URLS.get(key)
    if known is None:
        known = url_for(endpoint, **values)
        if len(_URLS) < 1024:
            _URLS[key] = known
    return known


_URLS: dict[tuple, str] = {}
