"""Mail: every message goes through the outbox table, then to SMTP when configured."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.core.time import utcnow
from marketplace.extensions import db

# Stands in for a secret link (password reset, email confirmation) in the copy operators can read.
REDACTED_LINK = "[link sent to the recipient]"


class OutboxMessage(db.Model):
    """An email the platform sent or will send; readable in the browser at /outbox."""

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(String(254), index=True)
    subject: Mapped[str] = mapped_column(String(200))
    # The copy anyone allowed into /outbox reads: secret links are replaced by REDACTED_LINK.
    body: Mapped[str] = mapped_column(Text)
    # The body as the recipient gets it, kept only while it still has to reach them (queued for SMTP,
    # or the development outbox that stands in for their mailbox); erased once delivered or given up.
    secret_body: Mapped[str | None] = mapped_column(Text)
    # stored: kept in the outbox only (no MAIL_SERVER); queued: waiting for SMTP (again, after a failed
    # attempt, from next_attempt_at); sending: claimed by one delivery run at claimed_at; sent;
    # failed: given up (error says why)
    status: Mapped[str] = mapped_column(String(16), default="stored", index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    error: Mapped[str | None] = mapped_column(String(500))   # the last failure

    @property
    def has_secret(self) -> bool:
        return self.secret_body is not None
