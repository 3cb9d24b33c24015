"""Who may read the outbox, what they see, and the audit trail of operators reading other people's mail.

Operators can always read /outbox (support needs to see what the platform told someone), but
never a live secret link: those are redacted in the stored copy. In development with
OUTBOX_PUBLIC the outbox stands in for every mailbox, so there the links are shown.
"""
from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.core.errors import Forbidden, NotFound
from marketplace.extensions import db
from marketplace.moderation import audit
from marketplace.outbox.models import OutboxMessage
from marketplace.outbox.services import outbox_is_mailbox

STATUSES = ("stored", "queued", "sending", "sent", "failed")
PER_PAGE = 25


def _is_operator(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_operator)


def require_reader(user) -> None:
    if current_app.config["OUTBOX_PUBLIC"] or _is_operator(user):
        return
    raise Forbidden("Only operators can read the outbox.")


def _recipient_id(address: str) -> int | None:
    return db.session.scalar(select(User.id).where(User.email == address))


def list_messages(reader, *, to: str = "", status: str = "", page: int = 1):
    """One page of the outbox, newest first; an operator's look is audited (flush only)."""
    require_reader(reader)
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc())
    if to:
        query = query.where(OutboxMessage.to_address == to)
    if status in STATUSES:
        query = query.where(OutboxMessage.status == status)
    result = db.paginate(query, page=page, per_page=PER_PAGE, error_out=False)
    if _is_operator(reader) and any(m.to_address != reader.email for m in result.items):
        audit.record(reader, "list_mail", "outbox_page", page, subject_user_id=_recipient_id(to) if to else None,
                     details=f"recipient {to or 'any'}, status {status or 'any'}; messages "
                             + ", ".join(f"#{m.id}" for m in result.items))
    return result


def open_message(reader, message_id: int) -> OutboxMessage:
    """One message; an operator reading someone else's mail is audited (flush only)."""
    require_reader(reader)
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound("No such message.")
    if _is_operator(reader) and message.to_address != reader.email:
        audit.record(reader, "read_mail", "mail", message.id, subject_user_id=_recipient_id(message.to_address),
                     details=f"to {message.to_address}: {message.subject}")
    return message


def readable_body(message: OutboxMessage) -> str:
    """The body as this outbox may show it: with secret links only where the outbox is everyone's mailbox."""
    if message.secret_body is not None and outbox_is_mailbox():
        return message.secret_body
    return message.body
