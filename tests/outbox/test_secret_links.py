"""Secret links (password reset, email confirmation) reach the recipient only, and operators' reads
of other people's mail are audited.

The takeover this prevents: ask for a victim's password reset anonymously, open the reset mail
in /outbox as an operator, follow the link, set a password, log in as the victim.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from marketplace.accounts.passwords import verify_password
from marketplace.extensions import db
from marketplace.moderation.models import AuditEntry
from marketplace.outbox import services
from marketplace.outbox.models import REDACTED_LINK, OutboxMessage
from tests import factories
from tests.conftest import login

ATTACKER_PASSWORD = "operator-owns-you-now-77"
RESET_LINK = re.compile(r"https?://[^\s\"'<>]+(/password/reset/[A-Za-z0-9_.\-]+)")


def _takeover_through_the_outbox(app, client, login_operator, victim) -> list[str]:
    """The probe's sequence; returns the reset links the operator could find and use."""
    anonymous = app.test_client()
    assert anonymous.post("/password/forgot", data={"email": victim.email}).status_code == 302

    login_operator(factories.create_operator())
    listing = client.get(f"/outbox/?to={victim.email}")
    assert listing.status_code == 200
    ids = re.findall(r'href="/outbox/(\d+)"', listing.get_data(as_text=True))
    assert ids, "the reset mail is listed"
    used = []
    for message_id in ids:
        page = client.get(f"/outbox/{message_id}").get_data(as_text=True)
        for path in RESET_LINK.findall(page):
            stranger = app.test_client()
            if stranger.post(path, data={"password": ATTACKER_PASSWORD}).status_code == 302:
                used.append(path)
    return used


def test_an_operator_cannot_take_over_an_account_through_the_outbox(app, client, login_operator):
    victim = factories.create_freelancer(email="victim@example.com")
    assert _takeover_through_the_outbox(app, client, login_operator, victim) == []
    db.session.refresh(victim)
    assert not verify_password(victim.password_hash, ATTACKER_PASSWORD)
    assert login(app.test_client(), victim, password=ATTACKER_PASSWORD).status_code != 302
    row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.to_address == victim.email))
    assert REDACTED_LINK in row.body and "/password/reset/" not in row.body
    assert row.secret_body is None   # no mail server: nobody would ever receive it, so it is not kept


def test_with_a_mail_server_the_recipient_gets_a_working_link_and_operators_still_do_not(
        app, client, login_operator, smtp_sink):
    victim = factories.create_freelancer(email="victim@example.com")
    assert _takeover_through_the_outbox(app, client, login_operator, victim) == []

    [mail] = smtp_sink.to(victim.email)
    [path] = RESET_LINK.findall(mail.get_content())
    row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.to_address == victim.email))
    assert row.status == "sent" and row.secret_body is None   # erased once delivered
    assert "/password/reset/" not in row.body
    recipient = app.test_client()
    assert recipient.post(path, data={"password": "victims-own-new-phrase-5"}).status_code == 302
    db.session.refresh(victim)
    assert verify_password(victim.password_hash, "victims-own-new-phrase-5")


def test_confirmation_links_are_redacted_too(app, client, login_operator, smtp_sink):
    response = app.test_client().post("/signup", data={"role": "business", "full_name": "Vera Link",
                                                       "email": "vera@example.com",
                                                       "password": "copper-lantern-sea-19"})
    assert response.status_code == 302
    login_operator(factories.create_operator())
    row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.to_address == "vera@example.com"))
    assert "/verify/" not in client.get(f"/outbox/{row.id}").get_data(as_text=True)
    [mail] = smtp_sink.to("vera@example.com")
    assert "/verify/" in mail.get_content()


def test_a_queued_secret_is_never_shown_in_the_outbox(app, client, login_operator, monkeypatch):
    # Queued for a mail server that has not answered yet: the full body waits in the row, unreadable.
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    from marketplace.accounts.services import request_password_reset
    victim = factories.create_freelancer(email="victim@example.com")
    request_password_reset(victim.email, lambda token: f"http://127.0.0.1:5000/password/reset/{token}")
    row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.to_address == victim.email))
    assert row.status == "queued" and "/password/reset/" in row.secret_body
    monkeypatch.setitem(app.config, "MAIL_SERVER", None)   # nothing delivers it during the request below
    login_operator(factories.create_operator())
    page = client.get(f"/outbox/{row.id}").get_data(as_text=True)
    assert "/password/reset/" not in page and REDACTED_LINK in page


def test_the_development_outbox_shows_the_link_as_everyones_mailbox(app, client, dev_mailbox):
    victim = factories.create_freelancer(email="dev@example.com")
    assert client.post("/password/forgot", data={"email": victim.email}).status_code == 302
    row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.to_address == victim.email))
    assert "/password/reset/" in client.get(f"/outbox/{row.id}").get_data(as_text=True)


def test_never_in_production_even_with_the_outbox_made_public(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "OUTBOX_PUBLIC", True)
    monkeypatch.setitem(app.config, "APP_ENV", "production")
    victim = factories.create_freelancer(email="prod@example.com")
    assert client.post("/password/forgot", data={"email": victim.email}).status_code == 302
    row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.to_address == victim.email))
    assert row.secret_body is None
    assert "/password/reset/" not in client.get(f"/outbox/{row.id}").get_data(as_text=True)


def test_a_secret_missing_from_the_body_is_a_programming_error(app):
    with pytest.raises(ValueError):
        services.send_mail("a@example.com", "Reset", "no link here", secrets=["http://x/password/reset/abc"])


def test_every_operator_read_of_someone_elses_mail_is_audited(app, client, login_operator):
    victim = factories.create_freelancer(email="victim@example.com")
    operator = factories.create_operator(email="op@example.com")
    services.send_mail(victim.email, "Your payout was sent", "Details")
    own = services.send_mail(operator.email, "Operator digest", "Details")
    victims = db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.to_address == victim.email))
    login_operator(operator)

    assert client.get(f"/outbox/{victims}").status_code == 200
    assert client.get(f"/outbox/?to={victim.email}").status_code == 200
    assert client.get(f"/outbox/{own.id}").status_code == 200   # one's own mail is not someone else's

    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.actor_id == operator.id)
                                 .order_by(AuditEntry.id)).all()
    assert [(e.action, e.subject_user_id) for e in entries] == [("read_mail", victim.id), ("list_mail", victim.id)]
    assert entries[0].target_type == "mail" and entries[0].target_id == victims
    assert "Your payout was sent" in entries[0].details and f"#{victims}" in entries[1].details
    # And the audit log shows them to operators.
    assert "read_mail" in client.get("/moderation/audit").get_data(as_text=True)
