"""Logins keep working when the rate-limit storage (Redis) is down.

The app under test points RATELIMIT_STORAGE_URI at a local port where nothing listens (found
by binding and releasing it), so every call to Redis really fails with a refused connection.
"""
from __future__ import annotations

import logging
import socket

import pyotp
import pytest

from marketplace import create_app
from marketplace.core.ratelimit import FALLBACK_MESSAGE
from marketplace.core.time import utcnow
from marketplace.extensions import db, limiter
from tests import factories
from tests.conftest import TransactionalClient


def _dead_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:   # nothing listens there now
        assert probe.connect_ex(("127.0.0.1", port)) != 0
    return port


@pytest.fixture()
def dead_redis_app(app):
    dead = create_app({"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], "TESTING": True,
                       "SECRET_KEY": "testing-secret-key", "TRUSTED_HOSTS": None, "WTF_CSRF_ENABLED": False,
                       "MAIL_SERVER": None, "RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{_dead_port()}/0",
                       "RATELIMIT_AUTH": "10 per minute"})
    dead.test_client_class = TransactionalClient
    yield dead
    # The limiter is one object shared by every app in this process: give the suite's app its
    # in-memory storage back and forget that the dead one was marked down.
    limiter.init_app(app)
    limiter._storage_dead = False


def test_login_signup_reset_and_second_factor_work_with_redis_down(dead_redis_app, caplog):
    client = dead_redis_app.test_client()
    freelancer = factories.create_freelancer()
    with caplog.at_level(logging.WARNING):
        response = client.post("/login", data={"email": freelancer.email, "password": factories.PASSWORD})
    assert response.status_code == 302 and response.headers["Location"].endswith("/dashboard")
    # Loud: an error naming the setting, not Flask-Limiter's lone warning.
    alarms = [r for r in caplog.records if r.getMessage() == FALLBACK_MESSAGE]
    assert alarms and alarms[0].levelno == logging.ERROR
    client.post("/logout")

    signup = client.post("/signup", data={"role": "business", "full_name": "Dana Reyes",
                                          "email": "dana.redis-down@example.com",
                                          "password": "saffron-bridge-kite-64"})
    assert signup.status_code == 302, signup.get_data(as_text=True)[:300]
    client.post("/logout")

    assert client.post("/password/forgot", data={"email": freelancer.email}).status_code == 302

    operator = factories.create_operator(totp_secret=pyotp.random_base32(), totp_enabled_at=utcnow())
    assert client.post("/login", data={"email": operator.email, "password": factories.PASSWORD}).status_code == 302
    second = client.post("/moderation/2fa", data={"code": pyotp.TOTP(operator.totp_secret).now()})
    assert second.status_code == 302 and second.headers["Location"] == "/moderation/"


def test_per_ip_limit_and_lockout_still_apply_with_redis_down(dead_redis_app):
    client = dead_redis_app.test_client()
    freelancer = factories.create_freelancer()
    max_failures = dead_redis_app.config["LOGIN_MAX_FAILURES"]
    for _ in range(max_failures):
        assert client.post("/login", data={"email": freelancer.email, "password": "wrong-password-123"}
                           ).status_code == 400
    # The lockout lives in the database: the right password is refused too.
    refused = client.post("/login", data={"email": freelancer.email, "password": factories.PASSWORD})
    assert refused.status_code == 400 and "locked" in refused.get_data(as_text=True)
    # The per-IP limit (10 per minute here) is counted in memory while Redis is away.
    statuses = [client.post("/login", data={"email": "ghost@example.com", "password": "whatever-long-1"}
                            ).status_code for _ in range(10 - max_failures - 1 + 2)]
    assert statuses[-2:] == [429, 429] and 429 not in statuses[:-2]
