"""Session cookies: flags, lifetime, and invalidation on logout / password change."""
from datetime import timedelta

from config import ProductionConfig
from marketplace import create_app
from tests import factories
from tests.conftest import login


def _cookie(client, name):
    return client.get_cookie(name)


def test_session_cookie_flags_and_lifetime(app, client, freelancer):
    response = login(client, freelancer)
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in header and "SameSite=Lax" in header
    assert app.permanent_session_lifetime <= timedelta(hours=12)
    assert "Expires=" in header  # permanent session, bounded by the lifetime above


def test_remember_cookie_is_bounded_and_http_only(app, client, freelancer):
    response = login(client, freelancer, remember=True)
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("remember_token="))
    assert "HttpOnly" in header and "SameSite=Lax" in header
    assert timedelta(0) < app.config["REMEMBER_COOKIE_DURATION"] <= timedelta(days=30)


def test_production_cookies_are_secure(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "prod-secret-for-test")
    app = create_app(ProductionConfig)
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    assert app.config["SESSION_COOKIE_HTTPONLY"] and app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert not app.debug


def test_cookie_captured_before_logout_no_longer_works(app, client, freelancer):
    login(client, freelancer, remember=True)
    stolen_session = _cookie(client, "session").value
    stolen_remember = _cookie(client, "remember_token").value
    assert client.get("/dashboard").status_code == 200
    client.post("/logout")
    assert client.get("/dashboard").status_code == 302

    attacker = app.test_client()
    attacker.set_cookie("session", stolen_session)
    assert attacker.get("/dashboard").status_code == 302
    attacker = app.test_client()
    attacker.set_cookie("remember_token", stolen_remember)
    assert attacker.get("/dashboard").status_code == 302


def test_password_change_ends_other_sessions_but_keeps_this_one(app, client, freelancer):
    other_device = app.test_client()
    login(other_device, freelancer)
    login(client, freelancer)
    response = client.post("/account/password", data={"pw-current_password": factories.PASSWORD,
                                                       "pw-new_password": "violet-meadow-compass-88"})
    assert response.status_code == 302
    assert client.get("/dashboard").status_code == 200
    assert other_device.get("/dashboard").status_code == 302


def test_logout_requires_post(client, freelancer, login_as):
    login_as(freelancer)
    assert client.get("/logout").status_code == 405
    assert client.get("/dashboard").status_code == 200
