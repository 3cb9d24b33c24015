"""Delivery over a real SMTP server: line breaks in subjects, one bad message among good ones, retries
with a bound, rows left in `sending` by a run that died, and failed mail shown to operators."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from marketplace.core.time import as_utc, utcnow
from marketplace.extensions import db
from marketplace.outbox import services
from marketplace.outbox.models import OutboxMessage
from tests import factories
from tests.outbox.conftest import free_port


def _row(**fields) -> OutboxMessage:
    """A row as an older version of the app (or a crashed run) may have left it."""
    values = dict(to_address="someone@example.com", subject="Hello", body="Body", status="queued")
    values.update(fields)
    row = OutboxMessage(**values)
    db.session.add(row)
    db.session.flush()
    return row


def test_queued_mail_is_sent_once(app, smtp_sink):
    services.send_mail("a@example.com", "Hi", "Body")
    assert services.deliver_queued() == 1
    assert services.deliver_queued() == 0
    assert [m["To"] for m in smtp_sink.messages] == ["a@example.com"]
    assert smtp_sink.messages[0]["Date"] and smtp_sink.messages[0]["Message-ID"].endswith("@humantouch.test>")
    assert db.session.scalar(select(OutboxMessage.status).where(OutboxMessage.to_address == "a@example.com")) == "sent"


def test_a_proposal_on_a_task_whose_title_has_line_breaks_is_mailed_with_a_one_line_subject(
        app, client, login_as, smtp_sink):
    # A title stored before titles were cleaned on the way in (the form now folds it to one line).
    business = factories.create_business(email="boss@example.com")
    task = factories.create_task(business, title="Launch\r\nweekend\nBcc: everyone@example.com")
    freelancer = factories.create_freelancer(full_name="Ana\nGarcía")
    login_as(freelancer)
    response = client.post(f"/tasks/{task.id}/bids", data={
        "amount": "450", "estimated_hours": "", "cover_note": "I have run launch-weekend queues for two years.",
        "availability_note": "Free from the 12th."})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    # Delivered after the request's commit, through the real SMTP server.
    [mail] = smtp_sink.to("boss@example.com")
    assert mail["Subject"] == "New proposal from Ana García on “Launch weekend Bcc: everyone@example.com”"
    assert mail["Bcc"] is None
    row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.to_address == "boss@example.com"))
    assert row.status == "sent" and row.attempts == 1 and row.error is None


def test_one_bad_message_never_blocks_the_others(app, smtp_sink):
    smtp_sink.refuse["gone@example.com"] = "550 5.1.1 No such user"
    first = _row(to_address="first@example.com", subject="First")
    header_break = _row(to_address="victim@example.com\r\nBcc: attacker@example.com", subject="Injected")
    refused = _row(to_address="gone@example.com", subject="Nobody home")
    old_subject = _row(to_address="last@example.com", subject="You're hired\non “Night shift”")

    assert services.deliver_queued() == 2

    assert [m["Subject"] for m in smtp_sink.messages] == ["First", "You're hired on “Night shift”"]
    assert all(m["Bcc"] is None for m in smtp_sink.messages)
    for row in (first, header_break, refused, old_subject):
        db.session.refresh(row)
    assert first.status == old_subject.status == "sent"
    # Neither can ever succeed: given up at once, with the reason, and no row is left in `sending`.
    assert header_break.status == "failed" and "cannot build the message" in header_break.error
    assert refused.status == "failed" and "No such user" in refused.error
    assert db.session.scalar(select(OutboxMessage).where(OutboxMessage.status == "sending")) is None


def test_a_temporary_refusal_is_retried_later_and_given_up_after_the_last_attempt(app, smtp_sink, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_MAX_ATTEMPTS", 3)
    smtp_sink.refuse["busy@example.com"] = "451 4.3.0 Try again later"
    row = _row(to_address="busy@example.com")
    now = utcnow()

    assert services.deliver_queued(now=now) == 0
    db.session.refresh(row)
    assert (row.status, row.attempts) == ("queued", 1) and "Try again later" in row.error
    assert row.next_attempt_at is not None and as_utc(row.next_attempt_at) > now
    # Not before its time...
    assert services.deliver_queued(now=now + timedelta(seconds=1)) == 0
    db.session.refresh(row)
    assert row.attempts == 1
    # ...then again, with a growing delay, until the attempts run out.
    later = now + timedelta(hours=2)
    services.deliver_queued(now=later)
    db.session.refresh(row)
    assert (row.status, row.attempts) == ("queued", 2)
    services.deliver_queued(now=later + timedelta(hours=2))
    db.session.refresh(row)
    assert (row.status, row.attempts) == ("failed", 3) and "Try again later" in row.error
    services.deliver_queued(now=later + timedelta(hours=4))
    db.session.refresh(row)
    assert row.attempts == 3

    # A server that accepts it now delivers a fresh one on the first try.
    del smtp_sink.refuse["busy@example.com"]
    fresh = _row(to_address="busy@example.com", subject="Fresh")
    assert services.deliver_queued(now=later + timedelta(hours=4)) == 1
    db.session.refresh(fresh)
    assert fresh.status == "sent"


def test_rows_left_in_sending_by_a_run_that_died_are_sent_once_their_lease_runs_out(app, smtp_sink):
    lease = timedelta(seconds=app.config["MAIL_SENDING_LEASE_SECONDS"])
    now = utcnow()
    abandoned = _row(to_address="abandoned@example.com", status="sending", claimed_at=now - lease * 2, attempts=1)
    # Rows claimed before leases existed have no claimed_at (the probe found seven such mails stuck).
    legacy = _row(to_address="legacy@example.com", status="sending", claimed_at=None)
    in_flight = _row(to_address="inflight@example.com", status="sending", claimed_at=now - lease / 2, attempts=1)

    assert services.deliver_queued(now=now) == 2

    assert sorted(m["To"] for m in smtp_sink.messages) == ["abandoned@example.com", "legacy@example.com"]
    for row in (abandoned, legacy, in_flight):
        db.session.refresh(row)
    assert abandoned.status == legacy.status == "sent" and abandoned.attempts == 2
    assert in_flight.status == "sending"   # another run may still be sending it


def test_a_row_that_keeps_killing_its_run_ends_failed(app, smtp_sink, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_MAX_ATTEMPTS", 3)
    now = utcnow()
    row = _row(status="sending", claimed_at=now - timedelta(days=1), attempts=3)
    assert services.deliver_queued(now=now) == 0
    db.session.refresh(row)
    assert row.status == "failed" and row.error == "delivery was interrupted"
    assert smtp_sink.messages == []


def test_an_unreachable_mail_server_keeps_the_mail_queued_with_the_error(app, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())   # nothing listens there
    monkeypatch.setitem(app.config, "MAIL_USE_TLS", False)
    row = _row()
    assert services.deliver_queued() == 0
    db.session.refresh(row)
    assert row.status == "queued" and row.attempts == 1 and "cannot reach the mail server" in row.error


def test_the_job_runner_delivers_and_retries_mail(app, smtp_sink):
    from marketplace.jobs import run_due_command

    now = utcnow()
    _row(to_address="retry@example.com", next_attempt_at=now - timedelta(minutes=1), attempts=1)
    result = app.test_cli_runner().invoke(run_due_command)
    assert result.exit_code == 0, result.output
    assert "mail delivery: 1" in result.output
    assert [m["To"] for m in smtp_sink.messages] == ["retry@example.com"]


def test_operators_see_failed_mail_and_why(client, login_operator, smtp_sink):
    smtp_sink.refuse["gone@example.com"] = "550 5.1.1 No such user"
    _row(to_address="gone@example.com", subject="Your payout was sent")
    services.deliver_queued()
    failed = db.session.scalar(select(OutboxMessage).where(OutboxMessage.to_address == "gone@example.com"))

    login_operator(factories.create_operator())
    # Every operator page flags it in the navigation.
    console = client.get("/moderation/").get_data(as_text=True)
    assert '/outbox/?status=failed">Outbox <span class="badge rounded-pill text-bg-danger">1' in console
    listing = client.get("/outbox/").get_data(as_text=True)
    assert "1 message could not be delivered." in listing and 'href="/outbox/?status=failed"' in listing
    only_failed = client.get("/outbox/?status=failed").get_data(as_text=True)
    assert "Your payout was sent" in only_failed and "failed" in only_failed and "No such user" in only_failed
    page = client.get(f"/outbox/{failed.id}").get_data(as_text=True)
    assert "Not delivered, given up" in page and "No such user" in page
