"""With CSRF on (as in production), a POST without a valid token changes nothing."""
import re

from sqlalchemy import func, select

from marketplace.accounts.models import User
from marketplace.extensions import db
from tests import factories


def _token(client, path):
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def test_post_without_token_is_rejected_and_changes_nothing(csrf_app):
    client = csrf_app.test_client()
    before = db.session.scalar(select(func.count()).select_from(User))
    response = client.post("/signup", data={"role": "freelancer", "full_name": "No Token",
                                            "email": "notoken@example.com", "password": "amber-canyon-ferry-71"})
    assert response.status_code == 400
    assert "form expired" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(User)) == before


def test_logout_without_token_keeps_the_session(csrf_app):
    user = factories.create_freelancer()
    client = csrf_app.test_client()
    token = _token(client, "/login")
    assert client.post("/login", data={"csrf_token": token, "email": user.email,
                                       "password": factories.PASSWORD}).status_code == 302
    assert client.post("/logout").status_code == 400
    assert client.get("/dashboard").status_code == 200


def test_post_with_token_is_accepted(csrf_app):
    client = csrf_app.test_client()
    token = _token(client, "/signup")
    response = client.post("/signup", data={"csrf_token": token, "role": "freelancer", "full_name": "With Token",
                                            "email": "token@example.com", "password": "amber-canyon-ferry-71"})
    assert response.status_code == 302


def test_a_json_client_gets_a_json_error(csrf_app):
    client = csrf_app.test_client()
    response = client.post("/login", json={"email": "x@example.com"})
    assert response.status_code == 400
    assert response.get_json()["message"].startswith("Your form expired")
