"""Which webhook URLs we may call: no private, loopback or link-local addresses (SSRF),
unless WEBHOOKS_ALLOW_PRIVATE_URLS is on (development and tests, with local receivers)."""
from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from flask import current_app

from marketplace.core.errors import ValidationFailed


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return ip.is_global and not ip.is_multicast


def check_url(url: str, *, resolve: bool = True) -> str:
    """The URL, cleaned, or ValidationFailed saying why we won't call it."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname or len(url) > 500:
        raise ValidationFailed("Enter a full http(s) URL, at most 500 characters.", field="url")
    if parts.username or parts.password:
        raise ValidationFailed("Leave credentials out of the URL; verify our signature instead.", field="url")
    if current_app.config["WEBHOOKS_ALLOW_PRIVATE_URLS"]:
        return url
    if parts.scheme != "https":
        raise ValidationFailed("Webhook URLs must use https.", field="url")
    if not resolve:
        return url
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise ValidationFailed("We couldn't resolve that host name.", field="url")
    if not infos or not all(_is_public(info[4][0]) for info in infos):
        raise ValidationFailed("That URL points to a private or local address; use a public one.", field="url")
    return url
