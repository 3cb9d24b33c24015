"""Shared helpers for the review tests."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from marketplace.contracts.models import ContractStatus
from marketplace.core.time import utcnow
from marketplace.engagements.models import EngagementStatus
from marketplace.extensions import db
from marketplace.reviews.models import Review
from marketplace.reviews.services import ReviewData, submit_review
from tests import factories

ALL_FIVES = {"listening": 5, "acknowledging": 5, "patience": 5, "positive_language": 5, "follow_through": 5}


def ended_engagement(business=None, freelancer=None, *, days_ago: float = 1, status: str = "completed",
                     title: str | None = None):
    """An engagement that ended `days_ago` (as approval or an operator's resolution leaves it)."""
    business = business or factories.create_business()
    task = factories.create_task(business, status="in_progress", **({"title": title} if title else {}))
    engagement = factories.create_engagement(business, freelancer, task=task)
    engagement.status = EngagementStatus(status)
    engagement.completed_at = utcnow() - timedelta(days=days_ago)
    if status in ("completed", "resolved", "cancelled"):
        # Its contract ended with it (its only milestone), as the state machine leaves it.
        engagement.contract.status = ContractStatus.ENDED
        engagement.contract.ended_at = engagement.completed_at or utcnow()
    db.session.flush()
    return engagement


def business_review(engagement, stars: int = 5, comment: str = "Kind and thorough.", now: datetime | None = None,
                    **scores):
    dims = dict(ALL_FIVES, **scores)
    return submit_review(engagement.business, engagement, ReviewData(stars=stars, public_comment=comment,
                                                                     private_feedback="Internal note.",
                                                                     dimensions=dims), now=now)


def specialist_review(engagement, stars: int = 4, comment: str = "Clear brief, paid on time.",
                      now: datetime | None = None):
    return submit_review(engagement.freelancer, engagement, ReviewData(stars=stars, public_comment=comment), now=now)


def review_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Review))


def review_form(stars="5", comment="Great listener.", feedback="", **scores) -> dict:
    data = {"stars": stars, "public_comment": comment, "private_feedback": feedback}
    data.update({k: str(v) for k, v in scores.items()})
    return data


def business_form(stars="5", comment="Great listener.", **overrides) -> dict:
    scores = {k: str(v) for k, v in ALL_FIVES.items()}
    scores.update({k: str(v) for k, v in overrides.items()})
    return review_form(stars, comment, **scores)
