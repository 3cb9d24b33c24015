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
    403: "You don't have access to this page",
    404: "Page not found",
    405: "That action isn't allowed here",
    409: "That has already changed",
    413: "That upload is too large",
    429: "Slow down a little",
    500: "Something went wrong on our side",
    503: "We're temporarily unavailable",
}


def wants_json() -> bool:
    if request.path.startswith("/api/") or request.is_json:
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def error_response(status: int, message: str, *, field: str | None = None):
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
