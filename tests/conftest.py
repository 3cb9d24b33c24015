"""Test harness: one app and schema per session, one rolled-back transaction per test.

The database is SQLite in memory unless TEST_DATABASE_URL names another one
(CI sets it to PostgreSQL). The schema is built by running the Alembic
migrations, so every run also proves the migrations reach head.
"""
from __future__ import annotations

import os
import re
import threading

import pytest
from flask.testing import FlaskClient
from flask_migrate import upgrade
from flask_sqlalchemy.session import _app_ctx_id
from sqlalchemy import text
from sqlalchemy.orm import scoped_session, sessionmaker

from config import TestingConfig
from marketplace import create_app
from marketplace.extensions import db

from tests import factories

# Apps the tests build from a dict of settings start from development defaults;
# the shared app below uses TestingConfig explicitly.
os.environ.setdefault("APP_ENV", "development")


class FreshContextClient(FlaskClient):
    """Runs each request in its own app context, as a real server would.

    Flask 3.1 would otherwise run a request inside whatever app context the
    test has pushed, sharing `g` (Flask-Login's cached user) and the session.
    """

    _inside = threading.local()

    def open(self, *args, **kwargs):
        # Werkzeug follows redirects by calling open() again: reuse the context
        # then, or each hop would hold a second database connection.
        if getattr(self._inside, "active", False):
            return super().open(*args, **kwargs)
        self._inside.active = True
        try:
            with self.application.app_context():
                return super().open(*args, **kwargs)
        finally:
            self._inside.active = False


class TransactionalClient(FreshContextClient):
    """Commits the test's pending work first so the request can see it.

    With the per-test transaction that commit only releases the test's
    savepoint into the outer transaction, which is still rolled back after
    the test; and a view that rolls back then only undoes its own work.
    """

    def open(self, *args, **kwargs):
        db.session.commit()
        return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def app():
    app = create_app(TestingConfig)
    app.test_client_class = TransactionalClient
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            # Start from an empty schema whatever an earlier run left behind.
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade()
        from marketplace.profiles.taxonomy import ensure_skill_taxonomy
        ensure_skill_taxonomy()
        db.session.commit()
        db.session.remove()
    yield app


@pytest.fixture(autouse=True)
def _transaction(request, app):
    """Bind the session to a connection whose outer transaction is rolled back after the test."""
    if request.node.get_closest_marker("e2e") or request.node.get_closest_marker("no_db_transaction"):
        yield
        return
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        # A plain Session: Flask-SQLAlchemy's own get_bind() would ignore the connection.
        db.session = scoped_session(sessionmaker(bind=connection, join_transaction_mode="create_savepoint"),
                                    scopefunc=_app_ctx_id)
        try:
            yield
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()


@pytest.fixture()
def committed_world(app):
    """Committed data for tests with real concurrent transactions (PostgreSQL only).

    Everything but the skill taxonomy is truncated afterwards, so the rolled-back
    tests that follow start from the same empty database.
    """
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("concurrency is tested on PostgreSQL (set TEST_DATABASE_URL)")
        yield
        db.session.rollback()
        tables = ", ".join(t.name for t in db.metadata.sorted_tables if t.name != "skills")
        db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        db.session.commit()


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture()
def csrf_app(app):
    app.config["WTF_CSRF_ENABLED"] = True
    yield app
    app.config["WTF_CSRF_ENABLED"] = False


@pytest.fixture()
def limited_app(app):
    """The production rate limits, with fresh in-memory counters."""
    from config import Config
    from marketplace.extensions import limiter
    relaxed = app.config["RATELIMIT_AUTH"]
    app.config["RATELIMIT_AUTH"] = Config.RATELIMIT_AUTH
    limiter.reset()
    yield app
    limiter.reset()
    app.config["RATELIMIT_AUTH"] = relaxed


@pytest.fixture()
def freelancer():
    return factories.create_freelancer()


@pytest.fixture()
def business():
    return factories.create_business()


@pytest.fixture()
def operator():
    return factories.create_operator()


def login(client, user, password: str = factories.PASSWORD, remember: bool = False):
    return client.post("/login", data={"email": user.email, "password": password,
                                       "remember": "y" if remember else ""})


@pytest.fixture()
def login_as(client):
    def _login(user, **kw):
        response = login(client, user, **kw)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client
    return _login


@pytest.fixture()
def login_operator(client):
    """Log an operator in and mark the second factor passed, as the TOTP page does after a good code."""
    from marketplace.moderation.access import MFA_SESSION_KEY

    def _login(user):
        response = login(client, user)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        with client.session_transaction() as session:
            session[MFA_SESSION_KEY] = user.get_id()
        return client
    return _login


@pytest.fixture()
def dev_mailbox(app, monkeypatch):
    """The development outbox (OUTBOX_PUBLIC), where mail keeps its secret links for `outbox_link()`.

    Elsewhere the stored copy of a reset or confirmation mail has its link redacted.
    """
    monkeypatch.setitem(app.config, "OUTBOX_PUBLIC", True)


def outbox_link(to: str, path_prefix: str) -> str:
    """The most recent link starting with `path_prefix` mailed to `to` (secret links: needs `dev_mailbox`)."""
    from sqlalchemy import select
    from marketplace.outbox.models import OutboxMessage
    rows = db.session.execute(select(OutboxMessage.body, OutboxMessage.secret_body)
                              .where(OutboxMessage.to_address == to).order_by(OutboxMessage.id.desc())).all()
    for row in rows:
        body = row.secret_body if row.secret_body is not None else row.body
        match = re.search(r"https?://[^/\s]+(" + re.escape(path_prefix) + r"\S+)", body)
        if match:
            return match.group(1)
    raise AssertionError(f"no {path_prefix} link mailed to {to}")
