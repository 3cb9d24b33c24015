"""The one mail service.

`send_mail()` writes an outbox row inside the caller's transaction, so a mail
exists exactly when the action that caused it committed. When MAIL_SERVER is
set, `deliver_queued()` (run after the request's commit, and by `jobs run-due`)
hands queued rows to SMTP one by one and records each result: one message that
cannot be sent never holds back the others.

Secret links (password reset, email confirmation) are passed as `secrets`: the
copy kept in the outbox, which operators can read, has them redacted; the mail
itself still carries them.
"""
from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterable
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from flask import current_app
from sqlalchemy import and_, func, or_, select, update

from marketplace.core.observability import EMAIL_FAILURES
from marketplace.core.queue import enqueue
from marketplace.core.text import one_line
from marketplace.core.time import utcnow
from marketplace.extensions import db
from marketplace.outbox.models import REDACTED_LINK, OutboxMessage

log = logging.getLogger(__name__)

SUBJECT_MAX = 200   # OutboxMessage.subject
ERROR_MAX = 500     # OutboxMessage.error
MAX_RETRY_DELAY = timedelta(hours=1)


def mail_subject(subject: str) -> str:
    """A subject safe for a mail header whatever the caller passed: one line, at most SUBJECT_MAX characters."""
    subject = one_line(subject) or "(no subject)"
    return subject if len(subject) <= SUBJECT_MAX else subject[:SUBJECT_MAX - 1] + "…"


def send_mail(to: str, subject: str, body: str, *, secrets: Iterable[str] = ()) -> OutboxMessage:
    """Queue a mail (flush only). `secrets` are parts of `body` only the recipient may read."""
    cfg = current_app.config
    smtp = bool(cfg.get("MAIL_SERVER"))
    secrets = [secret for secret in secrets if secret]
    readable = body
    for secret in secrets:
        if secret not in body:
            raise ValueError("a secret passed to send_mail() must appear in the body")
        readable = readable.replace(secret, REDACTED_LINK)
    # The full body is kept only while something will still hand it to the recipient: SMTP, or the
    # development outbox that stands in for every mailbox.
    keep_secret = bool(secrets) and (smtp or outbox_is_mailbox())
    message = OutboxMessage(to_address=to, subject=mail_subject(subject), body=readable,
                            secret_body=body if keep_secret else None,
                            status="queued" if smtp else "stored")
    db.session.add(message)
    db.session.flush()
    if smtp:
        enqueue("mail.deliver")   # after the commit: in this process, or by the job worker
    return message


def outbox_is_mailbox() -> bool:
    """True in development with OUTBOX_PUBLIC: /outbox is where everyone reads their mail, links included.

    Never in production, whatever the settings say: there an operator must not be able to read a live link.
    """
    cfg = current_app.config
    return bool(cfg.get("OUTBOX_PUBLIC")) and cfg.get("APP_ENV") != "production"


# --- delivery -----------------------------------------------------------------------------

def _retry_delay(attempts: int) -> timedelta:
    base = timedelta(seconds=current_app.config["MAIL_RETRY_SECONDS"])
    return min(base * (2 ** max(attempts - 1, 0)), MAX_RETRY_DELAY)


def _due(now: datetime):
    lease = timedelta(seconds=current_app.config["MAIL_SENDING_LEASE_SECONDS"])
    waiting = and_(OutboxMessage.status == "queued",
                   or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now))
    # A run that died between claiming and recording (killed worker, lost connection) leaves rows in
    # `sending`; once the lease has run out they are taken again. Rows from before leases existed
    # have no claimed_at.
    abandoned = and_(OutboxMessage.status == "sending",
                     or_(OutboxMessage.claimed_at.is_(None), OutboxMessage.claimed_at <= now - lease))
    return or_(waiting, abandoned)


def _give_up_on_exhausted(now: datetime) -> None:
    max_attempts = current_app.config["MAIL_MAX_ATTEMPTS"]
    stuck = db.session.scalars(select(OutboxMessage).where(_due(now), OutboxMessage.attempts >= max_attempts)
                               .order_by(OutboxMessage.id)).all()
    for row in stuck:
        _fail(row, row.error or "delivery was interrupted", now, final=True)


def _claim(now: datetime, limit: int) -> list[int]:
    max_attempts = current_app.config["MAIL_MAX_ATTEMPTS"]
    due = and_(_due(now), OutboxMessage.attempts < max_attempts)
    ids = list(db.session.scalars(select(OutboxMessage.id).where(due).order_by(OutboxMessage.id).limit(limit)))
    if not ids:
        return []
    # A conditional UPDATE: of two runs finishing at once, only one gets each row. The attempt is counted
    # at the claim, so a message that kills its run every time still runs out of attempts.
    return list(db.session.scalars(update(OutboxMessage).where(OutboxMessage.id.in_(ids), due)
                                   .values(status="sending", claimed_at=now, attempts=OutboxMessage.attempts + 1)
                                   .returning(OutboxMessage.id)
                                   # Evaluating the due condition in Python would compare SQLite's naive
                                   # datetimes with aware ones; the caller commits, which expires everything.
                                   .execution_options(synchronize_session=False)))


def _fail(row: OutboxMessage, error: str, now: datetime, *, final: bool = False) -> None:
    row.error = error[:ERROR_MAX]
    row.claimed_at = None
    final = final or row.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]
    EMAIL_FAILURES.labels(outcome="failed" if final else "retrying").inc()
    if final:
        row.status, row.next_attempt_at, row.secret_body = "failed", None, None
        log.error("mail %s to %s failed for good after %s attempts: %s", row.id, row.to_address, row.attempts,
                  row.error)
    else:
        row.status, row.next_attempt_at = "queued", now + _retry_delay(row.attempts)
        log.warning("mail %s to %s failed (attempt %s), retrying: %s", row.id, row.to_address, row.attempts,
                    row.error)


def _release(row: OutboxMessage) -> None:
    """Back in the queue untried (the connection went away before its turn): the attempt does not count."""
    row.status, row.claimed_at, row.attempts = "queued", None, max(row.attempts - 1, 0)


def _build(row: OutboxMessage) -> EmailMessage:
    cfg = current_app.config
    email = EmailMessage()
    email["From"] = cfg["MAIL_DEFAULT_SENDER"]
    email["To"] = row.to_address
    # Folded again here: rows written before subjects were cleaned on the way in may still hold breaks.
    email["Subject"] = mail_subject(row.subject)
    email["Date"] = formatdate(usegmt=True)
    sender_domain = parseaddr(cfg["MAIL_DEFAULT_SENDER"])[1].rpartition("@")[2]
    email["Message-ID"] = make_msgid(domain=sender_domain or "localhost")
    # Which outbox row this is: a message sent twice (a retry after a worker died mid-send) shows up as two
    # deliveries with one id in the mail logs (the load test counts them).
    email["X-Outbox-Id"] = str(row.id)
    email.set_content(row.secret_body if row.secret_body is not None else row.body)
    return email


def _permanent(error: smtplib.SMTPException) -> bool:
    """A 5xx answer about this message: sending it again would get the same answer."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    return isinstance(error, smtplib.SMTPResponseException) and error.smtp_code >= 500


def _connect() -> smtplib.SMTP:
    cfg = current_app.config
    smtp = smtplib.SMTP(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=10)
    try:
        if cfg.get("MAIL_USE_TLS"):
            smtp.starttls()
        if cfg.get("MAIL_USERNAME"):
            smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"] or "")
    except BaseException:
        smtp.close()
        raise
    return smtp


def deliver_queued(limit: int = 50, now: datetime | None = None) -> int:
    """Send the messages that are due over SMTP, each on its own; returns how many were sent.

    Commits after every message, so what was sent stays recorded as sent if the run dies later.
    """
    if not current_app.config.get("MAIL_SERVER"):
        return 0
    now = now or utcnow()
    _give_up_on_exhausted(now)
    claimed = _claim(now, limit)
    db.session.commit()
    if not claimed:
        return 0
    rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(claimed))
                              .order_by(OutboxMessage.id)).all()
    try:
        smtp = _connect()
    except (OSError, smtplib.SMTPException) as exc:
        for row in rows:
            _fail(row, f"cannot reach the mail server: {exc}", now)
        db.session.commit()
        return 0
    sent = 0
    try:
        for index, row in enumerate(rows):
            try:
                email = _build(row)
            except (ValueError, TypeError) as exc:   # a header no mail server would take
                _fail(row, f"cannot build the message: {exc}", now, final=True)
                db.session.commit()
                continue
            try:
                smtp.send_message(email)
            except smtplib.SMTPServerDisconnected as exc:
                _fail(row, f"the mail server hung up: {exc}", now)
                for untried in rows[index + 1:]:
                    _release(untried)
                db.session.commit()
                break
            except smtplib.SMTPException as exc:
                _fail(row, f"refused by the mail server: {exc}", now, final=_permanent(exc))
            except OSError as exc:
                _fail(row, f"connection lost: {exc}", now)
                for untried in rows[index + 1:]:
                    _release(untried)
                db.session.commit()
                break
            else:
                row.status, row.sent_at, row.claimed_at = "sent", utcnow(), None
                row.error, row.next_attempt_at, row.secret_body = None, None, None
                sent += 1
            db.session.commit()
    finally:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()
    return sent


def failed_count_statement():
    """Mail given up on (the operators' navigation badge, web/navigation.py)."""
    return select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "failed")


def failed_count() -> int:
    return db.session.scalar(failed_count_statement()) or 0
