"""Conversations between a task's business and one specialist.

A thread exists only once a bid or an invitation links the two (the bidding
services call `get_or_create_thread`); there is deliberately no way to start a
conversation with a stranger. After hire the same thread carries the
engagement (`link_engagement`). Read markers (`ThreadRead`) give unread counts
and read receipts.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from datetime import datetime, timezone

from sqlalchemy import and_, bindparam, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from marketplace.accounts.models import AccountStatus, User
from marketplace.accounts.confirmation import require_confirmed_email
from marketplace.core.text import excerpt
from marketplace.core import events
from marketplace.core.errors import Forbidden, NotFound, ValidationFailed
from marketplace.core.time import utcnow
from marketplace.extensions import db
from marketplace.messaging.models import Message, Thread, ThreadRead
from marketplace.notifications.services import mark_link_read, notify
from marketplace.profiles.models import BusinessProfile
from marketplace.tasks.models import ModerationStatus, Task

MAX_MESSAGE_LENGTH = 5000
PREVIEW_LENGTH = 200
THREAD_NOT_FOUND = "We couldn't find that conversation."


def thread_path(thread_id: int) -> str:
    """The thread's page, scrolled to the newest messages and the reply box.

    Also the link of its message notifications: mark_thread_read finds them by it.
    """
    return f"/messages/{thread_id}#reply"


def _is_anonymous(user) -> bool:
    # Not is_authenticated: Flask-Login ties that to is_active, and a suspended user is still someone.
    return user is None or getattr(user, "is_anonymous", True)


def _is_participant(actor, thread: Thread) -> bool:
    return not _is_anonymous(actor) and actor.id in thread.participant_ids()


def _require_participant(actor, thread: Thread) -> None:
    # NotFound, not Forbidden: a stranger must not learn that the thread exists.
    if not _is_participant(actor, thread):
        raise NotFound(THREAD_NOT_FOUND)


def other_party_id(thread: Thread, user_id: int) -> int:
    return thread.freelancer_id if user_id == thread.business_id else thread.business_id


def other_party(thread: Thread, user: User) -> User:
    return thread.freelancer if user.id == thread.business_id else thread.business


def _company_names(business_ids) -> dict[int, str]:
    ids = {i for i in business_ids if i is not None}
    if not ids:
        return {}
    rows = db.session.execute(select(BusinessProfile.user_id, BusinessProfile.company_name)
                              .where(BusinessProfile.user_id.in_(ids)))
    return {user_id: name for user_id, name in rows if name}


def _unread_messages(user_id: int):
    """Messages from the other side that `user_id` has not read yet, in threads they take part in."""
    return (select(Message.thread_id)
            .join(Thread, Thread.id == Message.thread_id)
            .outerjoin(ThreadRead, and_(ThreadRead.thread_id == Message.thread_id, ThreadRead.user_id == user_id))
            .where(or_(Thread.business_id == user_id, Thread.freelancer_id == user_id),
                   Message.sender_id != user_id, Message.moderation_status == ModerationStatus.APPROVED,
                   Message.id > func.coalesce(ThreadRead.last_read_message_id, 0)))


def _visible_to(user_id: int):
    """Messages the user may read: approved ones, and their own even while held or rejected."""
    return or_(Message.moderation_status == ModerationStatus.APPROVED, Message.sender_id == user_id)


# --- counts ------------------------------------------------------------------------------

@cache
def unread_thread_count_statement():
    """Built once per process (every signed-in page asks, for the navigation badge): building the
    expression again on each request cost more than running it."""
    unread = _unread_messages(bindparam("user_id")).subquery()
    return select(func.count(func.distinct(unread.c.thread_id)))


def unread_thread_count(user) -> int:
    """How many of the user's threads hold messages they haven't read; 0 for anonymous. One query."""
    if _is_anonymous(user):
        return 0
    return db.session.scalar(unread_thread_count_statement(), {"user_id": user.id}) or 0


# --- threads -----------------------------------------------------------------------------

def _find_thread(task_id: int, freelancer_id: int) -> Thread | None:
    return db.session.scalar(select(Thread).where(Thread.task_id == task_id, Thread.freelancer_id == freelancer_id))


def get_or_create_thread(task: Task, freelancer_id: int) -> Thread:
    """The thread between the task's business and the specialist, created on first need.

    Race-safe: the unique constraint (task_id, freelancer_id) decides, and the
    loser of a parallel insert reads the winner's row.
    """
    thread = _find_thread(task.id, freelancer_id)
    if thread is not None:
        return thread
    thread = Thread(task_id=task.id, business_id=task.business_id, freelancer_id=freelancer_id)
    try:
        with db.session.begin_nested():
            db.session.add(thread)
            db.session.flush()
    except IntegrityError:
        thread = _find_thread(task.id, freelancer_id)
        if thread is None:  # not the unique constraint (e.g. an unknown user): a real error
            raise
    return thread


def thread_for_bid(actor: User, bid) -> Thread:
    """The conversation about a proposal, for the business comparing proposals ("Message" on its card).

    Proposals open their thread when sent; this also covers proposals from before that, or imported ones.
    """
    task = bid.task
    if _is_anonymous(actor) or actor.id != task.business_id:
        raise NotFound(THREAD_NOT_FOUND)
    return get_or_create_thread(task, bid.freelancer_id)


def link_engagement(task_id: int, freelancer_id: int, engagement_id: int) -> Thread:
    """After hire the conversation continues in the same thread, now tied to the engagement."""
    task = db.session.get(Task, task_id)
    if task is None:
        raise NotFound("We couldn't find that task.")
    thread = get_or_create_thread(task, freelancer_id)
    thread.engagement_id = engagement_id
    db.session.flush()
    return thread


def get_thread_for(actor, thread_id: int) -> Thread:
    """The thread if the actor is its business or its specialist; NotFound for anyone else."""
    if _is_anonymous(actor):
        raise NotFound(THREAD_NOT_FOUND)
    thread = db.session.scalar(select(Thread).where(Thread.id == thread_id)
                               .options(joinedload(Thread.task), joinedload(Thread.business),
                                        joinedload(Thread.freelancer)))
    if thread is None:
        raise NotFound(THREAD_NOT_FOUND)
    _require_participant(actor, thread)
    return thread


# --- messages ----------------------------------------------------------------------------

def clean_body(body: str | None) -> str:
    """Plain text as typed: one newline style, no control characters, no surrounding blanks."""
    text = (body or "").replace("\r\n", "\n").replace("\r", "\n")
    return "".join(ch for ch in text if ch in "\n\t" or ord(ch) >= 32).strip()


def post_message(actor: User, thread: Thread, body: str, attachment=None) -> Message:
    """`attachment`: an optional files.attachments.PendingFile (already checked on its content)."""
    _require_participant(actor, thread)
    if actor.status != AccountStatus.ACTIVE:
        raise Forbidden("Suspended accounts can't send messages.")
    require_confirmed_email(actor, "send messages")
    text = clean_body(body)
    if not text and attachment is None:
        raise ValidationFailed("Write a message before sending.", field="body")
    if len(text) > MAX_MESSAGE_LENGTH:
        raise ValidationFailed(f"Messages can be at most {MAX_MESSAGE_LENGTH:,} characters "
                               f"(this one has {len(text):,}).", field="body")
    now = utcnow()
    message = Message(thread_id=thread.id, sender_id=actor.id, body=text, created_at=now)
    db.session.add(message)
    db.session.flush()
    _advance_read_marker(thread.id, actor.id, message.id)
    screened = text
    if attachment is not None:
        from marketplace.files.attachments import store
        store(actor, attachment, message_id=message.id)
        screened = f"{text}\n{attachment.filename}".strip()   # the file's name is text the other side reads
    from marketplace.moderation.holds import hold
    from marketplace.moderation.screening import screen_message
    reasons = screen_message(screened)
    if reasons:
        # Only the sender sees it until an operator releases it; no unread count, notification or digest.
        hold("message", message, actor.id, reasons)
    else:
        announce_message(message, thread)
    db.session.flush()
    return message


def announce_message(message: Message, thread: Thread | None = None) -> None:
    """A visible message: it moves the thread up the inbox and notifies the other side."""
    thread = thread or db.session.get(Thread, message.thread_id)
    created = message.created_at
    if thread.last_message_at is None or _as_utc(thread.last_message_at) < _as_utc(created):
        thread.last_message_at = created
    sender = message.sender
    notify(other_party_id(thread, message.sender_id), "message",
           f"New message from {sender.full_name} about “{thread.task.title}”",
           _preview(message.body), thread_path(thread.id))
    events.publish("message.received", [other_party_id(thread, message.sender_id)],
                   {"thread_id": thread.id, "message_id": message.id, "sender_id": message.sender_id,
                    "task_id": thread.task_id})
    db.session.flush()


def _as_utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; they are stored in UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def _preview(text: str) -> str:
    return excerpt(text, PREVIEW_LENGTH)


def _advance_read_marker(thread_id: int, user_id: int, message_id: int) -> None:
    """Move the user's read marker forward to `message_id` (never backwards); create it if missing."""
    def move() -> int:
        return db.session.execute(
            update(ThreadRead).where(ThreadRead.thread_id == thread_id, ThreadRead.user_id == user_id,
                                     ThreadRead.last_read_message_id < message_id)
            .values(last_read_message_id=message_id, read_at=utcnow())).rowcount

    if move():
        return
    exists = db.session.scalar(select(ThreadRead.user_id).where(ThreadRead.thread_id == thread_id,
                                                                ThreadRead.user_id == user_id))
    if exists is not None:
        return  # already at or past this message
    try:
        with db.session.begin_nested():
            db.session.execute(insert(ThreadRead).values(thread_id=thread_id, user_id=user_id,
                                                         last_read_message_id=message_id, read_at=utcnow()))
    except IntegrityError:
        move()  # a parallel request (another tab) created the marker first


def mark_thread_read(actor: User, thread: Thread) -> None:
    """The actor has seen everything in the thread so far; their message notifications for it are read too."""
    _require_participant(actor, thread)
    latest = db.session.scalar(select(func.max(Message.id)).where(Message.thread_id == thread.id,
                                                                   _visible_to(actor.id)))
    if latest is not None:
        _advance_read_marker(thread.id, actor.id, latest)
    mark_link_read(actor, thread_path(thread.id))
    db.session.flush()


@dataclass
class ThreadView:
    messages: list[Message]
    other: User
    other_company: str | None
    other_read_message_id: int            # how far the other participant has read
    other_read_at: datetime | None
    seen_message_id: int | None           # the actor's last message the other side has read ("Seen")
    sent_unseen_message_id: int | None    # the actor's last message, when the other side hasn't read it yet
    has_earlier: bool
    refusals: dict[int, str] = field(default_factory=dict)   # the actor's refused messages: operator's reason


def messages_in(actor: User, thread: Thread, *, before: int | None = None, limit: int = 100) -> ThreadView:
    """The latest `limit` messages (or those before message id `before`), oldest first, with read receipts."""
    _require_participant(actor, thread)
    query = select(Message).where(Message.thread_id == thread.id, _visible_to(actor.id))
    if before is not None:
        query = query.where(Message.id < before)
    batch = db.session.scalars(query.order_by(Message.id.desc()).limit(limit + 1)).all()
    messages = list(reversed(batch[:limit]))
    other = other_party(thread, actor)
    marker = db.session.execute(select(ThreadRead.last_read_message_id, ThreadRead.read_at)
                                .where(ThreadRead.thread_id == thread.id, ThreadRead.user_id == other.id)).first()
    read_id = marker.last_read_message_id if marker else 0
    own = [m.id for m in messages if m.sender_id == actor.id]
    seen = max((i for i in own if i <= read_id), default=None)
    last_own = own[-1] if own else None
    company = _company_names([other.id]).get(other.id) if other.id == thread.business_id else None
    return ThreadView(messages=messages, other=other, other_company=company,
                      other_read_message_id=read_id, other_read_at=marker.read_at if marker else None,
                      seen_message_id=seen,
                      sent_unseen_message_id=last_own if last_own is not None and last_own > read_id else None,
                      has_earlier=len(batch) > limit, refusals=_refusals(messages))


def _refusals(messages: list[Message]) -> dict[int, str]:
    refused = [m.id for m in messages if m.moderation_status == ModerationStatus.REJECTED]
    if not refused:
        return {}
    from marketplace.moderation.holds import refusal_notes
    return refusal_notes("message", refused)


# --- inbox -------------------------------------------------------------------------------

@dataclass
class InboxRow:
    thread: Thread
    other: User
    other_company: str | None
    unread: int
    last_message: Message | None

    @property
    def activity_at(self) -> datetime:
        return self.thread.last_message_at or self.thread.created_at


@dataclass
class Inbox:
    page: object     # flask_sqlalchemy Pagination of Thread
    rows: list[InboxRow]


def threads_for(actor: User, page: int = 1, per_page: int = 20) -> Inbox:
    """The actor's threads, most recent activity first, with unread counts and the last message.

    A constant number of queries whatever the page holds: the page (count + rows
    with task and both parties joined), unread counts, last messages, company names.
    """
    activity = func.coalesce(Thread.last_message_at, Thread.created_at)
    query = (select(Thread).where(or_(Thread.business_id == actor.id, Thread.freelancer_id == actor.id))
             .options(joinedload(Thread.task), joinedload(Thread.business), joinedload(Thread.freelancer))
             .order_by(activity.desc(), Thread.id.desc()))
    pagination = db.paginate(query, page=max(page, 1), per_page=per_page, error_out=False)
    threads = list(pagination.items)
    ids = [t.id for t in threads]
    unread: dict[int, int] = {}
    last: dict[int, Message] = {}
    companies: dict[int, str] = {}
    if ids:
        unread_q = _unread_messages(actor.id).where(Message.thread_id.in_(ids)).subquery()
        unread = dict(db.session.execute(select(unread_q.c.thread_id, func.count())
                                         .group_by(unread_q.c.thread_id)).all())
        latest_ids = (select(func.max(Message.id)).where(Message.thread_id.in_(ids), _visible_to(actor.id))
                      .group_by(Message.thread_id))
        last = {m.thread_id: m for m in db.session.scalars(select(Message).where(Message.id.in_(latest_ids)))}
        if not actor.is_business:
            companies = _company_names(t.business_id for t in threads)
    rows = []
    for thread in threads:
        other = other_party(thread, actor)
        rows.append(InboxRow(thread=thread, other=other, other_company=companies.get(other.id),
                             unread=unread.get(thread.id, 0), last_message=last.get(thread.id)))
    return Inbox(page=pagination, rows=rows)
