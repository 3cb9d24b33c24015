"""Tokens (pages and rules), cookies never counting on /api/v1, problem+json errors, rate limits, docs."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from marketplace.api import tokens
from marketplace.api.models import ApiToken
from marketplace.accounts.models import AccountStatus
from marketplace.core.time import utcnow
from marketplace.extensions import db
from tests import factories
from tests.api.helpers import auth, skill_id, task_body, token_for


def login(client, user):
    return client.post("/login", data={"email": user.email, "password": factories.PASSWORD})


def test_token_created_on_settings_page_is_shown_once_and_stored_hashed(client):
    business = factories.create_business()
    login(client, business)
    page = client.post("/account/tokens", data={"name": "Helpdesk sync", "scope": "write", "expires_in_days": "90"})
    assert page.status_code == 201
    html = page.get_data(as_text=True)
    secret = html.split('id="new-token">')[1].split("<")[0].strip()
    assert secret.startswith("ht_") and len(secret) > 40
    stored = db.session.scalar(select(ApiToken).where(ApiToken.user_id == business.id))
    assert stored.token_hash != secret and secret not in stored.token_hash and stored.prefix == secret[:10]
    assert secret not in client.get("/account/tokens").get_data(as_text=True)   # shown once only
    # The secret works, cookies are not needed (the client's session cookie is not what counts).
    client.post("/logout")
    me = client.get("/api/v1/me", headers=auth(secret))
    assert me.status_code == 200 and me.json["token_scopes"] == ["read", "write"]
    db.session.expire_all()
    assert db.session.get(ApiToken, stored.id).last_used_at is not None


def test_revoking_on_the_page_stops_the_token_at_once(client):
    business = factories.create_business()
    secret = token_for(business)
    login(client, business)
    token_id = db.session.scalar(select(ApiToken.id).where(ApiToken.user_id == business.id))
    assert client.get("/api/v1/me", headers=auth(secret)).status_code == 200
    client.post(f"/account/tokens/{token_id}/revoke")
    assert client.get("/api/v1/me", headers=auth(secret)).status_code == 401


def test_bad_token_form_says_why_and_creates_nothing(client):
    business = factories.create_business()
    login(client, business)
    page = client.post("/account/tokens", data={"name": "", "scope": "write", "expires_in_days": "90"})
    assert page.status_code == 400 and "Name the token" in page.get_data(as_text=True)
    assert db.session.scalar(select(ApiToken).where(ApiToken.user_id == business.id)) is None


def test_cookies_never_authenticate_the_api(client):
    business = factories.create_business()
    login(client, business)
    assert client.get("/account/tokens").status_code == 200      # the session works on pages
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.json["type"] == "/api/v1/problems/unauthenticated"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_post_with_token_needs_no_csrf_token(client, csrf_app):
    business = factories.create_business()
    response = client.post("/api/v1/tasks", json=task_body(skill_id()), headers=auth(token_for(business)))
    assert response.status_code == 201


def test_suspended_accounts_tokens_stop_at_once(client):
    business = factories.create_business()
    secret = token_for(business)
    assert client.get("/api/v1/me", headers=auth(secret)).status_code == 200
    business.status = AccountStatus.SUSPENDED
    db.session.flush()
    response = client.get("/api/v1/me", headers=auth(secret))
    assert response.status_code == 401 and "suspended" in response.json["detail"]


def test_operators_get_no_tokens_and_their_rows_would_not_work(client):
    operator = factories.create_operator()
    import pytest

    from marketplace.core.errors import Forbidden
    with pytest.raises(Forbidden):
        tokens.create_token(operator, "moderation bot", "write", 30)
    # Even a token row made behind the service's back does not carry operator powers.
    row = ApiToken(user_id=operator.id, name="x", prefix="ht_xxxxxxx", token_hash=tokens._digest("ht_operator-secret"),
                   scopes="read write", expires_at=utcnow() + timedelta(days=1))
    db.session.add(row)
    db.session.flush()
    assert client.get("/api/v1/me", headers=auth("ht_operator-secret")).status_code == 401


def test_expired_token_is_refused(client):
    business = factories.create_business()
    secret = token_for(business)
    db.session.scalar(select(ApiToken).where(ApiToken.user_id == business.id)).expires_at = utcnow() - timedelta(seconds=1)
    db.session.flush()
    response = client.get("/api/v1/me", headers=auth(secret))
    assert response.status_code == 401 and "expired" in response.json["detail"]


def test_validation_errors_are_problems_with_field_errors(client):
    business = factories.create_business()
    response = client.post("/api/v1/tasks", json={"title": ""}, headers=auth(token_for(business)))
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.json["type"] == "/api/v1/problems/invalid-request"
    fields = {e["field"] for e in response.json["errors"]}
    assert {"title", "description", "start_date", "pricing"} <= fields


def test_a_service_refusal_names_its_field(client):
    business = factories.create_business()
    body = task_body(skill_id(), budget=100)   # below the platform minimum: the service's rule
    response = client.post("/api/v1/tasks", json=body, headers=auth(token_for(business)))
    assert response.status_code == 400
    assert response.json["errors"] == [{"field": "budget", "detail": response.json["detail"]}]
    assert db.session.scalar(select(ApiToken.id)) is not None   # (the token, nothing else, exists)


def test_unknown_paths_and_methods_are_problems(client):
    secret = token_for(factories.create_business())
    assert client.get("/api/v1/nothing-here", headers=auth(secret)).json["type"] == "/api/v1/problems/not-found"
    wrong = client.delete("/api/v1/skills", headers=auth(secret))
    assert wrong.status_code == 405 and wrong.mimetype == "application/problem+json"


def test_cursor_pagination_walks_the_whole_list(client):
    business = factories.create_business()
    for _ in range(5):
        factories.create_task(business)
    secret = token_for(business)
    seen, cursor = [], None
    while True:
        page = client.get("/api/v1/tasks/mine", query_string={"limit": 2, **({"cursor": cursor} if cursor else {})},
                          headers=auth(secret)).json
        seen += [t["id"] for t in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 5 == len(set(seen))
    bad = client.get("/api/v1/tasks/mine", query_string={"cursor": "!!"}, headers=auth(secret))
    assert bad.status_code == 400 and bad.json["errors"][0]["field"] == "cursor"


def test_rate_limit_per_token_with_ratelimit_headers(client, app):
    from marketplace.extensions import limiter
    app.config["API_RATE_LIMIT"] = "3 per minute"
    limiter.reset()
    try:
        first, second = token_for(factories.create_business()), token_for(factories.create_business())
        answers = [client.get("/api/v1/me", headers=auth(first)) for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert answers[0].headers["RateLimit-Limit"] == "3"
        assert answers[0].headers["RateLimit-Remaining"] == "2"
        assert int(answers[0].headers["RateLimit-Reset"]) >= 0
        assert answers[3].mimetype == "application/problem+json"
        assert client.get("/api/v1/me", headers=auth(second)).status_code == 200   # another token's own budget
    finally:
        app.config["API_RATE_LIMIT"] = "100000 per minute"
        limiter.reset()


def test_docs_page_serves_its_assets_locally_with_a_csp_for_that_page_only(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "http://" not in html and "https://" not in html
    assert "'unsafe-inline'" in page.headers["Content-Security-Policy"].split("style-src")[1].split(";")[0]
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert client.get("/api/v1/docs/assets/swagger-ui-bundle.js").status_code == 200
    assert client.get("/api/v1/docs/assets/swagger-ui.css").status_code == 200
    assert client.get("/api/v1/docs/assets/index.html").status_code == 404
    assert "unsafe-inline" not in client.get("/login").headers["Content-Security-Policy"]


def test_nul_characters_in_json_are_refused_before_the_database(client):
    business = factories.create_business()
    response = client.post("/api/v1/tasks", json=task_body(skill_id(), title="Launch\x00cover"),
                           headers=auth(token_for(business)))
    assert response.status_code == 400 and response.mimetype == "application/problem+json"


def test_absurdly_nested_json_is_a_clear_400(client):
    business = factories.create_business()
    response = client.post("/api/v1/tasks", data="[" * 100_000, content_type="application/json",
                           headers=auth(token_for(business)))
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
