"""Domain errors and their single mapping to HTTP responses.

Services raise `DomainError` subclasses; `register_errorhandlers()` turns them
(and HTTP errors) into a flash + redirect, a styled page, or a JSON error for
API/JSON clients. A 500 never shows a traceback.
"""
from __future__ import annotations

import logging

from flask import Flask, flash, jsonify, redirect, render_template, request
from flask.globals import request_ctx
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from marketplace.extensions import db

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A rule of the marketplace refused an action. `message` is shown to the user."""

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationFailed(DomainError):
    status_code = 400


class NotFound(DomainError):
    status_code = 404

    def __init__(self, message: str = "We couldn't find that.", **kw):
        super().__init__(message, **kw)


class Forbidden(DomainError):
    status_code = 403

    def __init__(self, message: str = "You don't have access to that.", **kw):
        super().__init__(message, **kw)


class Conflict(DomainError):
    """The action clashes with the current state (already taken, already done)."""

    status_code = 409


class AccountLocked(DomainError):
    status_code = 403


ERROR_TITLES = {
    400: "That request didn't look right",
    401: "Authentication needed",
    403: "You don't have access to this page",
    404: "Page not found",
    405: "That action isn't allowed here",
    409: "That has already changed",
    413: "That upload is too large",
    422: "Some of the input is invalid",
    429: "Slow down a little",
    500: "Something went wrong on our side",
    503: "We're temporarily unavailable",
}


API_PREFIX = "/api/v1"
# Stable problem types of the JSON API (RFC 9457), by status; a DomainError may name its own.
PROBLEM_TYPES = {
    400: "bad-request", 401: "unauthenticated", 403: "forbidden", 404: "not-found", 405: "method-not-allowed",
    409: "conflict", 413: "too-large", 415: "unsupported-media-type", 422: "invalid-request",
    429: "rate-limited", 500: "server-error", 503: "unavailable",
}


def is_api_request() -> bool:
    return request.path == API_PREFIX or request.path.startswith(API_PREFIX + "/")


def problem_response(status: int, detail: str, *, problem: str | None = None,
                     errors: list[dict] | None = None, headers: dict | None = None):
    """An application/problem+json response (RFC 9457) with a stable `type`."""
    slug = problem or PROBLEM_TYPES.get(status, "error")
    body = {"type": f"{API_PREFIX}/problems/{slug}", "title": ERROR_TITLES.get(status, "Error"),
            "status": status, "detail": detail}
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def field_errors(messages, prefix: str = "") -> list[dict]:
    """webargs/marshmallow messages ({"json": {"title": ["..."]}}) as [{"field", "detail"}]."""
    if isinstance(messages, dict):
        found = []
        for key, value in messages.items():
            top_level_location = not prefix and key in ("json", "query", "headers", "path", "view_args", "form")
            found += field_errors(value, "" if top_level_location else (f"{prefix}.{key}" if prefix else str(key)))
        return found
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [{"field": prefix or None, "detail": m} for m in messages]
    if isinstance(messages, list):
        return [e for i, item in enumerate(messages) for e in field_errors(item, f"{prefix}[{i}]")]
    return [{"field": prefix or None, "detail": str(messages)}]


def wants_json() -> bool:
    if request.path.startswith("/api/") or request.is_json:
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def error_response(status: int, message: str, *, field: str | None = None):
    if is_api_request():
        return problem_response(status, message, errors=[{"field": field, "detail": message}] if field else None)
    if wants_json():
        body = {"error": ERROR_TITLES.get(status, "Error"), "message": message, "status": status}
        if field:
            body["field"] = field
        return jsonify(body), status
    if request_ctx.url_adapter is None:
        # The request was refused before routing (e.g. an untrusted Host): no URLs can be built.
        return f"<!doctype html><title>{status}</title><h1>{ERROR_TITLES.get(status, 'Error')}</h1>", status
    return render_template("errors/error.html", status=status,
                           title=ERROR_TITLES.get(status, "Error"), message=message), status


def register_errorhandlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def handle_domain_error(error: DomainError):
        db.session.rollback()
        if is_api_request():
            return problem_response(error.status_code, error.message, problem=getattr(error, "problem", None),
                                    errors=[{"field": error.field, "detail": error.message}] if error.field else None)
        if not wants_json() and request.method == "POST" and error.status_code in (400, 409):
            # A refused form action: tell the user on the page they came from.
            flash(error.message, "danger")
            return redirect(request.referrer if _is_local(request.referrer) else request.path)
        return error_response(error.status_code, error.message, field=error.field)

    @app.errorhandler(CSRFError)
    def handle_csrf_error(error: CSRFError):
        return error_response(400, "Your form expired or was sent from another site. "
                                   "Please reload the page and try again.")

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        status = error.code or 500
        message = error.description if status not in (500,) else ERROR_TITLES[500]
        if status == 429:
            message = "Too many attempts in a short time. Please wait a minute and try again."
        if is_api_request():
            data = getattr(error, "data", None) or {}
            if status == 422 and "messages" in data:
                return problem_response(422, "Some fields are missing or invalid.",
                                        errors=field_errors(data["messages"]))
            response = problem_response(status, message)
            if status == 405 and error.valid_methods:
                response.headers["Allow"] = ", ".join(error.valid_methods)
            return response
        response = error_response(status, message)
        if isinstance(response, tuple) and status == 405 and error.valid_methods:
            body, code = response
            return body, code, {"Allow": ", ".join(error.valid_methods)}
        return response

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        log.exception("Unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        from marketplace.core.observability import report_error
        report_error(error, path=request.path, endpoint=request.endpoint)
        return error_response(500, "We've been notified. Please try again in a moment.")


def _is_local(url: str | None) -> bool:
    from marketplace.core.urls import is_safe_redirect
    return bool(url) and is_safe_redirect(url)
