"""About the client: what a specialist wants to know about a business before proposing."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from marketplace.accounts.models import User
from marketplace.contracts.models import Contract
from marketplace.core.time import as_utc
from marketplace.engagements.models import Engagement, EngagementStatus
from marketplace.extensions import db
from marketplace.profiles.models import BusinessProfile
from marketplace.reviews.models import Review


@dataclass
class ClientFacts:
    user_id: int
    name: str
    company: str
    industry: str
    size: str
    avatar_token: str | None
    member_since: datetime
    hires: int                 # contracts opened
    spent: int                 # released to specialists in `currency` (completed payables, dispute releases)
    currency: str
    rating: float | None       # the average of specialists' revealed reviews, as on the rest of the site
    rating_count: int


def client_facts(business: User, currency: str) -> ClientFacts:
    """One query: the company row and three aggregates as scalar subqueries."""
    hires = select(func.count(Contract.id)).where(Contract.business_id == business.id).scalar_subquery()
    spent = (select(func.coalesce(func.sum(func.coalesce(Engagement.resolution_release, Engagement.amount)), 0))
             .where(Engagement.business_id == business.id, Engagement.currency == currency,
                    Engagement.status.in_((EngagementStatus.COMPLETED, EngagementStatus.RESOLVED)))
             .scalar_subquery())
    visible = (Review.subject_id == business.id, Review.author_role == "freelancer",
               Review.revealed_at.is_not(None), Review.hidden_at.is_(None))
    rating = select(func.avg(Review.stars)).where(*visible).scalar_subquery()
    rating_count = select(func.count(Review.id)).where(*visible).scalar_subquery()
    row = db.session.execute(
        select(BusinessProfile.company_name, BusinessProfile.industry, BusinessProfile.size,
               hires.label("hires"), spent.label("spent"), rating.label("rating"), rating_count.label("rating_count"))
        .select_from(User).outerjoin(BusinessProfile, BusinessProfile.user_id == User.id)
        .where(User.id == business.id)).one()
    return ClientFacts(user_id=business.id, name=business.full_name, company=row.company_name or "",
                       industry=row.industry or "", size=row.size or "", avatar_token=business.avatar_token,
                       member_since=as_utc(business.created_at), hires=row.hires or 0, spent=int(row.spent or 0),
                       currency=currency, rating=float(row.rating) if row.rating is not None else None,
                       rating_count=row.rating_count or 0)
