"""The operator's second factor: setup with a real TOTP secret, codes, reuse, recovery codes, lockout."""
from __future__ import annotations

import re
import time

import pyotp
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.moderation.access import MFA_SESSION_KEY
from marketplace.moderation.models import AuditEntry, RecoveryCode
from tests import factories


def _passed(client, user) -> bool:
    with client.session_transaction() as session:
        return session.get(MFA_SESSION_KEY) == user.get_id()


def _setup(client, operator) -> tuple[str, list[str]]:
    """Run the setup page with a correct code; returns (secret, recovery codes)."""
    page = client.get("/moderation/2fa")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', html).group(1)
    response = client.post("/moderation/2fa", data={"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200, response.get_data(as_text=True)[:400]
    codes = re.findall(r'<code class="user-select-all">([0-9a-f-]+)</code>', response.get_data(as_text=True))
    return secret, codes


def test_setup_shows_an_inline_qr_code_and_the_secret_without_enabling_it(client, login_as):
    operator = factories.create_operator()
    login_as(operator)
    html = client.get("/moderation/2fa").get_data(as_text=True)
    assert "<svg" in html and "<img" not in html.split('data-testid="totp-qr"')[1][:200]
    db.session.refresh(operator)
    assert operator.totp_secret and operator.totp_secret in html
    assert operator.totp_enabled_at is None
    # Reloading keeps the same pending secret (the app may already have scanned it).
    assert operator.totp_secret in client.get("/moderation/2fa").get_data(as_text=True)


def test_a_correct_code_enables_it_and_shows_ten_recovery_codes_once(client, login_as):
    operator = factories.create_operator()
    login_as(operator)
    secret, codes = _setup(client, operator)
    db.session.refresh(operator)
    assert operator.totp_enabled_at is not None
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = db.session.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == operator.id)).all()
    assert len(stored) == 10
    assert not set(codes) & set(stored)          # only hashes are stored
    assert _passed(client, operator)
    assert client.get("/moderation/").status_code == 200
    # The codes are not shown again.
    assert client.get("/moderation/2fa").status_code == 302


def test_a_wrong_setup_code_does_not_enable_it(client, login_as):
    operator = factories.create_operator()
    login_as(operator)
    client.get("/moderation/2fa")
    response = client.post("/moderation/2fa", data={"code": "000000"})
    assert response.status_code == 400
    assert "not correct" in response.get_data(as_text=True)
    db.session.refresh(operator)
    assert operator.totp_enabled_at is None
    assert not _passed(client, operator)


def _enabled_operator():
    operator = factories.create_operator()
    operator.totp_secret = pyotp.random_base32()
    from marketplace.core.time import utcnow
    operator.totp_enabled_at = utcnow()
    db.session.flush()
    return operator


def test_an_enabled_operator_enters_a_code_and_goes_to_next(client, login_as):
    operator = _enabled_operator()
    login_as(operator)
    page = client.get("/moderation/2fa?next=/moderation/audit")
    assert "Enter your code" in page.get_data(as_text=True)
    assert operator.totp_secret not in page.get_data(as_text=True)
    response = client.post("/moderation/2fa", data={"code": pyotp.TOTP(operator.totp_secret).now(),
                                                     "next": "/moderation/audit"})
    assert response.status_code == 302 and response.headers["Location"] == "/moderation/audit"
    assert _passed(client, operator)


def test_next_is_only_followed_within_the_site(client, login_as):
    operator = _enabled_operator()
    login_as(operator)
    response = client.post("/moderation/2fa", data={"code": pyotp.TOTP(operator.totp_secret).now(),
                                                     "next": "https://evil.example/phish"})
    assert response.headers["Location"] == "/moderation/"


def test_a_wrong_code_is_refused_and_counted(client, login_as):
    operator = _enabled_operator()
    login_as(operator)
    response = client.post("/moderation/2fa", data={"code": "123456" if pyotp.TOTP(operator.totp_secret).now()
                                                     != "123456" else "654321"})
    assert response.status_code == 400
    db.session.refresh(operator)
    assert operator.failed_logins == 1
    assert not _passed(client, operator)
    assert client.get("/moderation/").headers["Location"].startswith("/moderation/2fa")


def test_a_time_step_is_never_accepted_twice(app, client, login_as):
    operator = _enabled_operator()
    code = pyotp.TOTP(operator.totp_secret).now()
    login_as(operator)
    assert client.post("/moderation/2fa", data={"code": code}).status_code == 302
    client.post("/logout")
    login_as(operator)
    db.session.refresh(operator)
    first_step = operator.totp_last_step
    assert first_step is not None
    # The same code is the same time step: a replay, refused even within the drift window.
    response = client.post("/moderation/2fa", data={"code": code})
    assert response.status_code == 400
    assert not _passed(client, operator)
    db.session.refresh(operator)
    assert operator.totp_last_step == first_step


def test_one_step_of_clock_drift_is_allowed_but_not_two(client, login_as):
    operator = _enabled_operator()
    totp = pyotp.TOTP(operator.totp_secret)
    login_as(operator)
    too_old = totp.at(time.time() - 95)
    if too_old not in (totp.now(), totp.at(time.time() - 30), totp.at(time.time() + 30)):
        assert client.post("/moderation/2fa", data={"code": too_old}).status_code == 400
    assert client.post("/moderation/2fa", data={"code": totp.at(time.time() - 30)}).status_code == 302


def test_a_recovery_code_works_once(client, login_as):
    operator = factories.create_operator()
    login_as(operator)
    _, codes = _setup(client, operator)
    client.post("/logout")

    login_as(operator)
    response = client.post("/moderation/2fa", data={"code": codes[3].upper()}, follow_redirects=True)
    assert response.status_code == 200
    assert "You have 9 left" in response.get_data(as_text=True)
    assert _passed(client, operator)
    client.post("/logout")

    login_as(operator)
    again = client.post("/moderation/2fa", data={"code": codes[3]})
    assert again.status_code == 400
    assert not _passed(client, operator)
    used = db.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == operator.id,
                                                         RecoveryCode.used_at.is_not(None))).all()
    assert len(used) == 1
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "recovery_code_used",
                                                      AuditEntry.actor_id == operator.id)) is not None


def test_too_many_wrong_codes_lock_the_account_and_end_the_session(app, client, login_as):
    operator = _enabled_operator()
    login_as(operator)
    wrong = "000000" if pyotp.TOTP(operator.totp_secret).now() != "000000" else "111111"
    for _ in range(app.config["LOGIN_MAX_FAILURES"] - 1):
        assert client.post("/moderation/2fa", data={"code": wrong}).status_code == 400
    last = client.post("/moderation/2fa", data={"code": wrong})
    assert last.status_code == 302 and last.headers["Location"].startswith("/login")
    db.session.refresh(operator)
    assert operator.locked_until is not None
    # The session is gone and a password login is refused while locked.
    assert client.get("/moderation/2fa").headers["Location"].startswith("/login")
    refused = client.post("/login", data={"email": operator.email, "password": factories.PASSWORD})
    assert refused.status_code == 400


def test_non_operators_cannot_use_the_second_factor_page(client, login_as):
    login_as(factories.create_business())
    assert client.get("/moderation/2fa").status_code == 403
    assert client.post("/moderation/2fa", data={"code": "123456"}).status_code == 403


def test_the_code_form_is_rate_limited(limited_app, client, login_as):
    operator = _enabled_operator()
    login_as(operator)
    statuses = [client.post("/moderation/2fa", data={"code": "abc"}).status_code for _ in range(11)]
    assert 429 in statuses


def test_reset_from_the_command_line_removes_the_factor_and_ends_sessions(app, client, login_as):
    operator = factories.create_operator()
    login_as(operator)
    _setup(client, operator)
    db.session.refresh(operator)
    assert operator.totp_enabled_at is not None
    result = app.test_cli_runner().invoke(args=["reset-second-factor", operator.email.upper()])
    assert result.exit_code == 0, result.output
    db.session.refresh(operator)
    assert operator.totp_secret is None and operator.totp_enabled_at is None
    assert db.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == operator.id)).all() == []
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "reset_second_factor",
                                                      AuditEntry.subject_user_id == operator.id)) is not None
    assert client.get("/moderation/").status_code == 302   # the old session is gone: back to login
    assert "/login" in client.get("/moderation/").headers["Location"]


def test_reset_refuses_unknown_emails_and_non_operators(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["reset-second-factor", "nobody@example.com"]).exit_code != 0
    business = factories.create_business()
    result = runner.invoke(args=["reset-second-factor", business.email])
    assert result.exit_code != 0 and "operators" in result.output


def _wrong(operator) -> str:
    return "000000" if pyotp.TOTP(operator.totp_secret).now() != "000000" else "111111"


def test_logging_in_again_does_not_clear_the_count_of_wrong_codes(app, client, login_as):
    """An attacker with the password cannot get fresh guesses by logging in again after each few wrong codes."""
    operator = _enabled_operator()
    limit = app.config["LOGIN_MAX_FAILURES"]
    wrong_codes = logins = 0
    for _ in range(4):
        response = client.post("/login", data={"email": operator.email, "password": factories.PASSWORD})
        if response.status_code != 302:
            break
        logins += 1
        for _ in range(limit - 1):
            response = client.post("/moderation/2fa", data={"code": _wrong(operator)})
            wrong_codes += 1
            if response.status_code != 400:
                break
        if response.status_code != 400:
            break
        db.session.refresh(operator)
        assert operator.failed_logins == wrong_codes
        client.post("/logout")
    # The limit is reached on the first wrong code after the second login: the account locks and the
    # session ends, and the password alone no longer gets in.
    assert (logins, wrong_codes) == (2, limit)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    db.session.refresh(operator)
    assert operator.locked_until is not None
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "second_factor_lockout",
                                                      AuditEntry.subject_user_id == operator.id)) is not None
    for _ in range(3):
        refused = client.post("/login", data={"email": operator.email, "password": factories.PASSWORD})
        assert refused.status_code == 400 and "locked" in refused.get_data(as_text=True)
    assert client.get("/moderation/2fa").headers["Location"].startswith("/login")


def test_only_a_correct_code_clears_the_count_of_wrong_codes(client, login_as):
    operator = _enabled_operator()
    login_as(operator)
    for _ in range(2):
        assert client.post("/moderation/2fa", data={"code": _wrong(operator)}).status_code == 400
    client.post("/logout")
    login_as(operator)
    db.session.refresh(operator)
    assert operator.failed_logins == 2          # the password did not clear it
    response = client.post("/moderation/2fa", data={"code": pyotp.TOTP(operator.totp_secret).now()})
    assert response.status_code == 302
    db.session.refresh(operator)
    assert operator.failed_logins == 0
    assert _passed(client, operator)


def test_a_recovery_code_clears_the_count_too(client, login_as):
    operator = factories.create_operator()
    login_as(operator)
    _, codes = _setup(client, operator)
    client.post("/logout")
    login_as(operator)
    assert client.post("/moderation/2fa", data={"code": "not-a-code"}).status_code == 400
    db.session.refresh(operator)
    assert operator.failed_logins == 1
    assert client.post("/moderation/2fa", data={"code": codes[0]}).status_code == 302
    db.session.refresh(operator)
    assert operator.failed_logins == 0


def test_a_password_login_still_clears_the_count_for_accounts_without_a_second_factor(client, login_as):
    for user in (factories.create_business(), factories.create_operator()):   # the operator has not set one up
        user.failed_logins = 2   # e.g. wrong codes while setting the factor up (wrong passwords count elsewhere)
        db.session.flush()
        login_as(user)
        db.session.refresh(user)
        assert user.failed_logins == 0
        client.post("/logout")


def test_a_password_reset_does_not_clear_an_operators_count_of_wrong_codes(client):
    """Holding the mailbox as well as the password must not buy fresh guesses at the code either."""
    from marketplace.accounts import services as accounts
    from marketplace.accounts import tokens
    operator = _enabled_operator()
    operator.failed_logins = 3
    db.session.flush()
    accounts.reset_password(tokens.make_token(operator, tokens.RESET), "saffron-bridge-kite-64")
    db.session.refresh(operator)
    assert operator.failed_logins == 3
    business = factories.create_business()
    business.failed_logins = 3
    db.session.flush()
    accounts.reset_password(tokens.make_token(business, tokens.RESET), "saffron-bridge-kite-64")
    db.session.refresh(business)
    assert business.failed_logins == 0


def test_non_ascii_digits_are_a_wrong_code_not_an_error(client, login_as):
    operator = _enabled_operator()
    login_as(operator)
    response = client.post("/moderation/2fa", data={"code": "²²²²²²"})
    assert response.status_code == 400
    db.session.refresh(operator)
    assert operator.failed_logins == 1
