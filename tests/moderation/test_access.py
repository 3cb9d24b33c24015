"""Every operator route refuses anonymous visitors, businesses, specialists, and operators without the second factor."""
from __future__ import annotations

import pytest

from tests import factories


def _operator_routes(app) -> list[tuple[str, str, str]]:
    """(method, url, endpoint) for every rule under /moderation, placeholders filled with plausible values."""
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/moderation"):
            continue
        values = {}
        for arg in rule.arguments:
            values[arg] = "task" if arg == "target_type" else "1"
        url = rule.rule
        for arg, value in values.items():
            url = url.replace(f"<int:{arg}>", value).replace(f"<{arg}>", value)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((method, url, rule.endpoint))
    return routes


def test_the_console_has_the_expected_routes(app):
    endpoints = {endpoint for _, _, endpoint in _operator_routes(app)}
    assert {"moderation.two_factor", "moderation.queue", "moderation.audit", "moderation.case",
            "moderation.approve_case", "moderation.reject_case", "moderation.flag_target",
            "moderation.act_on_flags", "moderation.dismiss_flags", "moderation.user", "moderation.warn_user",
            "moderation.suspend_user", "moderation.reinstate_user"} <= endpoints


def test_anonymous_visitors_are_sent_to_login(app, client):
    for method, url, endpoint in _operator_routes(app):
        response = client.open(url, method=method)
        assert response.status_code == 302, (method, url)
        assert response.headers["Location"].startswith("/login"), (method, url)


@pytest.mark.parametrize("make_user", [factories.create_business, factories.create_freelancer])
def test_businesses_and_specialists_get_403(app, client, login_as, make_user):
    login_as(make_user())
    for method, url, endpoint in _operator_routes(app):
        response = client.open(url, method=method)
        assert response.status_code == 403, (method, url, response.status_code)
        assert "moderation queue" not in response.get_data(as_text=True).lower()


def test_operators_without_the_second_factor_are_sent_to_it(app, client, login_as):
    operator = factories.create_operator()
    factories.create_task(title="Secret held thing")
    login_as(operator)
    for method, url, endpoint in _operator_routes(app):
        if endpoint == "moderation.two_factor":
            continue
        response = client.open(url, method=method)
        assert response.status_code == 302, (method, url, response.status_code)
        assert response.headers["Location"].startswith("/moderation/2fa"), (method, url)
        assert "Secret held thing" not in response.get_data(as_text=True)


def test_operators_who_passed_the_second_factor_get_in(client, login_operator):
    login_operator(factories.create_operator())
    for url in ("/moderation/", "/moderation/audit", "/moderation/?tab=flags", "/moderation/?tab=disputes"):
        response = client.get(url)
        assert response.status_code == 200, url


def test_password_login_sends_an_operator_to_the_second_factor(client):
    operator = factories.create_operator()
    response = client.post("/login", data={"email": operator.email, "password": factories.PASSWORD,
                                           "next": "/moderation/audit"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/moderation/2fa")
    assert "next=/moderation/audit" in response.headers["Location"].replace("%2F", "/")


def test_logging_out_forgets_the_second_factor(client, login_operator):
    from marketplace.moderation.access import MFA_SESSION_KEY
    login_operator(factories.create_operator())
    assert client.get("/moderation/").status_code == 200
    client.post("/logout")
    with client.session_transaction() as session:
        assert MFA_SESSION_KEY not in session
