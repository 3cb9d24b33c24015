"""Double-blind reviews: writing, revealing, reading and hiding them.

Each side of a contract reviews the other once, after the contract has ended with
at least one milestone approved or resolved by an operator (a contract whose every
payable was cancelled has nothing to review). The review is written from, and shown
on, the contract's last finished milestone (`review_milestone`): its engagement page
already carries the review panel, so only the anchor of uniqueness and of the window
moved to the contract (`Review.contract_id`, unique per author). A review stays
visible only to its author until both sides have reviewed (both are revealed in the
transaction of the second review) or REVIEW_REVEAL_DAYS have passed since the
contract ended (`reveal_due`, a scheduled job); the window for writing closes at the
same moment, so a late reviewer can never read the other side's review first.

Revealing a business's review of a specialist adds it to the specialist's
reputation counters (`FreelancerProfile.rating_*`, `empathy_*`), which matching
reads; an operator hiding a revealed review takes it back out. Both are
conditional UPDATEs (`revealed_at IS NULL`, `hidden_at IS NULL`) and the
counters move with `x = x + n` in SQL, so concurrent reveals and hides neither
double count nor lose updates. Functions only flush; the caller commits.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from marketplace.accounts.models import AccountStatus, User
from marketplace.core import events
from marketplace.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from marketplace.contracts.models import Contract, ContractStatus
from marketplace.core.time import as_utc, utcnow
from marketplace.engagements.models import Engagement, EngagementStatus
from marketplace.extensions import db
from marketplace.matching.scoring import bayesian
from marketplace.notifications.services import notify
from marketplace.profiles.models import FreelancerProfile
from marketplace.reviews.models import EMPATHY_DIMENSIONS, Review

COMMENT_MAX = 2000
FEEDBACK_MAX = 2000
HIDE_REASON_MAX = 500          # Review.hidden_reason column
RECENT_ON_PROFILE = 5
ENDED_STATUSES = (EngagementStatus.COMPLETED, EngagementStatus.RESOLVED)
DIMENSION_KEYS = tuple(key for key, _ in EMPATHY_DIMENSIONS)

ALREADY_REVIEWED = "You have already reviewed this contract. A review can't be changed once it is sent."
ALREADY_HIDDEN = "This review was already hidden by another operator."


# --- rules shared by pages and services ------------------------------------------------------------

def reveal_days() -> int:
    return current_app.config["REVIEW_REVEAL_DAYS"]


def review_milestone(contract: Contract) -> Engagement | None:
    """Where the contract's reviews live: its last milestone that was approved or resolved, once the
    contract has ended (None before, or when nothing was ever completed)."""
    if contract.status != ContractStatus.ENDED:
        return None
    return db.session.scalar(select(Engagement).where(Engagement.contract_id == contract.id,
                                                      Engagement.status.in_(ENDED_STATUSES))
                             .order_by(Engagement.completed_at.desc(), Engagement.id.desc()).limit(1))


def is_reviewable(engagement: Engagement) -> bool:
    """Whether the contract of this payable has ended with work to review."""
    return review_milestone(engagement.contract) is not None


def review_window_closes_at(engagement: Engagement) -> datetime | None:
    """When the double-blind window of the payable's ended contract closes (None while it runs)."""
    contract = engagement.contract
    if contract.ended_at is None or not is_reviewable(engagement):
        return None
    return as_utc(contract.ended_at) + timedelta(days=reveal_days())


def role_on(actor: User, engagement: Engagement) -> str | None:
    if actor.id == engagement.business_id:
        return "business"
    if actor.id == engagement.freelancer_id:
        return "freelancer"
    return None


def bayesian_rating(rating_sum: int, rating_count: int) -> float:
    """The rating shown for a specialist: matching's Bayesian average (same prior and weight)."""
    config = current_app.config
    return bayesian(rating_sum, rating_count, config["MATCH_RATING_PRIOR"], config["MATCH_RATING_PRIOR_WEIGHT"])


def bayesian_rating_sql(rating_sum=FreelancerProfile.rating_sum, rating_count=FreelancerProfile.rating_count):
    """`bayesian_rating` as an SQL expression, for filtering and sorting the directory in the database."""
    config = current_app.config
    prior, weight = float(config["MATCH_RATING_PRIOR"]), float(config["MATCH_RATING_PRIOR_WEIGHT"])
    return (prior * weight + rating_sum * 1.0) / (weight + rating_count)


def specialist_rating(profile: FreelancerProfile) -> float | None:
    """The displayed rating of a profile, or None before its first revealed review."""
    if not profile.rating_count:
        return None
    return bayesian_rating(profile.rating_sum, profile.rating_count)


# --- writing a review ------------------------------------------------------------------------------------

@dataclass
class ReviewData:
    stars: int | None
    public_comment: str = ""
    private_feedback: str = ""
    dimensions: dict[str, int | None] = field(default_factory=dict)   # empathy key -> 1..5 (businesses only)


def _score(value, message: str, field_name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise ValidationFailed(message, field=field_name)
    return value


def _text(value: str | None, limit: int, what: str, field_name: str) -> str:
    value = (value or "").strip()
    if len(value) > limit:
        raise ValidationFailed(f"The {what} can be at most {limit} characters (it has {len(value)}).",
                               field=field_name)
    return value


def _check_can_review(actor: User, engagement: Engagement, now: datetime) -> str:
    """The actor's role on the engagement, if they may review it now; otherwise a clear refusal."""
    if actor.status != AccountStatus.ACTIVE:
        raise Forbidden("This account is suspended.")
    role = role_on(actor, engagement)
    if role is None:
        if actor.is_operator:
            raise Forbidden("Only the business and the specialist on this engagement can review it.")
        raise NotFound("We couldn't find that engagement.")   # don't tell strangers it exists
    if not is_reviewable(engagement):
        raise Conflict("You can review this contract once it has ended (its milestones approved, or resolved "
                       "by an operator).")
    closes = review_window_closes_at(engagement)
    if closes is not None and now >= closes:
        raise Conflict(f"The review window for this contract closed {reveal_days()} days after it ended.")
    return role


def submit_review(actor: User, engagement: Engagement, data: ReviewData, now: datetime | None = None) -> Review:
    """The actor reviews the other side of an ended engagement, once. Reveals both if the other side has too."""
    now = now or utcnow()
    role = _check_can_review(actor, engagement, now)
    stars = _score(data.stars, "Choose an overall rating from 1 to 5 stars.", "stars")
    dimensions = {key: value for key, value in (data.dimensions or {}).items() if value not in (None, "")}
    unknown = set(dimensions) - set(DIMENSION_KEYS)
    if unknown:
        raise ValidationFailed("Unknown review score: " + ", ".join(sorted(unknown)) + ".")
    scores: dict[str, int | None] = {key: None for key in DIMENSION_KEYS}
    if role == "business":
        for key, label in EMPATHY_DIMENSIONS:
            scores[key] = _score(dimensions.get(key), f"Score “{label}” from 1 to 5.", key)
    elif dimensions:
        raise ValidationFailed("Only the business scores the empathy dimensions. As the specialist, give "
                               "overall stars and a comment.")
    comment = _text(data.public_comment, COMMENT_MAX, "public comment", "public_comment")
    feedback = _text(data.private_feedback, FEEDBACK_MAX, "private feedback", "private_feedback")

    # Both sides sending at the same moment must not both miss the other's review (and so reveal
    # neither): the contract row lock puts the second writer after the first's commit.
    contract_id = engagement.contract_id
    db.session.execute(select(Contract.id).where(Contract.id == contract_id).with_for_update())
    if _review_by(contract_id, actor.id) is not None:
        raise Conflict(ALREADY_REVIEWED)
    anchor = review_milestone(engagement.contract)
    subject_id = engagement.freelancer_id if role == "business" else engagement.business_id
    review = Review(contract_id=contract_id, engagement_id=anchor.id, author_id=actor.id, subject_id=subject_id,
                    author_role=role,
                    stars=stars, public_comment=comment, private_feedback=feedback, created_at=now, **scores)
    try:
        with db.session.begin_nested():
            db.session.add(review)
    except IntegrityError:   # the same person in a second tab, a moment earlier
        raise Conflict(ALREADY_REVIEWED)

    other = _review_by(contract_id, subject_id)
    engagement = anchor
    title = engagement.task.title
    if other is not None:
        # Both sides have written: reveal both at once, in this transaction.
        for each in (other, review):
            _reveal(each, now)
        # Their own review may have been hidden by an operator: then only the new one became visible.
        headline = (f"Both reviews of “{title}” are now visible" if other.hidden_at is None
                    else f"{actor.full_name}'s review of you on “{title}” is now visible")
        notify(subject_id, "review_revealed", headline,
               f"{actor.full_name} has reviewed you too. Read it on the engagement page.", _link(engagement))
        for each in (other, review):
            if each.hidden_at is None:
                events.publish("review.revealed", [each.subject_id],
                               {"review_id": each.id, "engagement_id": each.engagement_id})
    else:
        notify(subject_id, "review_received", f"{actor.full_name} reviewed you on “{title}”",
               "Write your review of them to see theirs: reviews stay hidden until both sides have written "
               f"or {reveal_days()} days have passed since the engagement ended.", _link(engagement))
    return review


def _review_by(contract_id: int, author_id: int) -> Review | None:
    return db.session.scalar(select(Review).where(Review.contract_id == contract_id,
                                                  Review.author_id == author_id))


def _link(engagement: Engagement) -> str:
    return f"/engagements/{engagement.id}"


# --- revealing and the reputation counters ------------------------------------------------------------

def _move_counters(review: Review, sign: int) -> None:
    """Add (+1) or subtract (-1) a business's review of a specialist to the specialist's counters, in SQL."""
    if review.author_role != "business":
        return   # reviews of a business are aggregated when read (business_rating)
    scores = [score for _key, _label, score in review.empathy_scores()]
    p = FreelancerProfile
    db.session.execute(
        update(p).where(p.user_id == review.subject_id)
        .values(rating_sum=p.rating_sum + sign * review.stars, rating_count=p.rating_count + sign,
                empathy_sum=p.empathy_sum + sign * sum(scores), empathy_count=p.empathy_count + sign * len(scores))
        .execution_options(synchronize_session=False))
    profile = db.session.identity_map.get(db.session.identity_key(p, review.subject_id))
    if profile is not None:
        db.session.expire(profile, ["rating_sum", "rating_count", "empathy_sum", "empathy_count"])


def _reveal(review: Review, now: datetime) -> bool:
    """Reveal one review if nobody has yet; counts it unless an operator hid it first. Idempotent."""
    result = db.session.execute(
        update(Review).where(Review.id == review.id, Review.revealed_at.is_(None))
        .values(revealed_at=now).execution_options(synchronize_session=False))
    # Our UPDATE holds the row lock now, so hidden_at read below can't change until we commit.
    db.session.refresh(review)
    if result.rowcount != 1:
        return False
    if review.hidden_at is None:
        _move_counters(review, +1)
    return True


def reveal_due(now=None) -> int:
    """Scheduled job: reveal reviews whose double-blind window has passed; returns how many were revealed."""
    now = now or utcnow()
    cutoff = now - timedelta(days=reveal_days())
    due = db.session.scalars(
        select(Review).join(Contract, Contract.id == Review.contract_id)
        .where(Review.revealed_at.is_(None),
               func.coalesce(Contract.ended_at, Review.created_at) <= cutoff)
        .order_by(Review.id)).all()
    revealed = 0
    for review in due:
        if _reveal(review, now):
            revealed += 1
            if review.hidden_at is None:
                notify(review.subject_id, "review_revealed", "A review of your work is now visible",
                       "The review window has closed. Read it on the engagement page.",
                       f"/engagements/{review.engagement_id}")
                events.publish("review.revealed", [review.subject_id],
                               {"review_id": review.id, "engagement_id": review.engagement_id})
    db.session.flush()
    return revealed


REMINDER_KIND = "review_reminder"


def send_review_reminders(now=None) -> int:
    """Scheduled job: one reminder to each side that hasn't reviewed an ended contract once
    `REVIEW_REMINDER_DAYS` have passed, while its review window is still open. Idempotent: a person
    who already has the reminder for that contract (or has reviewed) is skipped."""
    from marketplace.notifications.models import Notification
    now = now or utcnow()
    window_opened_after = now - timedelta(days=reveal_days())
    remind_before = now - timedelta(days=current_app.config["REVIEW_REMINDER_DAYS"])
    contracts = db.session.scalars(
        select(Contract).where(Contract.status == ContractStatus.ENDED, Contract.ended_at > window_opened_after,
                               Contract.ended_at <= remind_before)
        .options(joinedload(Contract.task)).order_by(Contract.id)).all()
    sent = 0
    for contract in contracts:
        engagement = review_milestone(contract)
        if engagement is None:
            continue   # nothing was completed: nothing to review
        closes = review_window_closes_at(engagement)
        for user_id, other in ((engagement.business_id, "the specialist"), (engagement.freelancer_id, "the business")):
            link = f"{_link(engagement)}#reviews"
            person = db.session.get(User, user_id)
            if person.status != AccountStatus.ACTIVE:
                continue   # a suspended account can't write a review
            if _review_by(contract.id, user_id) is not None or db.session.scalar(
                    select(Notification.id).where(Notification.user_id == user_id,
                                                  Notification.kind == REMINDER_KIND,
                                                  Notification.link == link)) is not None:
                continue
            notify(user_id, REMINDER_KIND, f"How did “{engagement.task.title}” go?",
                   f"Your review of {other} helps others choose. Reviews stay hidden until both sides have "
                   f"written theirs; the window closes on {closes:%d %b %Y}.", link)
            sent += 1
    db.session.flush()
    return sent


# --- reading -------------------------------------------------------------------------------------------------

def is_public(review: Review) -> bool:
    return review.revealed_at is not None and review.hidden_at is None


@dataclass
class ReviewPanel:
    """What the viewer of an engagement page may see and do about its reviews."""
    role: str | None
    ended: bool
    own: Review | None = None
    other: Review | None = None          # only once revealed and not hidden
    other_written: bool = False          # the other side has reviewed (its content may still be hidden)
    other_hidden: bool = False           # revealed, then hidden by an operator
    can_review: bool = False
    closes_at: datetime | None = None
    window_closed: bool = False
    operator_view: list[Review] = field(default_factory=list)

    @property
    def other_side(self) -> str:
        return "specialist" if self.role == "business" else "business"


def review_panel(viewer: User, engagement: Engagement, now: datetime | None = None) -> ReviewPanel:
    now = now or utcnow()
    role = role_on(viewer, engagement)
    ended = is_reviewable(engagement)
    panel = ReviewPanel(role=role, ended=ended, closes_at=review_window_closes_at(engagement))
    if not ended:
        return panel
    reviews = list(db.session.scalars(select(Review).where(Review.contract_id == engagement.contract_id)
                                      .options(joinedload(Review.author))))
    if role is None:
        if viewer.is_operator:
            panel.operator_view = reviews
        return panel
    panel.window_closed = panel.closes_at is not None and now >= panel.closes_at
    for review in reviews:
        if review.author_id == viewer.id:
            panel.own = review
        else:
            panel.other_written = True
            if is_public(review):
                panel.other = review
            elif review.revealed_at is not None:
                panel.other_hidden = True
    panel.can_review = (panel.own is None and not panel.window_closed and viewer.status == AccountStatus.ACTIVE)
    return panel


def visible_review(viewer: User | None, review_id: int) -> Review:
    """A review as the viewer may see it: public ones to anyone, unrevealed or hidden ones to their author
    and operators only (NotFound otherwise, without saying it exists)."""
    review = db.session.get(Review, review_id)
    if review is None:
        raise NotFound("We couldn't find that review.")
    if is_public(review):
        return review
    if viewer is not None and getattr(viewer, "is_authenticated", False) and (
            viewer.id == review.author_id or viewer.is_operator):
        return review
    raise NotFound("We couldn't find that review.")


@dataclass
class Reputation:
    """A specialist's public reputation, for the profile page."""
    count: int
    rating: float | None                 # Bayesian (matching's prior); None before any revealed review
    average: float | None                # plain average of the stars
    dimensions: list[tuple[str, str, float | None]]   # (key, label, SQL average)
    recent: list[Review]


def specialist_reputation(profile: FreelancerProfile) -> Reputation:
    public = and_(Review.subject_id == profile.user_id, Review.author_role == "business",
                  Review.revealed_at.is_not(None), Review.hidden_at.is_(None))
    averages = db.session.execute(select(*[func.avg(getattr(Review, key)) for key in DIMENSION_KEYS])
                                  .where(public)).one()
    recent = list(db.session.scalars(select(Review).where(public).options(joinedload(Review.author))
                                     .order_by(Review.revealed_at.desc(), Review.id.desc())
                                     .limit(RECENT_ON_PROFILE)))
    return Reputation(
        count=profile.rating_count, rating=specialist_rating(profile),
        average=profile.rating_sum / profile.rating_count if profile.rating_count else None,
        dimensions=[(key, label, float(value) if value is not None else None)
                    for (key, label), value in zip(EMPATHY_DIMENSIONS, averages)],
        recent=recent)


@dataclass
class BusinessRating:
    average: float | None
    count: int


def business_rating(business_id: int) -> BusinessRating:
    """How specialists rated a business: an aggregate over revealed, visible reviews."""
    average, count = db.session.execute(
        select(func.avg(Review.stars), func.count(Review.id))
        .where(Review.subject_id == business_id, Review.author_role == "freelancer",
               Review.revealed_at.is_not(None), Review.hidden_at.is_(None))).one()
    return BusinessRating(average=float(average) if average is not None else None, count=count or 0)


def reviews_to_write(actor: User, now: datetime | None = None, limit: int = 5) -> list[Engagement]:
    """The review milestones of the actor's ended contracts still in their review window that the actor
    hasn't reviewed, most recently ended first."""
    if not (actor.is_business or actor.is_freelancer):
        return []
    now = now or utcnow()
    since = now - timedelta(days=reveal_days())
    written = select(Review.id).where(Review.contract_id == Contract.id, Review.author_id == actor.id)
    finished = select(Engagement.id).where(Engagement.contract_id == Contract.id,
                                           Engagement.status.in_(ENDED_STATUSES))
    contracts = db.session.scalars(
        select(Contract).where(or_(Contract.business_id == actor.id, Contract.freelancer_id == actor.id),
                               Contract.status == ContractStatus.ENDED, Contract.ended_at > since,
                               ~written.exists(), finished.exists())
        .order_by(Contract.ended_at.desc(), Contract.id.desc()).limit(limit)).all()
    return [milestone for milestone in map(review_milestone, contracts) if milestone is not None]


# --- moderation -----------------------------------------------------------------------------------------------

def hide_review(operator: User, review_id: int, reason: str) -> Review:
    """An operator hides a review with a reason; a revealed one leaves the specialist's counters."""
    from marketplace.moderation import audit
    from marketplace.moderation.access import require_operator

    require_operator(operator)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Please give a reason for hiding this review; its author will see it.",
                               field="reason")
    if len(reason) > HIDE_REASON_MAX:
        raise ValidationFailed(f"The reason can be at most {HIDE_REASON_MAX} characters.", field="reason")
    review = db.session.get(Review, review_id)
    if review is None:
        raise NotFound("We couldn't find that review.")
    result = db.session.execute(
        update(Review).where(Review.id == review.id, Review.hidden_at.is_(None))
        .values(hidden_at=utcnow(), hidden_reason=reason, hidden_by_id=operator.id)
        .execution_options(synchronize_session=False))
    db.session.refresh(review)   # after our UPDATE took the row lock: revealed_at is settled
    if result.rowcount != 1:
        raise Conflict(ALREADY_HIDDEN)
    if review.revealed_at is not None:
        _move_counters(review, -1)
    audit.record(operator, "hide_review", "review", review.id, subject_user_id=review.author_id, reason=reason,
                 details=f"{review.stars}-star review by the {review.author_role} on engagement "
                         f"{review.engagement_id}" + (" (was public)" if review.revealed_at else " (not yet revealed)"))
    engagement = db.session.get(Engagement, review.engagement_id)
    notify(review.author_id, "moderation_review_hidden",
           f"Your review on “{engagement.task.title}” was hidden by an operator",
           f"Reason: {reason}\nIt is no longer shown to anyone else and no longer counts toward the rating.",
           _link(engagement))
    return review
