"""Email verification, password reset, change email/password, fresh-login requirement."""
from sqlalchemy import func, select

from marketplace.accounts.models import User
from marketplace.accounts.passwords import verify_password
from marketplace.extensions import db
from marketplace.outbox.models import OutboxMessage
from tests import factories
from tests.conftest import login, outbox_link


def _mail_count(to):
    return db.session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.to_address == to))


def test_verification_link_works_once(client, dev_mailbox):
    client.post("/signup", data={"role": "business", "full_name": "Vera Link", "email": "vera@example.com",
                                 "password": "copper-lantern-sea-19"})
    link = outbox_link("vera@example.com", "/verify/")
    response = client.get(link)
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "vera@example.com"))
    assert user.is_verified
    again = client.get(link)
    assert again.status_code == 400 and "already been used" in again.get_data(as_text=True)


def test_tampered_and_expired_verification_links_are_refused(app, client):
    user = factories.create_freelancer(verified=False)
    from flask import url_for  # noqa: F401  (link built by the service under a request)
    with app.test_request_context():
        from marketplace.accounts import tokens
        token = tokens.make_token(user, tokens.VERIFY)
    tampered = client.get(f"/verify/{token[:-2]}xx")
    assert tampered.status_code == 400 and "not valid" in tampered.get_data(as_text=True)
    app.config["EMAIL_TOKEN_MAX_AGE"] = -1
    try:
        expired = client.get(f"/verify/{token}")
    finally:
        app.config["EMAIL_TOKEN_MAX_AGE"] = 60 * 60 * 48
    assert expired.status_code == 400 and "expired" in expired.get_data(as_text=True)
    db.session.refresh(user)
    assert not user.is_verified


def test_password_reset_flow_is_single_use_and_ends_sessions(app, client, freelancer, dev_mailbox):
    other_device = app.test_client()
    login(other_device, freelancer)
    response = client.post("/password/forgot", data={"email": freelancer.email.upper()})
    assert response.status_code == 302
    link = outbox_link(freelancer.email, "/password/reset/")
    weak = client.post(link, data={"password": "short"})
    assert weak.status_code == 200 and "Use 12 to 128 characters." in weak.get_data(as_text=True)
    assert client.post(link, data={"password": "saffron-bridge-kite-64"}).status_code == 302
    db.session.refresh(freelancer)
    assert verify_password(freelancer.password_hash, "saffron-bridge-kite-64")
    assert other_device.get("/dashboard").status_code == 302
    reused = client.post(link, data={"password": "another-fresh-phrase-12"})
    assert reused.status_code == 400 and "already been used" in reused.get_data(as_text=True)
    assert login(client, freelancer, password="saffron-bridge-kite-64").status_code == 302


def test_reset_for_unknown_email_says_the_same_and_sends_nothing(client):
    response = client.post("/password/forgot", data={"email": "nobody@example.com"}, follow_redirects=True)
    assert "If an account uses that address" in response.get_data(as_text=True)
    assert _mail_count("nobody@example.com") == 0


def test_change_email_needs_current_password_and_unique_address(client, freelancer, login_as, dev_mailbox):
    login_as(freelancer)
    factories.create_business(email="taken@example.com")
    wrong = client.post("/account/email", data={"email-email": "new@example.com",
                                                "email-current_password": "not-my-password-1"})
    assert wrong.status_code == 400 and "current password is not correct" in wrong.get_data(as_text=True)
    taken = client.post("/account/email", data={"email-email": "Taken@example.com",
                                                "email-current_password": factories.PASSWORD})
    assert taken.status_code == 400 and "already uses this email" in taken.get_data(as_text=True)
    old = freelancer.email
    ok = client.post("/account/email", data={"email-email": "New@Example.com",
                                             "email-current_password": factories.PASSWORD})
    assert ok.status_code == 302
    db.session.refresh(freelancer)
    assert freelancer.email == "new@example.com" and not freelancer.is_verified
    assert _mail_count(old) == 1 and "/verify/" in outbox_link("new@example.com", "/verify/")


def test_change_password_refuses_wrong_current_and_weak_new(client, freelancer, login_as):
    login_as(freelancer)
    wrong = client.post("/account/password", data={"pw-current_password": "nope-nope-nope-1",
                                                    "pw-new_password": "violet-meadow-compass-88"})
    assert wrong.status_code == 400 and "current password is not correct" in wrong.get_data(as_text=True)
    weak = client.post("/account/password", data={"pw-current_password": factories.PASSWORD,
                                                   "pw-new_password": "qwerty123456"})
    assert weak.status_code == 400 and "too common" in weak.get_data(as_text=True)
    db.session.refresh(freelancer)
    assert verify_password(freelancer.password_hash, factories.PASSWORD)


def test_changing_credentials_requires_a_fresh_login(app, client, freelancer):
    login(client, freelancer, remember=True)
    remember = client.get_cookie("remember_token").value
    fresh_client = app.test_client()
    fresh_client.set_cookie("remember_token", remember)  # logged in from the cookie: not fresh
    assert fresh_client.get("/dashboard").status_code == 200
    response = fresh_client.post("/account/password", data={"pw-current_password": factories.PASSWORD,
                                                            "pw-new_password": "violet-meadow-compass-88"})
    assert response.status_code == 302 and "/reauthenticate" in response.headers["Location"]
    db.session.refresh(freelancer)
    assert verify_password(freelancer.password_hash, factories.PASSWORD)
    confirm = fresh_client.post("/reauthenticate", data={"password": factories.PASSWORD, "next": "/account"})
    assert confirm.status_code == 302 and confirm.headers["Location"] == "/account"
    again = fresh_client.post("/account/password", data={"pw-current_password": factories.PASSWORD,
                                                         "pw-new_password": "violet-meadow-compass-88"})
    assert again.status_code == 302 and again.headers["Location"] == "/account"


def test_create_operator_command(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-operator", "Ops@Example.com", "--password-stdin"],
                           input="granite-orchid-falcon-5\n")
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "ops@example.com"))
    assert user.is_operator and user.is_verified
    weak = runner.invoke(args=["create-operator", "ops2@example.com", "--password-stdin"], input="short\n")
    assert weak.exit_code != 0 and "at least 12" in weak.output
