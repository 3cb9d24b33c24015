"""Holding screened items for review, and what an operator's decision does to them.

`hold()` is called by the task, bid and message services when the risk screen
(`moderation/screening.py`) finds something: the item goes to
`pending_review` (only its author and operators see it) and an open
`ModerationCase` records why. The side effects an item normally has on the
other party (a "new proposal" notification, an unread message, a task showing
up in browse and matching, "match me" auto-invitations) are deferred: the
services skip them while the item is held and `release()` runs them when an
operator approves. `refuse()` is what a rejection does to the item.

The operator console decides the case (conditional UPDATE on the case, audit
entry, notification to the author) and then calls `release()` or `refuse()`
in the same transaction. These functions only flush.
"""
from __future__ import annotations

from sqlalchemy import select, update

from marketplace.core.errors import Conflict
from marketplace.core.time import utcnow
from marketplace.extensions import db
from marketplace.moderation.audit import record
from marketplace.moderation.models import ModerationCase
from marketplace.moderation.targets import model_for
from marketplace.tasks.models import ModerationStatus

HOLDABLE = ("task", "bid", "message")
NOTE_MAX = 500   # Task.moderation_note / Bid.decline_note


def open_case_for(target_type: str, target_id: int) -> ModerationCase | None:
    return db.session.scalar(select(ModerationCase).where(ModerationCase.target_type == target_type,
                                                          ModerationCase.target_id == target_id,
                                                          ModerationCase.status == "open")
                             .order_by(ModerationCase.id.desc()).limit(1))


def hold(target_type: str, item, owner_id: int, reasons: list[str]) -> ModerationCase:
    """Put `item` in pending_review and queue a case with `reasons` (one per line).

    An item that already waits in an open case (e.g. a held bid edited again)
    keeps that one case; new reasons are added to it, so one operator decision
    settles the item.
    """
    if target_type not in HOLDABLE:
        raise ValueError(f"unknown moderation target type {target_type!r}")
    reasons = [r.strip() for r in reasons if r and r.strip()] or ["Held for review"]
    model = model_for(target_type)
    db.session.execute(update(model).where(model.id == item.id)
                       .values(moderation_status=ModerationStatus.PENDING_REVIEW)
                       .execution_options(synchronize_session=False))
    item.moderation_status = ModerationStatus.PENDING_REVIEW
    case = open_case_for(target_type, item.id)
    if case is None:
        case = ModerationCase(target_type=target_type, target_id=item.id, owner_id=owner_id,
                              reasons="\n".join(reasons), status="open")
        db.session.add(case)
    else:
        known = case.reason_list
        case.reasons = "\n".join(known + [r for r in reasons if r not in known])
    db.session.flush()
    record(None, "hold", target_type, item.id, subject_user_id=owner_id, reason="\n".join(reasons),
           details=f"case {case.id}")
    return case


def _set_moderation(model, item, values: dict, *, only_if=None) -> bool:
    conditions = [model.id == item.id]
    if only_if is not None:
        conditions.append(only_if)
    changed = db.session.execute(update(model).where(*conditions).values(**values)
                                 .execution_options(synchronize_session=False)).rowcount
    db.session.refresh(item)
    return changed == 1


START_PASSED = "The task's start date has passed; reject it with a note asking the business to update the dates."


def release(target_type: str, item) -> None:
    """Approve a held item: it becomes visible and its deferred side effects happen now.

    A held open task whose start date has passed is refused (Conflict, nothing changed): publishing
    refuses past dates too, so the operator rejects it with a note asking for new dates.
    """
    model = model_for(target_type)
    if target_type == "task":
        _check_task_dates(item)
    if not _set_moderation(model, item, {"moderation_status": ModerationStatus.APPROVED},
                           only_if=model.moderation_status == ModerationStatus.PENDING_REVIEW):
        raise Conflict("This item is no longer waiting for review.")
    if target_type == "task":
        _release_task(item)
    elif target_type == "bid":
        _release_bid(item)
    else:
        _release_message(item)
    db.session.flush()


def _check_task_dates(task) -> None:
    from marketplace.tasks.models import TaskStatus
    if task.status == TaskStatus.OPEN and task.start_date is not None and task.start_date < utcnow().date():
        raise Conflict(START_PASSED)


def _release_task(task) -> None:
    from marketplace.tasks.models import HiringMode, Task, TaskStatus
    task.moderation_note = None
    if task.status == TaskStatus.OPEN:
        # A task held when it was published (publish_task leaves published_at empty then) reaches
        # specialists only now: list it as new. One that was live before an edit held it keeps its
        # original date, so it isn't counted as posted twice and its time to first bid stays true.
        db.session.execute(update(Task).where(Task.id == task.id, Task.published_at.is_(None))
                           .values(published_at=utcnow()).execution_options(synchronize_session=False))
        db.session.execute(update(Task).where(Task.id == task.id).values(moderation_note=None)
                           .execution_options(synchronize_session=False))
        db.session.refresh(task)
        if task.hiring_mode == HiringMode.MATCH and not _has_invitations(task):
            from marketplace.core.queue import enqueue
            enqueue("matching.auto_invite", task_id=task.id)
    db.session.flush()


def _has_invitations(task) -> bool:
    from marketplace.bidding.models import Invitation
    return db.session.scalar(select(Invitation.id).where(Invitation.task_id == task.id).limit(1)) is not None


def _release_bid(bid) -> None:
    from marketplace.bidding.models import BidStatus
    if bid.status != BidStatus.PENDING:
        return  # withdrawn or declined meanwhile: nothing to tell the business
    from marketplace.bidding.services import announce_bid
    announce_bid(bid)


def _release_message(message) -> None:
    from marketplace.messaging.services import announce_message
    announce_message(message)


def refuse(target_type: str, item, reason: str) -> None:
    """Reject a held item with `reason` (shown to its author).

    task: rejected with the reason as its moderation note; the business can edit
    it, which sends it back to review; pending proposals (possible when an
    approved task was edited and held again) are declined politely.
    bid: rejected and declined with the reason, which frees the one-live-bid slot.
    message: rejected; its sender sees it marked "not delivered".
    """
    reason = (reason or "").strip()[:NOTE_MAX] or "It doesn't meet our marketplace guidelines."
    model = model_for(target_type)
    if target_type == "task":
        _set_moderation(model, item, {"moderation_status": ModerationStatus.REJECTED, "moderation_note": reason})
        from marketplace.bidding.services import decline_pending_bids
        from marketplace.tasks.models import TaskStatus
        if item.status == TaskStatus.OPEN:
            decline_pending_bids(item, "This task was taken down for review.")
            db.session.refresh(item)
    elif target_type == "bid":
        from marketplace.bidding.models import BidStatus
        values = {"moderation_status": ModerationStatus.REJECTED, "updated_at": utcnow()}
        if not _set_moderation(model, item, {**values, "status": BidStatus.DECLINED, "decline_note": reason},
                               only_if=model.status == BidStatus.PENDING):
            _set_moderation(model, item, values)   # withdrawn meanwhile: keep that status
    else:
        _set_moderation(model, item, {"moderation_status": ModerationStatus.REJECTED})
    db.session.flush()


def refusal_notes(target_type: str, target_ids) -> dict[int, str]:
    """The operator's note for each refused item among `target_ids` (e.g. "not delivered: <reason>")."""
    ids = list(target_ids)
    if not ids:
        return {}
    rows = db.session.execute(select(ModerationCase.target_id, ModerationCase.decision_note)
                              .where(ModerationCase.target_type == target_type, ModerationCase.target_id.in_(ids),
                                     ModerationCase.status.in_(("rejected", "removed")))
                              .order_by(ModerationCase.id))
    return {target_id: note for target_id, note in rows if note}
