"""The one mail service.

`send_mail()` writes an outbox row inside the caller's transaction, so a mail
exists exactly when the action that caused it committed. When MAIL_SERVER is
set, `deliver_queued()` (run after the request's commit) hands queued rows to
SMTP and records the result.
"""
from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

from flask import current_app, g
from sqlalchemy import select, update

from marketplace.core.time import utcnow
from marketplace.extensions import db
from marketplace.outbox.models import OutboxMessage

log = logging.getLogger(__name__)


def send_mail(to: str, subject: str, body: str) -> OutboxMessage:
    smtp = bool(current_app.config.get("MAIL_SERVER"))
    message = OutboxMessage(to_address=to, subject=subject[:200], body=body,
                            status="queued" if smtp else "stored")
    db.session.add(message)
    db.session.flush()
    if smtp:
        g.setdefault("mail_pending", True)
    return message


def deliver_queued(limit: int = 50) -> int:
    """Send queued messages over SMTP; returns how many were sent."""
    cfg = current_app.config
    if not cfg.get("MAIL_SERVER"):
        return 0
    ids = list(db.session.scalars(select(OutboxMessage.id).where(OutboxMessage.status == "queued")
                                  .order_by(OutboxMessage.id).limit(limit)))
    if not ids:
        return 0
    # Claim the rows first, so two requests finishing at once never send the same mail twice.
    claimed = list(db.session.scalars(update(OutboxMessage).where(OutboxMessage.id.in_(ids),
                                                                 OutboxMessage.status == "queued")
                                      .values(status="sending").returning(OutboxMessage.id)))
    db.session.commit()
    rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(claimed))
                              .order_by(OutboxMessage.id)).all()
    if not rows:
        return 0
    sent = 0
    try:
        with smtplib.SMTP(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=10) as smtp:
            if cfg.get("MAIL_USE_TLS"):
                smtp.starttls()
            if cfg.get("MAIL_USERNAME"):
                smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"] or "")
            for row in rows:
                email = EmailMessage()
                email["From"] = cfg["MAIL_DEFAULT_SENDER"]
                email["To"] = row.to_address
                email["Subject"] = row.subject
                email.set_content(row.body)
                smtp.send_message(email)
                row.status, row.sent_at = "sent", utcnow()
                sent += 1
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("SMTP delivery failed: %s", exc)
        for row in rows:
            if row.status == "sending":  # back in the queue for the next attempt
                row.status, row.error = "queued", str(exc)[:500]
    db.session.commit()
    return sent
