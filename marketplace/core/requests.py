"""Request-level guards that apply to every page: bounded ids and no NUL bytes."""
from __future__ import annotations

from flask import Flask, abort, request
from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1  # the largest id an INTEGER column holds on PostgreSQL


class BoundedIntConverter(IntegerConverter):
    """`<int:...>` that never matches numbers the database columns can't hold (404, not a 500)."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def register_request_guards(app: Flask) -> None:
    app.url_map.converters["int"] = BoundedIntConverter

    @app.before_request
    def _reject_nul_bytes():
        # PostgreSQL text can't hold NUL; no legitimate form or query needs one.
        for values in (request.args, request.form):
            for value in values.values():
                if "\x00" in value:
                    abort(400, description="The request contained an invalid character.")
