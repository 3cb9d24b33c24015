"""The public JSON API, /api/v1 (flask-smorest: OpenAPI generated from the code).

A thin door over the same domain services as the pages. This module wires what every
operation shares: token authentication (cookies never count here), scopes by method,
Idempotency-Key on POST, one transaction per request, per-token rate limits with
RateLimit-* headers, CSRF exemption, problem+json errors (core/errors.py) and the docs page.
"""
from __future__ import annotations

import hashlib

from flask import Flask, g, request
from apispec import BasePlugin
from flask_smorest import Api as SmorestApi

from marketplace.core.errors import is_api_request
from marketplace.extensions import db

# Reached without a token: the OpenAPI document and the docs page with its assets.
PUBLIC_ENDPOINTS = frozenset({"api-docs.openapi_json", "api_docs.page", "api_docs.asset"})


class Api(SmorestApi):
    """flask-smorest's Api with our errors: problem+json documented as every operation's error response."""

    def _register_error_handlers(self):
        """Errors are mapped once for the whole app (core/errors.py, problem+json under /api/v1)."""

    def _register_responses(self):
        import http

        from flask_smorest.spec import prepare_response

        from marketplace.api.schemas import ProblemSchema
        for status in list(http.HTTPStatus) + [None]:
            response = {"description": status.phrase if status else "An error (application/problem+json)",
                        "schema": ProblemSchema}
            prepare_response(response, self.spec, "application/problem+json")
            self.spec.components.response(status.name if status else "DEFAULT_ERROR", response, lazy=True)


class IdempotencyKeyPlugin(BasePlugin):
    """Documents the optional Idempotency-Key header on every POST operation."""

    def operation_helper(self, path=None, operations=None, **kwargs):
        for method, operation in (operations or {}).items():
            if method == "post":
                operation.setdefault("parameters", []).append("IdempotencyKey")


IDEMPOTENCY_PARAMETER = {
    "description": "Any unique string (e.g. a UUID). Retrying with the same key and request replays the first "
                   "answer for 24 h (Idempotent-Replayed: true); the same key with another request is a 422.",
    "required": False, "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}


def current_actor():
    """The token's owner for this request."""
    return g.api_user


def rate_limit_key() -> str:
    """Per token (by the hash of the Authorization header), else per address."""
    header = request.headers.get("Authorization", "")
    if header:
        return "api-token:" + hashlib.sha256(header.encode()).hexdigest()[:32]
    return "api-ip:" + (request.remote_addr or "unknown")


def init_api(app: Flask) -> None:
    from flask import current_app

    from marketplace.api import docs, resources
    from marketplace.extensions import csrf, limiter

    api = Api(app, spec_kwargs={
        "extra_plugins": [IdempotencyKeyPlugin()],
        "info": {"description": "Human Touch public API. Authenticate with a personal access token "
                                "(Authorization: Bearer ht_...) created on your account settings page."},
        "servers": [{"url": "/"}],
    })
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer",
                                                       "description": "A personal access token (ht_...)."})
    api.spec.options["security"] = [{"bearerAuth": []}]
    api.spec.components.parameter("IdempotencyKey", "header", IDEMPOTENCY_PARAMETER)
    api.spec.components.parameters["IdempotencyKey"]["name"] = "Idempotency-Key"
    for blueprint in resources.blueprints():
        if not getattr(blueprint, "_rate_limited", False):
            # The limiter and the blueprints are module-level, shared by every app built in a process
            # (tests build several): decorate once, or each app would add another limit to count.
            limiter.limit(lambda: current_app.config["API_RATE_LIMIT"], key_func=rate_limit_key)(blueprint)
            blueprint._rate_limited = True
        csrf.exempt(blueprint)
        api.register_blueprint(blueprint)
    app.register_blueprint(docs.bp)
    app.extensions["marketplace_api"] = api

    @app.before_request
    def _authenticate():
        if not is_api_request() or request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
            return None
        from marketplace.api import idempotency, tokens
        scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            raise tokens.Unauthenticated()
        token = tokens.authenticate(raw)
        g.api_token, g.api_user = token, token.user
        if request.method not in ("GET", "HEAD", "OPTIONS") and not token.allows("write"):
            raise tokens.InsufficientScope("This token is read-only; create one with the write scope.")
        if request.method == "POST":
            return idempotency.begin(token.user_id)
        return None

    @app.after_request
    def _finish(response):
        if not is_api_request():
            return response
        from marketplace.api import idempotency
        if response.status_code < 400:
            idempotency.finish(response)
            db.session.commit()   # queued jobs (payouts, refunds) run or are queued after this commit
        else:
            db.session.rollback()
            idempotency.finish(response)
            db.session.commit()
        _rate_limit_headers(response)
        if response.status_code == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
        return response


def _rate_limit_headers(response) -> None:
    """RateLimit-Limit / -Remaining / -Reset (seconds), from Flask-Limiter's view of this request."""
    import time

    from marketplace.extensions import limiter
    current = limiter.current_limit
    if current is None:
        return
    response.headers["RateLimit-Limit"] = str(current.limit.amount)
    response.headers["RateLimit-Remaining"] = str(max(current.remaining, 0))
    response.headers["RateLimit-Reset"] = str(max(int(current.reset_at - time.time()), 0))
