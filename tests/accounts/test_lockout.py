"""Wrong passwords lock one client out of one email address, never the account itself.

Clients are told apart by their address (REMOTE_ADDR, as ProxyFix leaves it). An attacker who
types wrong passwords only locks themselves out; the answers are the same whether or not an
account uses the address; an operator with a valid second factor always gets in, while wrong
second-factor codes still lock the account (tests/moderation/test_two_factor.py).
"""
from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from marketplace.accounts import lockout
from marketplace.accounts import services as accounts
from marketplace.accounts import tokens
from marketplace.accounts.models import LoginThrottle
from marketplace.core.time import utcnow
from marketplace.extensions import db
from marketplace.moderation import two_factor
from marketplace.moderation.access import MFA_SESSION_KEY
from marketplace.moderation.models import AuditEntry
from tests import factories

ATTACKER = "203.0.113.9"
OWNER = "198.51.100.4"
WRONG = "wrong-password-123"


def _post_login(client, email, password, ip, **extra):
    return client.post("/login", data={"email": email, "password": password, **extra},
                       environ_base={"REMOTE_ADDR": ip})


def _operator_with_second_factor():
    operator = factories.create_operator(totp_secret=pyotp.random_base32(), totp_enabled_at=utcnow())
    return operator


def _wrong_code(operator) -> str:
    return "000000" if pyotp.TOTP(operator.totp_secret).now() != "000000" else "111111"


def _passed(client, user) -> bool:
    with client.session_transaction() as session:
        return session.get(MFA_SESSION_KEY) == user.get_id()


def test_known_and_unknown_addresses_get_the_same_answers(app, client):
    known = factories.create_freelancer(email="known.person@example.com")
    answers = {}
    for email in (known.email, "nobody.here@example.com"):
        pages = []
        for _ in range(app.config["LOGIN_MAX_FAILURES"] + 2):
            response = _post_login(client, email, WRONG, ATTACKER)
            pages.append((response.status_code, response.get_data(as_text=True).replace(email, "EMAIL")))
        # ...and with the right password of the known account, once locked.
        response = _post_login(client, email, factories.PASSWORD, ATTACKER)
        pages.append((response.status_code, response.get_data(as_text=True).replace(email, "EMAIL")))
        answers[email] = pages
    assert answers[known.email] == answers["nobody.here@example.com"]
    statuses = [status for status, _ in answers[known.email]]
    assert set(statuses) == {400}
    last = answers[known.email][-1][1]
    assert "locked" in last and "this account" not in last.lower()
    db.session.refresh(known)
    assert known.locked_until is None and known.failed_logins == 0


@pytest.mark.parametrize("role", ["business", "freelancer", "operator"])
def test_an_attacker_elsewhere_cannot_lock_the_owner_out(app, client, role):
    user = factories.create_user(factories.Role(role))
    for _ in range(3 * app.config["LOGIN_MAX_FAILURES"]):
        assert _post_login(client, user.email, WRONG, ATTACKER).status_code == 400
    # The attacker's address is locked out, even with the right password...
    refused = _post_login(client, user.email, factories.PASSWORD, ATTACKER)
    assert refused.status_code == 400 and "locked" in refused.get_data(as_text=True)
    # ...the owner, anywhere else, is not.
    response = _post_login(client, user.email, factories.PASSWORD, OWNER)
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    db.session.refresh(user)
    assert user.locked_until is None


def test_an_operator_with_a_second_factor_is_never_locked_out_by_wrong_passwords(app, client):
    operator = _operator_with_second_factor()
    for _ in range(3 * app.config["LOGIN_MAX_FAILURES"]):
        _post_login(client, operator.email, WRONG, ATTACKER)
    response = _post_login(client, operator.email, factories.PASSWORD, OWNER)
    assert response.status_code == 302 and response.headers["Location"].startswith("/moderation/2fa")
    code = client.post("/moderation/2fa", data={"code": pyotp.TOTP(operator.totp_secret).now()},
                       environ_base={"REMOTE_ADDR": OWNER})
    assert code.status_code == 302 and code.headers["Location"] == "/moderation/"
    assert _passed(client, operator)


def test_an_operator_behind_the_attackers_address_gets_in_with_password_and_code(app, client):
    operator = _operator_with_second_factor()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        _post_login(client, operator.email, WRONG, ATTACKER)
    # The lock answer offers the code field (to every address, known or not).
    locked = _post_login(client, operator.email, factories.PASSWORD, ATTACKER)
    assert locked.status_code == 400 and 'name="code"' in locked.get_data(as_text=True)
    ghost = _post_login(client, "ghost@example.com", WRONG, ATTACKER)
    assert 'name="code"' not in ghost.get_data(as_text=True)   # not locked yet: a plain failure
    # Anything short of the right password with a valid code gets the same lock answer.
    valid = pyotp.TOTP(operator.totp_secret).now()
    for password, code in ((WRONG, valid), (factories.PASSWORD, "")):
        refused = _post_login(client, operator.email, password, ATTACKER, code=code)
        assert refused.status_code == 400 and "locked" in refused.get_data(as_text=True)
        assert valid not in refused.get_data(as_text=True)
    # A wrong code with the right password counts towards the account's second-factor lock.
    _post_login(client, operator.email, factories.PASSWORD, ATTACKER, code=_wrong_code(operator))
    db.session.refresh(operator)
    assert operator.failed_logins == 1
    response = _post_login(client, operator.email, factories.PASSWORD, ATTACKER, code=valid, next="/moderation/audit")
    assert response.status_code == 302 and response.headers["Location"] == "/moderation/audit"
    assert _passed(client, operator)
    assert client.get("/moderation/audit").status_code == 200
    db.session.refresh(operator)
    assert operator.failed_logins == 0
    # That address starts afresh for this operator.
    assert lockout.locked_until(operator.email, ATTACKER) is None


def test_the_code_field_does_not_help_accounts_without_a_second_factor(app, client):
    business = factories.create_business()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        _post_login(client, business.email, WRONG, ATTACKER)
    refused = _post_login(client, business.email, factories.PASSWORD, ATTACKER, code="123456")
    assert refused.status_code == 400 and "locked" in refused.get_data(as_text=True)


def test_wrong_codes_still_lock_the_account_and_only_a_recovery_code_gets_past(app, client):
    operator = _operator_with_second_factor()
    recovery = two_factor._replace_recovery_codes(operator)
    assert _post_login(client, operator.email, factories.PASSWORD, ATTACKER).status_code == 302
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        last = client.post("/moderation/2fa", data={"code": _wrong_code(operator)},
                           environ_base={"REMOTE_ADDR": ATTACKER})
    assert last.headers["Location"].startswith("/login")
    db.session.refresh(operator)
    assert operator.locked_until is not None
    # From anywhere: the password alone, or with an authenticator code (guessable), is refused...
    for code in ("", pyotp.TOTP(operator.totp_secret).now()):
        refused = _post_login(client, operator.email, factories.PASSWORD, OWNER, code=code)
        assert refused.status_code == 400 and "locked" in refused.get_data(as_text=True)
        assert 'name="code"' in refused.get_data(as_text=True)
    # ...a recovery code (80 random bits) signs the owner in, second factor done.
    response = _post_login(client, operator.email, factories.PASSWORD, OWNER, code=recovery[0])
    assert response.status_code == 302 and response.headers["Location"] == "/moderation/"
    assert _passed(client, operator)
    db.session.refresh(operator)
    assert operator.locked_until is None and operator.failed_logins == 0
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "recovery_code_used",
                                                      AuditEntry.actor_id == operator.id)) is not None


def test_a_password_reset_clears_the_lockouts_of_every_address(app, client):
    freelancer = factories.create_freelancer()
    for ip in (ATTACKER, OWNER):
        for _ in range(app.config["LOGIN_MAX_FAILURES"]):
            _post_login(client, freelancer.email, WRONG, ip)
    assert _post_login(client, freelancer.email, factories.PASSWORD, OWNER).status_code == 400
    accounts.reset_password(tokens.make_token(freelancer, tokens.RESET), "saffron-bridge-kite-64")
    assert _post_login(client, freelancer.email, "saffron-bridge-kite-64", OWNER).status_code == 302


def test_the_count_restarts_after_a_quiet_window_and_expired_rows_are_purged(app, client):
    freelancer = factories.create_freelancer()
    for _ in range(app.config["LOGIN_MAX_FAILURES"] - 1):
        _post_login(client, freelancer.email, WRONG, ATTACKER)
    row = db.session.scalar(select(LoginThrottle))
    row.last_failed_at = utcnow() - timedelta(minutes=app.config["LOGIN_LOCK_MINUTES"] + 1)
    db.session.flush()
    # An old run of failures does not carry over: one more is not a lock.
    assert "don&#39;t match" in _post_login(client, freelancer.email, WRONG, ATTACKER).get_data(as_text=True)
    assert db.session.scalar(select(LoginThrottle.failures)) == 1
    db.session.scalar(select(LoginThrottle)).last_failed_at = utcnow() - timedelta(days=1)
    db.session.flush()
    result = app.test_cli_runner().invoke(args=["jobs", "run-due"])
    assert result.exit_code == 0 and "expired login lockouts: 1" in result.output, result.output
    assert db.session.scalar(select(LoginThrottle)) is None


def test_the_table_holds_no_addresses():
    lockout.record_failure("someone.private@example.com", "192.0.2.1")
    row = db.session.scalar(select(LoginThrottle))
    assert "someone" not in row.email_digest and re.fullmatch(r"[0-9a-f]{64}", row.email_digest)
    assert row.email_digest == lockout.email_digest(" Someone.Private@Example.com ")


@pytest.mark.parametrize("remote, key", [
    ("192.0.2.1", "192.0.2.1"),
    ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
    ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),   # the same subscriber's block
    ("::ffff:192.0.2.1", "192.0.2.1"),
    (None, "unknown"),
])
def test_clients_are_counted_by_address_and_ipv6_by_its_64(remote, key):
    assert lockout.client_key(remote) == key
