"""Every operator route refuses anonymous visitors, businesses, specialists, and operators without the second factor."""
from __future__ import annotations

import re

import pytest

from tests import factories


def _operator_routes(app) -> list[tuple[str, str, str]]:
    """(method, url, endpoint) for every rule under /moderation, placeholders filled with plausible values."""
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/moderation"):
            continue
        def plausible(match: re.Match) -> str:
            converter, arg = match.group(1) or "", match.group(2)
            if converter.startswith("any("):   # e.g. <any(retry, discard):job_action>: its first choice
                return converter[4:].split(",")[0].strip(" )'\"")
            return "task" if arg == "target_type" else "1"
        url = re.sub(r"<(?:([^<>]*):)?(\w+)>", plausible, rule.rule)
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


# --- the second factor guards every operator power, not only /moderation ----------------------------

def _unquoted_location(response) -> str:
    from urllib.parse import unquote
    return unquote(response.headers["Location"])


def _operator_pages():
    """(url, text only an operator who passed the second factor may see) for operator powers outside /moderation."""
    from marketplace.accounts.services import request_password_reset
    from marketplace.extensions import db
    from marketplace.payments.models import CardDispute
    from tests.payments.helpers import sandbox_fund
    from tests.reviews.helpers import business_review, ended_engagement

    reader = factories.create_freelancer()
    request_password_reset(reader.email, lambda token: f"http://localhost/password/reset/{token}")
    reviewed = ended_engagement(title="Reviewed chat cover")
    business_review(reviewed)                       # private feedback "Internal note."
    funded = factories.create_engagement()
    sandbox_fund(funded)
    held = factories.create_task(moderation_status="pending_review", title="Secret held task title")
    db.session.add(CardDispute(external_id="dp_gate", charge_external_id="ch_gate", engagement_id=funded.id,
                               amount=1234, currency="USD", status="needs_response", reason="fraudulent"))
    db.session.flush()
    return [("/outbox/", "Reset your password"),
            (f"/engagements/{reviewed.id}", "Internal note."),
            (f"/engagements/{funded.id}", funded.task.title),
            (f"/tasks/{held.id}", "Secret held task title"),
            ("/payments/disputes", "dp_gate")]


def test_an_operator_without_the_second_factor_is_sent_to_it_from_every_operator_page(client, login_as):
    pages = _operator_pages()
    login_as(factories.create_operator())
    for url, secret in pages:
        response = client.get(url)
        assert response.status_code == 302, (url, response.status_code)
        assert _unquoted_location(response) == f"/moderation/2fa?next={url}", url
        assert secret not in response.get_data(as_text=True), url


def test_the_same_pages_open_once_the_second_factor_is_passed(client, login_operator):
    pages = _operator_pages()
    login_operator(factories.create_operator())
    for url, secret in pages:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        assert secret in response.get_data(as_text=True), url


def test_a_real_code_on_the_totp_page_leads_back_to_the_page_asked_for(client, login_as):
    import pyotp
    from marketplace.core.time import utcnow
    from marketplace.extensions import db
    _, (url, secret) = _operator_pages()[:2]
    operator = factories.create_operator()
    operator.totp_secret, operator.totp_enabled_at = pyotp.random_base32(), utcnow()
    db.session.flush()
    login_as(operator)
    page = client.get(url, follow_redirects=True)
    assert page.request.path == "/moderation/2fa" and "Enter your code" in page.get_data(as_text=True)
    assert secret not in page.get_data(as_text=True)
    response = client.post("/moderation/2fa", data={"code": pyotp.TOTP(operator.totp_secret).now(), "next": url})
    assert response.status_code == 302 and response.headers["Location"] == url
    assert secret in client.get(url).get_data(as_text=True)


def test_an_operator_without_the_second_factor_cannot_cancel_a_funded_engagement(client, login_as,
                                                                                  login_operator):
    from sqlalchemy import func, select

    from marketplace.engagements.models import EngagementStatus
    from marketplace.extensions import db
    from marketplace.payments.models import Refund
    from tests.payments.helpers import sandbox_fund

    engagement = factories.create_engagement()
    sandbox_fund(engagement)
    operator = factories.create_operator()
    login_as(operator)
    response = client.post(f"/engagements/{engagement.id}/cancel", data={"note": "No show"},
                           headers={"Referer": f"http://localhost/engagements/{engagement.id}"})
    assert response.status_code == 302
    assert _unquoted_location(response) == f"/moderation/2fa?next=/engagements/{engagement.id}"
    db.session.refresh(engagement)
    assert engagement.status == EngagementStatus.ACTIVE
    assert db.session.scalar(select(func.count()).select_from(Refund)) == 0
    # A form posted from another site is not where the code page sends the operator back to.
    response = client.post(f"/engagements/{engagement.id}/cancel", data={"note": "No show"},
                           headers={"Referer": "https://evil.example/x"})
    assert response.headers["Location"] == "/moderation/2fa"

    client.post("/logout")
    login_operator(operator)
    response = client.post(f"/engagements/{engagement.id}/cancel", data={"note": "No show"})
    assert response.status_code == 302
    db.session.refresh(engagement)
    assert engagement.status == EngagementStatus.CANCELLED
    assert db.session.scalar(select(func.count()).select_from(Refund)) == 1


def test_json_clients_get_a_403_with_the_reason(client, login_as):
    engagement = factories.create_engagement()
    login_as(factories.create_operator())
    response = client.get(f"/engagements/{engagement.id}", headers={"Accept": "application/json"})
    assert response.status_code == 403
    body = response.get_json()
    assert body["status"] == 403 and "second factor" in body["message"]
    response = client.post(f"/engagements/{engagement.id}/cancel", json={"note": "x"})
    assert response.status_code == 403 and "second factor" in response.get_json()["message"]


def test_the_totp_page_logout_static_files_and_health_checks_work_without_it(client, login_as):
    from marketplace.moderation.access import MFA_SESSION_KEY
    operator = factories.create_operator()
    login_as(operator)
    assert client.get("/moderation/2fa").status_code == 200
    for url in ("/static/app.css", "/static/favicon.svg", "/bootstrap/static/css/bootstrap.min.css",
                "/ping", "/healthz"):
        assert client.get(url).status_code == 200, url
    # Error pages are not redirected either.
    assert client.get("/no-such-page").status_code == 404
    assert client.get("/dashboard").headers["Location"].startswith("/moderation/2fa")
    response = client.post("/logout")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    with client.session_transaction() as session:
        assert "_user_id" not in session and MFA_SESSION_KEY not in session
    assert client.get("/dashboard").headers["Location"].startswith("/login")


def test_businesses_and_specialists_are_not_asked_for_a_second_factor(app, client, login_as):
    from tests.payments.helpers import sandbox_fund
    engagement = factories.create_engagement()
    sandbox_fund(engagement)
    for user in (engagement.business, engagement.freelancer):
        login_as(user)
        for url in ("/dashboard", f"/engagements/{engagement.id}", f"/tasks/{engagement.task_id}", "/account"):
            response = client.get(url)
            assert response.status_code == 200, (user.role, url, response.status_code)
        client.post("/logout")
