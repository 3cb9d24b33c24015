"""Idempotency keys for the gateway: unique per install, and a new one for each new attempt.

Stripe keeps the first response to a key for 24 hours and replays it, so the
key names one *operation*: resending it is safe after a network error, but an
operation Stripe refused needs a new key once the cause is fixed. Keys start
with PAYMENTS_INSTALL_ID so that two environments sharing a Stripe account
(or a database restored elsewhere) never replay each other's objects.
"""
from __future__ import annotations

import re

from flask import current_app

_ATTEMPT = re.compile(r"^(?P<base>.*):try(?P<n>\d+)$")


def idempotency_key(*parts: object) -> str:
    return ":".join([current_app.config["PAYMENTS_INSTALL_ID"], *map(str, parts)])


def next_attempt_key(key: str) -> str:
    """`<install>:transfer:eng_7` -> `...:try2` -> `...:try3`: a new operation at the gateway."""
    match = _ATTEMPT.match(key)
    return f"{match['base']}:try{int(match['n']) + 1}" if match else f"{key}:try2"
