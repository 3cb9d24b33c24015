"""The one notification service every feature uses.

`notify()` writes an in-app notification in the caller's transaction. Important
kinds are also emailed at once through the outbox (same transaction, so the
email exists exactly when the action committed). Messages are never emailed
one by one: `send_message_digests()` (a scheduled job) sends each user one
email about the messages they have left unread for a while.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache

from flask import current_app
from sqlalchemy import bindparam, func, select, update

from marketplace.accounts.models import AccountStatus, User
from marketplace.core.errors import NotFound
from marketplace.core.text import one_line
from marketplace.core.time import utcnow
from marketplace.core.urls import public_url
from marketplace.extensions import db
from marketplace.notifications.models import Notification
from marketplace.outbox.services import send_mail

MESSAGE_KIND = "message"
# Kinds that matter enough to email at once (new bid, invitation, hire,
# funding, delivery, approval, payout, moderation decision).
EMAIL_KINDS = frozenset({
    "new_bid", "invitation", "hired", "bid_declined", "funding", "funded", "delivery", "delivered",
    "approval", "approved", "payout", "dispute", "moderation",
})
# Families whose every member is important: "moderation_rejected", "payout_failed", ...
EMAIL_KIND_PREFIXES = ("moderation_", "payout_", "dispute_", "funding_", "delivery_", "approval_")

TITLE_MAX = 200   # Notification.title column
LINK_MAX = 300    # Notification.link column


def emails_immediately(kind: str) -> bool:
    return kind in EMAIL_KINDS or kind.startswith(EMAIL_KIND_PREFIXES)


def _is_site_path(link: str) -> bool:
    return link.startswith("/") and not link.startswith("//") and "\\" not in link and len(link) <= LINK_MAX


def absolute_url(path: str) -> str:
    """A site path as an absolute URL for emails, which are read outside the site."""
    return public_url(path if _is_site_path(path) else "/notifications")


def _user_id(user: User | int) -> int:
    return user if isinstance(user, int) else user.id


def _is_anonymous(user) -> bool:
    # Not is_authenticated: Flask-Login ties that to is_active, and a suspended user is still someone.
    return user is None or getattr(user, "is_anonymous", True)


def notify(user: User | int, kind: str, title: str, body: str = "", link: str = "",
           email: bool = True) -> Notification:
    """Record a notification for `user` (flush only); email it now if its kind is important.

    `link` is a path within the site ("/tasks/12"); anything else is dropped, so a
    notification can never send someone off-site.
    """
    title = one_line(title)
    if len(title) > TITLE_MAX:
        title = title[:TITLE_MAX - 1] + "…"
    notification = Notification(user_id=_user_id(user), kind=kind, title=title, body=body.strip(),
                                link=link if _is_site_path(link) else "")
    db.session.add(notification)
    db.session.flush()
    if email and kind != MESSAGE_KIND and emails_immediately(kind):
        recipient = user if isinstance(user, User) else db.session.get(User, user)
        if recipient is not None:
            send_mail(recipient.email, title, _notification_email(recipient, notification))
            notification.emailed_at = utcnow()
            db.session.flush()
    return notification


def _notification_email(user: User, notification: Notification) -> str:
    parts = [f"Hello {user.first_name or user.full_name},", "", notification.title]
    if notification.body:
        parts += ["", notification.body]
    parts += ["", f"Open it here: {absolute_url(notification.link)}", "", _signature()]
    return "\n".join(parts)


def _signature() -> str:
    site = current_app.config.get("SITE_NAME", "Human Touch")
    return (f"— The {site} team\n"
            f"You can see all your notifications at {absolute_url('/notifications')}")


# --- reading -----------------------------------------------------------------------------

@cache
def unread_count_statement():
    """Built once per process: every signed-in page asks (the navigation badge)."""
    return (select(func.count()).select_from(Notification)
            .where(Notification.user_id == bindparam("user_id"), Notification.read_at.is_(None)))


def unread_count(user) -> int:
    """Unread notifications of `user`; 0 for anonymous visitors. One query."""
    if _is_anonymous(user):
        return 0
    return db.session.scalar(unread_count_statement(), {"user_id": user.id}) or 0


def list_for(user: User, page: int, per_page: int = 20):
    """The user's notifications, newest first, as a Flask-SQLAlchemy Pagination."""
    query = (select(Notification).where(Notification.user_id == user.id)
             .order_by(Notification.created_at.desc(), Notification.id.desc()))
    return db.paginate(query, page=max(page, 1), per_page=per_page, error_out=False)


def mark_read(actor: User, notification_id: int) -> Notification:
    """Mark one of the actor's own notifications read. Anyone else's id: NotFound."""
    notification = db.session.scalar(select(Notification).where(Notification.id == notification_id,
                                                                 Notification.user_id == actor.id))
    if notification is None:
        raise NotFound("We couldn't find that notification.")
    if notification.read_at is None:
        notification.read_at = utcnow()
        db.session.flush()
    return notification


def mark_all_read(actor: User) -> int:
    """Mark every unread notification of the actor read; returns how many changed."""
    result = db.session.execute(update(Notification)
                                .where(Notification.user_id == actor.id, Notification.read_at.is_(None))
                                .values(read_at=utcnow()))
    return result.rowcount


def mark_link_read(user: User, link: str, kind: str = MESSAGE_KIND) -> int:
    """Mark the user's unread notifications of `kind` pointing at `link` read (e.g. on opening a thread)."""
    result = db.session.execute(update(Notification)
                                .where(Notification.user_id == user.id, Notification.kind == kind,
                                       Notification.link == link, Notification.read_at.is_(None))
                                .values(read_at=utcnow()))
    return result.rowcount


# --- message digests (scheduled job) -----------------------------------------------------

def send_message_digests(now: datetime | None = None, min_age_minutes: int = 10) -> int:
    """Email each user one digest of the message notifications they left unread.

    A user is due when their oldest unread, un-emailed message notification is at
    least `min_age_minutes` old (time to read it in the app first); the digest then
    covers every such notification of theirs, so one conversation gives one email.
    The rows are claimed with a conditional UPDATE before the email is written, so
    a second or overlapping run sends nothing twice. Returns the number of emails.
    """
    now = now or utcnow()
    cutoff = now - timedelta(minutes=min_age_minutes)
    pending = (Notification.kind == MESSAGE_KIND, Notification.read_at.is_(None),
               Notification.emailed_at.is_(None))
    due_user_ids = select(Notification.user_id).where(*pending, Notification.created_at <= cutoff)
    due_users = db.session.scalars(select(User).where(User.id.in_(due_user_ids),
                                                      User.status == AccountStatus.ACTIVE)
                                   .order_by(User.id)).all()
    sent = 0
    for user in due_users:
        claimed = db.session.execute(
            update(Notification).where(Notification.user_id == user.id, *pending)
            .values(emailed_at=now)
            .returning(Notification.id, Notification.title, Notification.link, Notification.created_at)).all()
        if not claimed:
            continue  # another run got there first
        subject, body = _digest_email(user, claimed)
        send_mail(user.email, subject, body)
        sent += 1
    db.session.flush()
    return sent


def _digest_email(user: User, rows) -> tuple[str, str]:
    # One line per conversation: rows share a link when they are about the same thread.
    by_link: dict[str, list] = {}
    for row in sorted(rows, key=lambda r: (r.created_at, r.id)):
        by_link.setdefault(row.link, []).append(row)
    count = len(rows)
    noun = "message" if count == 1 else "messages"
    subject = f"You have {count} unread {noun}"
    lines = [f"Hello {user.first_name or user.full_name},", "",
             f"You have {count} unread {noun} in {len(by_link)} "
             f"{'conversation' if len(by_link) == 1 else 'conversations'}:", ""]
    for link, items in by_link.items():
        latest = items[-1]
        extra = f" ({len(items)} messages)" if len(items) > 1 else ""
        lines += [f"- {latest.title}{extra}", f"  {absolute_url(link)}"]
    lines += ["", "Replying quickly keeps businesses and specialists confident in each other.", "",
              _signature()]
    return subject, "\n".join(lines)
