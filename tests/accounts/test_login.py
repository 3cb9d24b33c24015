from datetime import timedelta

import pytest
from sqlalchemy import select

from marketplace.accounts.models import AccountStatus, LoginThrottle
from marketplace.core.time import utcnow
from marketplace.extensions import db
from tests import factories
from tests.conftest import login


def test_login_with_right_password_opens_dashboard(client, freelancer):
    response = login(client, freelancer)
    assert response.status_code == 302 and response.headers["Location"].endswith("/dashboard")
    page = client.get("/dashboard").get_data(as_text=True)
    assert f"Hello, {freelancer.first_name}" in page


def test_wrong_password_gets_a_generic_message(client, freelancer):
    response = login(client, freelancer, password="wrong-password-123")
    assert response.status_code == 400
    assert "don&#39;t match" in response.get_data(as_text=True)
    # Counted for this email and client, not on the account (tests/accounts/test_lockout.py).
    assert db.session.scalar(select(LoginThrottle.failures)) == 1
    db.session.refresh(freelancer)
    assert freelancer.failed_logins == 0


def test_unknown_email_gets_the_same_message(client):
    response = client.post("/login", data={"email": "ghost@example.com", "password": "whatever-long-1"})
    assert response.status_code == 400 and "don&#39;t match" in response.get_data(as_text=True)


def test_repeated_failures_lock_this_client_out_even_for_the_right_password(client, app, freelancer):
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        login(client, freelancer, password="wrong-password-123")
    assert db.session.scalar(select(LoginThrottle.locked_until)) is not None
    response = login(client, freelancer)
    assert response.status_code == 400 and "locked" in response.get_data(as_text=True)
    assert client.get("/dashboard").status_code == 302  # still logged out


def test_lock_expires(client, app, freelancer):
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        login(client, freelancer, password="wrong-password-123")
    throttle = db.session.scalar(select(LoginThrottle))
    throttle.locked_until = utcnow() - timedelta(minutes=1)
    db.session.flush()
    assert login(client, freelancer).status_code == 302


def test_suspended_account_cannot_log_in(client):
    user = factories.create_business(status=AccountStatus.SUSPENDED)
    response = login(client, user)
    assert response.status_code == 400 and "suspended" in response.get_data(as_text=True)


def test_suspended_account_loses_its_running_session(client, freelancer, login_as):
    login_as(freelancer)
    freelancer.status = AccountStatus.SUSPENDED
    db.session.flush()
    assert client.get("/dashboard").status_code == 302


@pytest.mark.parametrize("next_url, expected", [
    ("/account", "/account"),
    ("https://evil.example.com/phish", "/dashboard"),
    ("//evil.example.com/", "/dashboard"),
    ("/\\evil.example.com", "/dashboard"),
    ("javascript:alert(1)", "/dashboard"),
])
def test_next_parameter_only_redirects_within_the_site(client, freelancer, next_url, expected):
    response = client.post("/login", data={"email": freelancer.email, "password": factories.PASSWORD,
                                           "next": next_url})
    assert response.status_code == 302
    assert response.headers["Location"] == expected


def test_login_is_rate_limited_per_ip_and_x_forwarded_for_does_not_help(limited_app, freelancer):
    client = limited_app.test_client()
    statuses = [client.post("/login", data={"email": freelancer.email, "password": "wrong-password-123"},
                            headers={"X-Forwarded-For": f"10.0.0.{i}"}).status_code for i in range(12)]
    assert statuses[:10] == [400] * 10
    assert statuses[10:] == [429, 429]
    page = client.post("/login", data={"email": "a@example.com", "password": "x" * 12})
    assert page.status_code == 429
    assert "Too many attempts" in page.get_data(as_text=True)


def test_signup_and_reset_are_rate_limited_too(limited_app):
    client = limited_app.test_client()
    for path in ("/signup", "/password/forgot"):
        codes = [client.post(path, data={"email": "x@example.com"}).status_code for _ in range(11)]
        assert codes[-1] == 429, (path, codes)
