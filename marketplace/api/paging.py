"""Cursor pagination for API lists: `?limit=` (1-100) and the opaque `cursor` of the previous page.

The cursor encodes the position in the list's fixed order; clients pass it back unchanged.
"""
from __future__ import annotations

import base64
import binascii

from marshmallow import Schema, fields, validate

from marketplace.core.errors import ValidationFailed

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


class PageArgs(Schema):
    limit = fields.Integer(load_default=DEFAULT_LIMIT, validate=validate.Range(1, MAX_LIMIT))
    cursor = fields.String(load_default=None, validate=validate.Length(max=100))


def encode(position: int) -> str:
    return base64.urlsafe_b64encode(f"p{position}".encode()).decode().rstrip("=")


def decode(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        position = int(text[1:]) if text.startswith("p") else -1
    except (binascii.Error, UnicodeDecodeError, ValueError):
        position = -1
    if not 0 <= position <= 1_000_000:
        raise ValidationFailed("That cursor is not valid: pass back the next_cursor of a previous page.",
                               field="cursor")
    return position


def page_of(items: list, args: dict) -> dict:
    """A page of an ordered list the service returned."""
    start, limit = decode(args.get("cursor")), args["limit"]
    chunk = items[start:start + limit]
    more = len(items) > start + limit
    return {"data": chunk, "next_cursor": encode(start + limit) if more else None}


_envelopes: dict[str, type[Schema]] = {}


def envelope(item_schema: type[Schema]) -> type[Schema]:
    """The page schema of a list of `item_schema`: {"data": [...], "next_cursor": ...}."""
    name = item_schema.__name__.removesuffix("Schema") + "PageSchema"
    if name not in _envelopes:
        _envelopes[name] = type(name, (Schema,), {
            "data": fields.List(fields.Nested(item_schema), required=True),
            "next_cursor": fields.String(allow_none=True, required=True),
        })
    return _envelopes[name]
