"""Request-level guards that apply to every page: bounded ids, no NUL bytes, no unexpected file parts."""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Flask, abort, current_app, request
from werkzeug.routing import IntegerConverter

from marketplace.core.integers import MAX_ID

View = TypeVar("View", bound=Callable)
ACCEPTED_FILES_ATTR = "accepted_file_fields"


class BoundedIntConverter(IntegerConverter):
    """`<int:...>` that never matches numbers the database columns can't hold (404, not a 500)."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def accepts_files(*field_names: str) -> Callable[[View], View]:
    """Let a view receive uploads in the named form fields (put it below `@bp.route`).

    Every other view refuses a request carrying any file part: Flask-WTF hands file parts
    to the form with the text fields, so a text field sent as a file would otherwise reach
    code that expects a string.
    """
    def mark(view: View) -> View:
        setattr(view, ACCEPTED_FILES_ATTR, frozenset(field_names))
        return view
    return mark


def _holds_nul(value) -> bool:
    """A NUL anywhere in a JSON document's strings or keys (the API's bodies)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False


def register_request_guards(app: Flask) -> None:
    app.url_map.converters["int"] = BoundedIntConverter

    @app.before_request
    def _reject_nul_bytes():
        # PostgreSQL text can't hold NUL; no legitimate form or query needs one.
        for values in (request.args, request.form):
            for key, value in values.items(multi=True):
                if "\x00" in key or "\x00" in value:
                    abort(400, description="The request contained an invalid character.")
        # The public API's JSON bodies (Stripe's signed events are recorded as they come: payments/webhooks.py).
        if request.is_json and request.path.startswith("/api/v1/"):
            try:
                document = request.get_json(silent=True)
            except RecursionError:
                abort(400, description="The JSON body is nested too deeply.")
            if _holds_nul(document):
                abort(400, description="The request contained an invalid character.")

    @app.before_request
    def _reject_unexpected_files():
        view = current_app.view_functions.get(request.endpoint)
        accepted = getattr(view, ACCEPTED_FILES_ATTR, frozenset())
        if accepted:
            # Pages taking an upload accept a body as large as the largest upload (plus the form);
            # everywhere else MAX_CONTENT_LENGTH stays small. Set before the body is parsed.
            config = current_app.config
            largest = max(config.get("UPLOAD_MAX_BYTES", 0), config.get("AVATAR_MAX_BYTES", 0))
            if config.get("MAX_CONTENT_LENGTH") is not None:
                request.max_content_length = max(config["MAX_CONTENT_LENGTH"], largest + 256 * 1024)
        if not request.files:
            return
        for name in request.files:
            if name not in accepted:
                abort(400, description=f"The field “{name[:40]}” takes text, not a file upload. "
                                       "Please fill in the form and send it again.")
