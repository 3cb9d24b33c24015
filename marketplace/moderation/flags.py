"""Reports ("flags") from users: what can be reported, by whom, and the operators' grouped view.

A user reports a task, a profile, a bid, a message or a review they can see and
that is not their own. One open flag per reporter and target (a partial unique
index backs the rule); the operator console groups open flags per target.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from marketplace.accounts.models import AccountStatus, Role, User
from marketplace.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from marketplace.extensions import db
from marketplace.moderation.models import FLAG_REASONS, TARGET_TYPES, Flag
from marketplace.tasks.models import ModerationStatus

DETAILS_MAX = 1000
REASON_LABELS = dict(FLAG_REASONS)
TYPE_LABELS = {"task": "task", "profile": "profile", "bid": "proposal", "message": "message", "review": "review"}
DUPLICATE = "You already reported this; our team is looking at it."


@dataclass
class Target:
    """A reportable thing: the row, its owner, and a short description for pages."""
    target_type: str
    target_id: int
    item: object
    owner_id: int | None
    title: str          # "Task “Bilingual chat support…”", "Message in “…”"
    body: str           # the content an operator reviews
    path: str           # where the item lives on the site ("" when it has no page)


def _load(target_type: str, target_id: int):
    if target_type == "task":
        from marketplace.tasks.models import Task
        return db.session.get(Task, target_id)
    if target_type == "profile":
        return db.session.get(User, target_id)
    if target_type == "bid":
        from marketplace.bidding.models import Bid
        return db.session.get(Bid, target_id)
    if target_type == "message":
        from marketplace.messaging.models import Message
        return db.session.get(Message, target_id)
    if target_type == "review":
        from marketplace.reviews.models import Review
        return db.session.get(Review, target_id)
    return None


def describe(target_type: str, item) -> Target:
    """The target's owner, a title, the content and its page (for the report form and the console)."""
    if target_type == "task":
        return Target("task", item.id, item, item.business_id, f"Task “{item.title}”", item.description,
                      f"/tasks/{item.id}")
    if target_type == "profile":
        profile_text = ""
        if item.role == Role.FREELANCER:
            from marketplace.profiles.models import FreelancerProfile
            profile = db.session.get(FreelancerProfile, item.id)
            if profile is not None:
                profile_text = "\n\n".join(p for p in (profile.headline, profile.bio) if p)
            path = f"/freelancers/{item.id}"
        else:
            from marketplace.profiles.models import BusinessProfile
            profile = db.session.get(BusinessProfile, item.id)
            if profile is not None:
                profile_text = " · ".join(p for p in (profile.company_name, getattr(profile, "website", "")) if p)
            path = ""
        return Target("profile", item.id, item, item.id, f"Profile of {item.full_name}", profile_text, path)
    if target_type == "bid":
        return Target("bid", item.id, item, item.freelancer_id, f"Proposal on “{item.task.title}”", item.cover_note,
                      f"/tasks/{item.task_id}#bid-{item.id}")
    if target_type == "message":
        from marketplace.messaging.models import Thread
        thread = db.session.get(Thread, item.thread_id)
        return Target("message", item.id, item, item.sender_id, f"Message about “{thread.task.title}”", item.body,
                      f"/messages/{item.thread_id}#m-{item.id}")
    if target_type == "review":
        return Target("review", item.id, item, item.author_id, f"Review of {item.subject.full_name}",
                      item.public_comment, "")
    raise ValueError(target_type)


def find_target(target_type: str, target_id: int) -> Target:
    """The target whatever its state (operators); NotFound for unknown types and ids."""
    if target_type not in TARGET_TYPES:
        raise NotFound("We couldn't find that.")
    item = _load(target_type, target_id)
    if item is None or (target_type == "profile" and item.role == Role.OPERATOR):
        raise NotFound("We couldn't find that.")
    return describe(target_type, item)


def _authenticated(user) -> bool:
    return user is not None and not getattr(user, "is_anonymous", True)


def can_see(reporter: User, target: Target) -> bool:
    """Whether `reporter` can see the target (the rule the pages follow)."""
    item = target.item
    if target.target_type == "task":
        from marketplace.tasks.services import can_view
        return can_view(reporter, item)
    if target.target_type == "profile":
        if item.status != AccountStatus.ACTIVE:
            return False
        if item.role == Role.FREELANCER:
            return True   # specialist profiles are public
        # Businesses have no public page: only someone who has dealt with one (a conversation) or can
        # see one of its listed tasks may report it, so the report page reveals no one else's identity.
        return item.role == Role.BUSINESS and _business_is_known_to(reporter, item.id)
    if target.target_type == "bid":
        from marketplace.bidding.models import BidStatus
        # Proposals are shown to the task's business only (and the bidder, who can't report their own).
        return (reporter.id == item.task.business_id and item.status != BidStatus.WITHDRAWN
                and item.moderation_status == ModerationStatus.APPROVED)
    if target.target_type == "message":
        from marketplace.messaging.models import Thread
        thread = db.session.get(Thread, item.thread_id)
        return (reporter.id in (thread.business_id, thread.freelancer_id)
                and item.moderation_status == ModerationStatus.APPROVED)
    if target.target_type == "review":
        public = item.revealed_at is not None and item.hidden_at is None
        return public or (reporter.id == item.subject_id and item.revealed_at is not None)
    return False


def _business_is_known_to(reporter: User, business_id: int) -> bool:
    from sqlalchemy import exists, or_, select

    from marketplace.messaging.models import Thread
    from marketplace.tasks.models import Task
    from marketplace.tasks.search import listed_task_clause
    return bool(db.session.scalar(select(or_(
        exists().where(Thread.business_id == business_id, Thread.freelancer_id == reporter.id),
        exists().where(Task.business_id == business_id, listed_task_clause())))))


def reportable_target(reporter: User, target_type: str, target_id: int) -> Target:
    """The target if `reporter` may report it; refuses their own things and things they can't see."""
    if not _authenticated(reporter):
        raise Forbidden("Log in to report something.")
    if reporter.is_operator:
        raise Forbidden("Operators act on items from the moderation console.")
    if reporter.status != AccountStatus.ACTIVE:
        raise Forbidden("This account is suspended.")
    target = find_target(target_type, target_id)
    if target.owner_id == reporter.id:
        raise ValidationFailed(f"You can't report your own {TYPE_LABELS[target_type]}.")
    if not can_see(reporter, target):
        raise NotFound("We couldn't find that.")
    return target


def has_open_flag(reporter: User, target_type: str, target_id: int) -> bool:
    return db.session.scalar(select(Flag.id).where(Flag.reporter_id == reporter.id, Flag.target_type == target_type,
                                                   Flag.target_id == target_id, Flag.status == "open")) is not None


def report(reporter: User, target_type: str, target_id: int, reason: str, details: str = "") -> Flag:
    """File a flag. One open flag per reporter and target: a second one is refused with a clear message."""
    target = reportable_target(reporter, target_type, target_id)
    if reason not in REASON_LABELS:
        raise ValidationFailed("Choose a reason from the list.", field="reason")
    details = (details or "").strip()
    if len(details) > DETAILS_MAX:
        raise ValidationFailed(f"Keep the details under {DETAILS_MAX} characters.", field="details")
    if has_open_flag(reporter, target_type, target_id):
        raise Conflict(DUPLICATE)
    flag = Flag(reporter_id=reporter.id, target_type=target_type, target_id=target_id,
                target_owner_id=target.owner_id, reason=reason, details=details, status="open")
    try:
        with db.session.begin_nested():
            db.session.add(flag)
            db.session.flush()
    except IntegrityError:
        raise Conflict(DUPLICATE) from None   # a parallel submission (double click) got there first
    return flag


def open_flags_on(target_type: str, target_id: int) -> list[Flag]:
    return list(db.session.scalars(select(Flag).where(Flag.target_type == target_type, Flag.target_id == target_id,
                                                      Flag.status == "open").order_by(Flag.created_at, Flag.id)))


def flags_on(target_type: str, target_id: int) -> list[Flag]:
    return list(db.session.scalars(select(Flag).where(Flag.target_type == target_type, Flag.target_id == target_id)
                                   .order_by(Flag.created_at.desc(), Flag.id.desc())))


def flags_against(user_id: int, limit: int = 20) -> list[Flag]:
    """Flags on anything the user owns, newest first (the owner's history in the console)."""
    return list(db.session.scalars(select(Flag).where(Flag.target_owner_id == user_id)
                                   .order_by(Flag.created_at.desc(), Flag.id.desc()).limit(limit)))


def count_flags_against(user_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Flag).where(Flag.target_owner_id == user_id)) or 0
