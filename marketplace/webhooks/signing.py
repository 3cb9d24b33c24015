"""Webhook signatures: the header we send and how a receiver checks it.

Header `Human-Touch-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>]`, where each v1 is
HMAC-SHA256(secret, f"{t}.{raw body}") in lower-case hex. After a secret rotation there are two
v1 values (new and old secret) until the overlap ends, so a receiver may hold either secret.
`verify()` below is the reference receiver code, tested in tests/webhooks.
"""
from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "Human-Touch-Signature"
EVENT_HEADER = "Human-Touch-Event"
DELIVERY_HEADER = "Human-Touch-Delivery"
DEFAULT_TOLERANCE = 300   # seconds a signed timestamp stays acceptable (replay protection)


class SignatureError(ValueError):
    pass


def compute(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secrets: list[str], timestamp: int, body: bytes) -> str:
    return ",".join([f"t={timestamp}"] + [f"v1={compute(s, timestamp, body)}" for s in secrets])


def verify(body: bytes, header: str, secret: str, *, tolerance: int = DEFAULT_TOLERANCE,
           now: float | None = None) -> int:
    """Check a delivery as a receiver would; returns its timestamp or raises SignatureError."""
    timestamp, candidates = None, []
    for part in (header or "").split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        raise SignatureError("The signature header is missing its timestamp or signature.")
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        raise SignatureError("The signature timestamp is too old (or in the future).")
    expected = compute(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise SignatureError("No signature matches this secret.")
    return timestamp
