"""The shape a signed Stripe event must have before any handler reads it.

A correct signature proves who sent the bytes, not that the app can use them
(a different API version, a test tool, a bug on either side). Every field a
handler reads is checked here, in one place, against the type and bounds our
columns and queries accept; an event that fails is recorded and acknowledged
by the webhook (so Stripe stops resending it) and never reaches a handler.
"""
from __future__ import annotations

import re

ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:-]{0,79}")      # evt_..., ch_..., acct_...: our columns hold 80
ACCOUNT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:-]{0,63}")
EVENT_TYPE = re.compile(r"[a-z0-9_]+(\.[a-z0-9_]+)*")
CURRENCY = re.compile(r"[A-Za-z]{3}")
OUR_ID = re.compile(r"[0-9]{1,9}")       # our row ids in metadata: bounded like path ids
MAX_AMOUNT = 2_147_483_647               # the amount columns are 32-bit integers
SHORT, LONG = 40, 5000

# Metadata keys that name our rows: anything but a plain bounded id is refused.
METADATA_IDS = ("engagement_id", "charge_id", "refund_id", "transfer_id", "user_id")


class Unusable(ValueError):
    """Why a signed event can't be used: the reason is stored with the event."""


def _text(value, where: str, limit: int, *, optional: bool = True) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str):
        raise Unusable(f"{where} is not a string")
    if len(value) > limit:
        raise Unusable(f"{where} is longer than {limit} characters")
    if "\x00" in value:
        raise Unusable(f"{where} contains a NUL character")


def _id(value, where: str, *, optional: bool = True, pattern: re.Pattern = ID) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise Unusable(f"{where} is not a valid id")


def _int(value, where: str, *, low: int = 0, optional: bool = True) -> None:
    if value is None and optional:
        return
    if not isinstance(value, int) or isinstance(value, bool):
        raise Unusable(f"{where} is not an integer")
    if not low <= value <= MAX_AMOUNT:
        raise Unusable(f"{where} is out of range")


def _dict(value, where: str, *, optional: bool = True) -> dict:
    if value is None and optional:
        return {}
    if not isinstance(value, dict):
        raise Unusable(f"{where} is not an object")
    return value


def _list(value, where: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise Unusable(f"{where} is not a list")
    return value


def _metadata(value, where: str) -> None:
    metadata = _dict(value, where)
    for key, item in metadata.items():
        _text(item, f"{where}.{key}", 500)
        if key in METADATA_IDS and item is not None and not OUR_ID.fullmatch(item):
            raise Unusable(f"{where}.{key} is not a valid id")


def _currency(value, where: str) -> None:
    if value is not None and (not isinstance(value, str) or not CURRENCY.fullmatch(value)):
        raise Unusable(f"{where} is not a currency code")


def _balance_transaction(bt, where: str) -> None:
    _dict(bt, where, optional=False)
    _id(bt.get("id"), f"{where}.id", optional=False)
    for key in ("amount", "fee", "net"):
        _int(bt.get(key), f"{where}.{key}", low=-MAX_AMOUNT)
    _currency(bt.get("currency"), f"{where}.currency")


def _object(obj: dict, where: str = "data.object") -> None:
    """The fields handlers read, wherever they appear: checked when present."""
    _id(obj.get("id"), f"{where}.id", optional=False)
    for key in ("object", "status", "payment_status", "reason", "failure_reason", "mode"):
        _text(obj.get(key), f"{where}.{key}", SHORT)
    _text(obj.get("failure_message"), f"{where}.failure_message", LONG)
    for key in ("amount", "amount_total"):
        _int(obj.get(key), f"{where}.{key}")
    _currency(obj.get("currency"), f"{where}.currency")
    for key in ("payment_intent", "charge", "setup_intent", "customer", "latest_charge"):
        _id(obj.get(key), f"{where}.{key}")
    _metadata(obj.get("metadata"), f"{where}.metadata")
    error = _dict(obj.get("last_payment_error"), f"{where}.last_payment_error")
    _text(error.get("message"), f"{where}.last_payment_error.message", LONG)
    _text(error.get("code"), f"{where}.last_payment_error.code", SHORT)
    for key, item in _dict(obj.get("capabilities"), f"{where}.capabilities").items():
        _text(item, f"{where}.capabilities.{key}", SHORT)
    requirements = _dict(obj.get("requirements"), f"{where}.requirements")
    for n, item in enumerate(_list(requirements.get("currently_due"), f"{where}.requirements.currently_due")):
        _text(item, f"{where}.requirements.currently_due[{n}]", 200, optional=False)
    for n, bt in enumerate(_list(obj.get("balance_transactions"), f"{where}.balance_transactions")):
        _balance_transaction(bt, f"{where}.balance_transactions[{n}]")
    refunds = _dict(obj.get("refunds"), f"{where}.refunds")
    for n, item in enumerate(_list(refunds.get("data"), f"{where}.refunds.data")):
        _object(_dict(item, f"{where}.refunds.data[{n}]", optional=False), f"{where}.refunds.data[{n}]")


def check(event, handled_types) -> None:
    """Raise Unusable with the first problem found; return quietly when handlers may read the event."""
    if not isinstance(event, dict):
        raise Unusable("the event is not a JSON object")
    _id(event.get("id"), "id", optional=False)
    kind = event.get("type")
    if not isinstance(kind, str) or len(kind) > 80 or not EVENT_TYPE.fullmatch(kind):
        raise Unusable("type is not an event type")
    _id(event.get("account"), "account", pattern=ACCOUNT)
    if kind not in handled_types:
        return
    data = _dict(event.get("data"), "data", optional=False)
    _object(_dict(data.get("object"), "data.object", optional=False))
