"""Operator actions: decide held items, act on flags, warn, suspend, reinstate.

Each action checks the operator, changes state with a conditional UPDATE (a
second operator acting on the same thing gets "already handled" and nothing
changes), writes one audit entry and notifies the affected user with the
reason, all in the caller's transaction (flush only; the view commits once).
"""
from __future__ import annotations

from sqlalchemy import select, update

from marketplace.accounts.models import AccountStatus, User, new_session_token
from marketplace.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from marketplace.core.time import utcnow
from marketplace.extensions import db
from marketplace.moderation import holds
from marketplace.moderation.access import require_operator
from marketplace.moderation.audit import record
from marketplace.moderation.flags import TYPE_LABELS, Target, find_target
from marketplace.moderation.models import Flag, ModerationCase
from marketplace.notifications.services import notify

REASON_MAX = 500
ALREADY_HANDLED = "Already handled by another operator: reload the page to see what they decided."
# What an operator can do to a flagged item besides dismissing the flags.
FLAG_ACTIONS = {
    "task": ("reject", "remove", "warn"),
    "profile": ("warn",),
    "bid": ("remove", "warn"),
    "message": ("remove", "warn"),
    "review": ("remove", "warn"),
}


def _reason(reason: str | None, *, required: bool = True) -> str:
    text = (reason or "").strip()
    if required and not text:
        raise ValidationFailed("Give a reason: the user will read it.", field="reason")
    if len(text) > REASON_MAX:
        raise ValidationFailed(f"Keep the reason under {REASON_MAX} characters.", field="reason")
    return text


def _user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("We couldn't find that user.")
    return user


# --- held items -----------------------------------------------------------------------------

def get_case(actor: User, case_id: int) -> ModerationCase:
    require_operator(actor)
    case = db.session.get(ModerationCase, case_id)
    if case is None:
        raise NotFound("We couldn't find that case.")
    return case


def _close_case(actor: User, case: ModerationCase, status: str, note: str) -> None:
    changed = db.session.execute(
        update(ModerationCase).where(ModerationCase.id == case.id, ModerationCase.status == "open")
        .values(status=status, handled_by_id=actor.id, handled_at=utcnow(), decision_note=note[:500])
        .execution_options(synchronize_session=False))
    if changed.rowcount != 1:
        raise Conflict(ALREADY_HANDLED)
    db.session.refresh(case)


def _case_item(case: ModerationCase) -> Target:
    try:
        return find_target(case.target_type, case.target_id)
    except NotFound:
        raise NotFound("The held item no longer exists.") from None


def approve_case(actor: User, case: ModerationCase, note: str = "") -> None:
    require_operator(actor)
    note = _reason(note, required=False)
    _close_case(actor, case, "approved", note)
    target = _case_item(case)
    holds.release(case.target_type, target.item)
    record(actor, "approve", case.target_type, case.target_id, subject_user_id=case.owner_id, reason=note,
           details=f"case {case.id}")
    label = TYPE_LABELS[case.target_type]
    notify(case.owner_id, "moderation_approved", f"Your {label} was approved",
           (f"{target.title} passed review and is now visible. " + (f"Note from our team: {note}" if note else "")),
           target.path)


def reject_case(actor: User, case: ModerationCase, reason: str) -> None:
    require_operator(actor)
    reason = _reason(reason)
    _close_case(actor, case, "rejected", reason)
    target = _case_item(case)
    holds.refuse(case.target_type, target.item, reason)
    record(actor, "reject", case.target_type, case.target_id, subject_user_id=case.owner_id, reason=reason,
           details=f"case {case.id}")
    label = TYPE_LABELS[case.target_type]
    notify(case.owner_id, "moderation_rejected", f"Your {label} was not approved",
           f"{target.title} was rejected by our moderation team. Reason: {reason}", target.path)


# --- flags ----------------------------------------------------------------------------------

def _settle_flags(actor: User, target_type: str, target_id: int, status: str, note: str,
                  require_open: bool = True) -> int:
    """Open flags on the target -> `status`. When the operator acted on reports (`require_open`), none
    open means another operator got there first."""
    changed = db.session.execute(
        update(Flag).where(Flag.target_type == target_type, Flag.target_id == target_id, Flag.status == "open")
        .values(status=status, handled_by_id=actor.id, handled_at=utcnow(), resolution_note=note[:500])
        .execution_options(synchronize_session=False)).rowcount
    if changed == 0 and require_open:
        raise Conflict(ALREADY_HANDLED)
    return changed


def dismiss_flags(actor: User, target_type: str, target_id: int, note: str = "") -> int:
    """The reports don't hold up: close them without touching the item. Returns how many."""
    require_operator(actor)
    note = _reason(note, required=False)
    target = find_target(target_type, target_id)
    count = _settle_flags(actor, target_type, target_id, "dismissed", note)
    record(actor, "dismiss_flags", target_type, target_id, subject_user_id=target.owner_id, reason=note,
           details=f"{count} report{'s' if count != 1 else ''} dismissed")
    return count


def act_on_flags(actor: User, target_type: str, target_id: int, action: str, reason: str, *,
                 reported: bool = True) -> int:
    """`action` the target (reject / remove / warn the owner) and uphold every open flag on it.

    `reported=False` is an operator acting on an item nobody reported (from the item's page): there
    may be no flags, and the action's own state check tells a second operator it was already done.
    Returns how many flags were upheld.
    """
    require_operator(actor)
    if action not in FLAG_ACTIONS.get(target_type, ()):
        raise ValidationFailed("That action isn't available for this kind of item.")
    reason = _reason(reason)
    target = find_target(target_type, target_id)
    count = _settle_flags(actor, target_type, target_id, "upheld", reason, require_open=reported)
    details = f"{count} report{'s' if count != 1 else ''} upheld" if count else "no open reports"
    if action == "warn":
        _warn(actor, _user(target.owner_id), reason, target=target, details=details)
    elif action == "reject":
        _reject_task(actor, target, reason, details)
    else:
        _remove(actor, target, reason, details)
    return count


def _reject_task(actor: User, target: Target, reason: str, details: str) -> None:
    from marketplace.tasks.models import ModerationStatus, TaskStatus
    task = target.item
    case = holds.open_case_for("task", task.id)
    if case is not None:  # a held task that was also reported: the one decision settles both
        _close_case(actor, case, "rejected", reason)
    elif task.moderation_status == ModerationStatus.REJECTED or task.status == TaskStatus.REMOVED:
        raise Conflict(ALREADY_HANDLED)
    elif task.status not in (TaskStatus.DRAFT, TaskStatus.OPEN):
        raise Conflict("Only a task that is still hiring can be rejected; someone is already working on this "
                       "one. Remove it instead, once its engagements are cancelled or resolved.")
    holds.refuse("task", task, reason)
    record(actor, "reject", "task", task.id, subject_user_id=task.business_id, reason=reason, details=details)
    notify(task.business_id, "moderation_rejected", "Your task was rejected by our moderation team",
           f"{target.title} is no longer visible to specialists. Reason: {reason} "
           "You can edit the task to send it for review again.", target.path)


def _refuse_while_money_moves(task_id: int) -> None:
    """A task with a live engagement can't be removed: its money must be settled first (an operator can
    cancel a funded engagement with a full refund, or resolve its dispute)."""
    from marketplace.engagements.models import Engagement, LIVE_ENGAGEMENT_STATUSES
    live = db.session.scalar(select(Engagement.id).where(Engagement.task_id == task_id,
                                                         Engagement.status.in_(LIVE_ENGAGEMENT_STATUSES)).limit(1))
    if live is not None:
        raise Conflict("This task has an engagement in progress: cancel it (the business is refunded) or resolve "
                       "its dispute first, then remove the task.")


def _remove(actor: User, target: Target, reason: str, details: str) -> None:
    kind = target.target_type
    item = target.item
    if kind == "task":
        from marketplace.bidding.services import decline_pending_bids
        from marketplace.tasks.models import Task, TaskStatus
        _refuse_while_money_moves(item.id)
        changed = db.session.execute(update(Task).where(Task.id == item.id, Task.status != TaskStatus.REMOVED)
                                     .values(status=TaskStatus.REMOVED, closed_at=utcnow(), moderation_note=reason)
                                     .execution_options(synchronize_session=False))
        if changed.rowcount != 1:
            raise Conflict(ALREADY_HANDLED)
        db.session.refresh(item)
        case = holds.open_case_for("task", item.id)
        if case is not None:   # a removed task leaves nothing waiting in the queue
            _close_case(actor, case, "removed", reason)
        decline_pending_bids(item, "This task was removed by our moderation team.")
    elif kind in ("bid", "message"):
        from marketplace.tasks.models import ModerationStatus
        case = holds.open_case_for(kind, item.id)
        if case is not None:
            _close_case(actor, case, "removed", reason)
        elif item.moderation_status == ModerationStatus.REJECTED:
            raise Conflict(ALREADY_HANDLED)
        holds.refuse(kind, item, reason)
    elif kind == "review":
        try:
            from marketplace.reviews.services import hide_review
        except ImportError:
            raise Conflict("Hiding reviews is not available yet.") from None
        hide_review(actor, item.id, reason)   # writes its own audit entry and tells the author
        return
    else:
        raise ValidationFailed("That action isn't available for this kind of item.")
    record(actor, "remove", kind, item.id, subject_user_id=target.owner_id, reason=reason, details=details)
    notify(target.owner_id, "moderation_removed", f"Your {TYPE_LABELS[kind]} was removed by our moderation team",
           f"{target.title} was removed. Reason: {reason}", target.path if kind != "task" else "")


# --- accounts -------------------------------------------------------------------------------

def _require_ordinary_user(actor: User, user: User, verb: str) -> None:
    if user.id == actor.id:
        raise Forbidden(f"You can't {verb} your own account.")
    if user.is_operator:
        raise Forbidden(f"Operators can't {verb} other operators.")


def _warn(actor: User, user: User, reason: str, *, target: Target | None = None, details: str = "") -> None:
    _require_ordinary_user(actor, user, "warn")
    about = f" about your {TYPE_LABELS[target.target_type]} ({target.title})" if target else ""
    record(actor, "warn", target.target_type if target else "user", target.target_id if target else user.id,
           subject_user_id=user.id, reason=reason, details=details)
    notify(user, "moderation_warning", "A warning from our moderation team",
           f"Our team reviewed your activity{about}. Reason: {reason} "
           "Further problems can lead to the suspension of your account.", target.path if target else "")


def warn_user(actor: User, user_id: int, reason: str) -> None:
    require_operator(actor)
    reason = _reason(reason)
    _warn(actor, _user(user_id), reason)


def suspend_user(actor: User, user_id: int, reason: str) -> int:
    """Suspend the account: no login, sessions end, open tasks hidden, pending proposals withdrawn.

    Nothing is deleted. Returns how many pending proposals were withdrawn.
    """
    require_operator(actor)
    reason = _reason(reason)
    user = _user(user_id)
    _require_ordinary_user(actor, user, "suspend")
    changed = db.session.execute(
        update(User).where(User.id == user.id, User.status == AccountStatus.ACTIVE)
        # A new session token ends every session and remember-me cookie now, so reinstating later
        # does not bring old (possibly stolen) sessions back.
        .values(status=AccountStatus.SUSPENDED, suspended_at=utcnow(), suspension_reason=reason,
                session_token=new_session_token())
        .execution_options(synchronize_session=False))
    if changed.rowcount != 1:
        raise Conflict("Already handled: this account is already suspended.")
    db.session.refresh(user)
    from marketplace.bidding.models import Bid, BidStatus
    withdrawn = db.session.execute(
        update(Bid).where(Bid.freelancer_id == user.id, Bid.status == BidStatus.PENDING)
        .values(status=BidStatus.WITHDRAWN, updated_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    record(actor, "suspend", "user", user.id, subject_user_id=user.id, reason=reason,
           details=f"{withdrawn} pending proposal{'s' if withdrawn != 1 else ''} withdrawn" if withdrawn else "")
    notify(user, "moderation_suspended", "Your account has been suspended",
           f"Our moderation team suspended your account. Reason: {reason} "
           "Your open tasks are hidden and pending proposals withdrawn; nothing has been deleted. "
           "Reply to this email if you believe this is a mistake.")
    return withdrawn


def reinstate_user(actor: User, user_id: int, reason: str = "") -> None:
    """Lift a suspension: tasks are visible again; withdrawn proposals stay withdrawn."""
    require_operator(actor)
    reason = _reason(reason, required=False)
    user = _user(user_id)
    _require_ordinary_user(actor, user, "reinstate")
    changed = db.session.execute(
        update(User).where(User.id == user.id, User.status == AccountStatus.SUSPENDED)
        .values(status=AccountStatus.ACTIVE).execution_options(synchronize_session=False))
    if changed.rowcount != 1:
        raise Conflict("Already handled: this account is not suspended.")
    db.session.refresh(user)
    record(actor, "reinstate", "user", user.id, subject_user_id=user.id, reason=reason)
    notify(user, "moderation_reinstated", "Your account has been reinstated",
           "You can log in and use the marketplace again. Your tasks are visible again; proposals withdrawn "
           "during the suspension stay withdrawn." + (f" Note from our team: {reason}" if reason else ""))


def get_user(actor: User, user_id: int) -> User:
    require_operator(actor)
    return _user(user_id)


def open_case_ids_for(target_type: str, target_id: int) -> list[int]:
    return list(db.session.scalars(select(ModerationCase.id).where(ModerationCase.target_type == target_type,
                                                                   ModerationCase.target_id == target_id,
                                                                   ModerationCase.status == "open")))
