"""Disputes: the parties' statements and the operator's decision.

Opening a dispute and the money of its resolution live in
`marketplace.engagements.transitions` (`open_dispute`, `resolve_dispute`);
this module adds the statement thread both parties (and operators) write in
while the engagement is disputed, the operator's reading of a dispute, and
`decide()`, which wraps `resolve_dispute` with the audit entry and the
operator's decision note. Functions only flush; the caller commits.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from marketplace.accounts.models import AccountStatus, User
from marketplace.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from marketplace.core.money import format_money, parse_major, split_fee
from marketplace.core.time import utcnow
from marketplace.engagements import transitions
from marketplace.engagements.models import Engagement, EngagementEvent, EngagementStatus as S
from marketplace.extensions import db
from marketplace.moderation import audit
from marketplace.moderation.access import require_operator
from marketplace.moderation.models import DisputeStatement
from marketplace.notifications.services import notify
from marketplace.payments import ledger
from marketplace.payments.models import Charge, Refund, Transfer

STATEMENT_MAX = 4000
DECISION_NOTE_MAX = 2000
MESSAGES_SHOWN = 200
ALREADY_RESOLVED = "This dispute has already been resolved; nothing was changed."


def _link(engagement: Engagement) -> str:
    return f"/engagements/{engagement.id}"


def is_party(user: User | None, engagement: Engagement) -> bool:
    return user is not None and getattr(user, "id", None) in (engagement.business_id, engagement.freelancer_id)


def can_see_thread(user: User | None, engagement: Engagement) -> bool:
    """The parties and operators see a dispute's statements (also after it is resolved)."""
    if user is None or getattr(user, "is_anonymous", True):
        return False
    return is_party(user, engagement) or user.is_operator


def can_add_statement(user: User | None, engagement: Engagement) -> bool:
    return (can_see_thread(user, engagement) and engagement.status == S.DISPUTED
            and user.status == AccountStatus.ACTIVE)


def clean_statement(body: str | None, limit: int = STATEMENT_MAX, what: str = "statement") -> str:
    body = (body or "").strip()
    if not body:
        raise ValidationFailed(f"Please write your {what}.", field="body")
    if len(body) > limit:
        raise ValidationFailed(f"The {what} can be at most {limit:,} characters (it has {len(body):,}).",
                               field="body")
    return body


def statements_of(engagement: Engagement) -> list[DisputeStatement]:
    return list(db.session.scalars(select(DisputeStatement).where(DisputeStatement.engagement_id == engagement.id)
                                   .order_by(DisputeStatement.id).options(selectinload(DisputeStatement.author))))


def statements_for(actor: User, engagement: Engagement) -> list[DisputeStatement]:
    if not can_see_thread(actor, engagement):
        raise NotFound("We couldn't find that engagement.")
    return statements_of(engagement)


def _get_engagement(engagement_id: int) -> Engagement:
    engagement = db.session.scalar(select(Engagement).where(Engagement.id == engagement_id).options(
        selectinload(Engagement.task), selectinload(Engagement.business), selectinload(Engagement.freelancer)))
    if engagement is None:
        raise NotFound("We couldn't find that engagement.")
    return engagement


def add_statement(actor: User, engagement: Engagement, body: str | None) -> DisputeStatement:
    """A party (or an operator) adds to the dispute thread; the other side is told."""
    if actor.status != AccountStatus.ACTIVE:
        raise Forbidden("This account is suspended.")
    if not is_party(actor, engagement):
        if not actor.is_operator:
            # Strangers learn nothing about the engagement, not even that it exists.
            raise NotFound("We couldn't find that engagement.")
        require_operator(actor)
    if engagement.status != S.DISPUTED:
        raise Conflict(ALREADY_RESOLVED if engagement.status == S.RESOLVED
                       else "Statements can be added only while a dispute is open.")
    body = clean_statement(body)
    statement = DisputeStatement(engagement_id=engagement.id, author_id=actor.id, body=body)
    db.session.add(statement)
    db.session.flush()
    if not is_party(actor, engagement):   # an operator's word in a dispute is an operator action
        audit.record(actor, "dispute_statement", "engagement", engagement.id, subject_user_id=engagement.business_id,
               reason=body[:500], details=f"statement {statement.id}; specialist {engagement.freelancer_id}")
    who = "An operator" if not is_party(actor, engagement) else actor.full_name
    for user_id in (engagement.business_id, engagement.freelancer_id):
        if user_id != actor.id:
            notify(user_id, "dispute_statement", f"New statement in the dispute on “{engagement.task.title}”",
                   f"{who} wrote: {body[:500]}", _link(engagement))
    return statement


# --- the operator's side ---------------------------------------------------------------------------

def _opened_at_subquery():
    return (select(EngagementEvent.engagement_id, func.max(EngagementEvent.created_at).label("opened_at"))
            .where(EngagementEvent.to_status == S.DISPUTED.value)
            .group_by(EngagementEvent.engagement_id).subquery())


@dataclass
class DisputeRow:
    engagement: Engagement
    opened_at: datetime | None
    statements: int

    @property
    def age(self) -> str:
        if self.opened_at is None:
            return "—"
        opened = self.opened_at if self.opened_at.tzinfo else self.opened_at.replace(tzinfo=utcnow().tzinfo)
        hours = max(0, int((utcnow() - opened).total_seconds() // 3600))
        return f"{hours // 24} d {hours % 24} h" if hours >= 24 else f"{hours} h"


def _rows(statuses: tuple[S, ...], order, limit: int | None) -> list[DisputeRow]:
    opened = _opened_at_subquery()
    counts = (select(DisputeStatement.engagement_id, func.count().label("n"))
              .group_by(DisputeStatement.engagement_id).subquery())
    query = (select(Engagement, opened.c.opened_at, func.coalesce(counts.c.n, 0))
             .outerjoin(opened, opened.c.engagement_id == Engagement.id)
             .outerjoin(counts, counts.c.engagement_id == Engagement.id)
             .where(Engagement.status.in_(statuses))
             .options(selectinload(Engagement.task), selectinload(Engagement.business),
                      selectinload(Engagement.freelancer))
             .order_by(*order))
    if limit:
        query = query.limit(limit)
    return [DisputeRow(e, at, int(n)) for e, at, n in db.session.execute(query)]


def open_disputes(operator: User) -> list[DisputeRow]:
    """Open disputes, oldest first."""
    require_operator(operator)
    rows = _rows((S.DISPUTED,), (Engagement.updated_at, Engagement.id), None)
    # Oldest first by when the dispute was opened (the timeline event), falling back to the last change.
    rows.sort(key=lambda r: ((r.opened_at or r.engagement.updated_at).replace(tzinfo=None), r.engagement.id))
    return rows


def recently_resolved(operator: User, limit: int = 20) -> list[DisputeRow]:
    require_operator(operator)
    return _rows((S.RESOLVED,), (Engagement.completed_at.desc(), Engagement.id.desc()), limit)


@dataclass
class DisputeCase:
    engagement: Engagement
    statements: list[DisputeStatement]
    events: list[EngagementEvent]
    messages: list
    thread_id: int | None
    paid: int
    held: int
    refunded: int
    transferred: int
    fee_if_released: int
    opened_at: datetime | None
    decided_by: User | None

    @property
    def is_open(self) -> bool:
        return self.engagement.status == S.DISPUTED

    @property
    def fee_charged(self) -> int:
        """The fee actually taken once resolved: on the released part only, as the resolution books it."""
        from marketplace.core.money import split_fee
        return split_fee(self.engagement.resolution_release or 0, self.engagement.fee_bps)[0]


def dispute_case(operator: User, engagement_id: int) -> DisputeCase:
    """Everything an operator reads before deciding: reason, statements, timeline, messages, money."""
    require_operator(operator)
    from marketplace.messaging.models import Message, Thread

    engagement = _get_engagement(engagement_id)
    if engagement.status not in (S.DISPUTED, S.RESOLVED):
        raise NotFound("This engagement has no dispute.")
    events = list(db.session.scalars(select(EngagementEvent).where(EngagementEvent.engagement_id == engagement.id)
                                     .order_by(EngagementEvent.id)))
    thread = db.session.scalar(select(Thread).where(Thread.engagement_id == engagement.id).limit(1)) or \
        db.session.scalar(select(Thread).where(Thread.task_id == engagement.task_id,
                                               Thread.freelancer_id == engagement.freelancer_id).limit(1))
    messages = []
    if thread is not None:
        messages = list(reversed(db.session.scalars(
            select(Message).where(Message.thread_id == thread.id).order_by(Message.id.desc())
            .limit(MESSAGES_SHOWN).options(selectinload(Message.sender))).all()))

    def total(model, *where) -> int:
        return int(db.session.scalar(select(func.coalesce(func.sum(model.amount), 0))
                                     .where(model.engagement_id == engagement.id, *where)))

    opened = [ev.created_at for ev in events if ev.to_status == S.DISPUTED.value]
    decided = next((ev for ev in reversed(events) if ev.to_status == S.RESOLVED.value), None)
    held = ledger.held_for(engagement)
    return DisputeCase(
        engagement=engagement, statements=statements_of(engagement), events=events, messages=messages,
        thread_id=thread.id if thread else None,
        paid=total(Charge, Charge.status.in_(("succeeded", "duplicate", "late"))), held=held,
        refunded=total(Refund, Refund.status == "succeeded"),
        transferred=total(Transfer, Transfer.status == "paid"),
        fee_if_released=engagement.fee_amount,
        opened_at=opened[-1] if opened else None,
        decided_by=db.session.get(User, decided.actor_id) if decided and decided.actor_id else None)


def parse_amount(text: str | None, name: str) -> int:
    """A major-unit amount typed by an operator ('12.50') as minor units, or a clear error."""
    text = (text or "").strip()
    if not text:
        raise ValidationFailed(f"Please enter the {name} amount (0 if none).", field=name)
    try:
        value = parse_major(text.replace(",", "")) if len(text) <= 20 else None
    except ValueError:
        value = None
    if value is None:
        raise ValidationFailed(f"The {name} amount must be a number like 120 or 120.50.", field=name)
    if value < 0:
        raise ValidationFailed(f"The {name} amount can't be negative.", field=name)
    return value


def decide(operator: User, engagement: Engagement, refund_text: str | None, release_text: str | None,
           note: str | None):
    """The operator's split: refund to the business + release to the specialist (major units), with a note.

    `resolve_dispute` checks the split against the held amount and moves the money (conditional
    UPDATE on status = disputed, so two operators can't both decide); this adds the audit entry and
    the decision note as the thread's last statement. Both parties are notified by resolve_dispute.
    """
    require_operator(operator)
    # The row's current status, not the copy this request loaded: another operator may have just decided.
    status = db.session.scalar(select(Engagement.status).where(Engagement.id == engagement.id))
    if status == S.RESOLVED:
        raise Conflict(ALREADY_RESOLVED)
    if status != S.DISPUTED:
        raise Conflict("This engagement has no open dispute.")
    refund = parse_amount(refund_text, "refund")
    release = parse_amount(release_text, "release")
    note = clean_statement(note, DECISION_NOTE_MAX, "decision note")
    held = ledger.held_for(engagement)
    if refund + release != held:
        raise ValidationFailed(
            f"Refund and release must add up to exactly the {format_money(held, engagement.currency)} held "
            f"(they add up to {format_money(refund + release, engagement.currency)}).", field="refund")
    try:
        refund_row, transfer = transitions.resolve_dispute(operator, engagement, refund, release)
    except Conflict:
        db.session.refresh(engagement)
        if engagement.status == S.RESOLVED:
            raise Conflict(ALREADY_RESOLVED)
        raise
    fee, payout = split_fee(release, engagement.fee_bps)
    cur = engagement.currency
    audit.record(operator, "resolve_dispute", "engagement", engagement.id, subject_user_id=engagement.business_id,
                 reason=note,
                 details=f"refund={refund} release={release} fee={fee} payout={payout} currency={cur} "
                         f"(refund {format_money(refund, cur)} to business {engagement.business_id}, "
                         f"release {format_money(release, cur)} to specialist {engagement.freelancer_id})")
    db.session.add(DisputeStatement(engagement_id=engagement.id, author_id=operator.id,
                                    body=f"Decision: {format_money(refund, cur)} refunded to the business, "
                                         f"{format_money(release, cur)} released to the specialist. {note}"))
    db.session.flush()
    return refund_row, transfer
