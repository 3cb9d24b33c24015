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
from marketplace.reviews.services import business_rating


@dataclass
class ClientFacts:
    user_id: int
    name: str
    company: str
    industry: str
    size: str
    avatar_token: str | None
    member_since: datetime
    hires: int                       # contracts opened
    spent: dict[str, int]            # currency -> released to specialists (completed payables and dispute releases)
    rating: float | None
    rating_count: int


def client_facts(business: User) -> ClientFacts:
    profile = db.session.get(BusinessProfile, business.id)
    hires = db.session.scalar(select(func.count(Contract.id)).where(Contract.business_id == business.id)) or 0
    spent_rows = db.session.execute(
        select(Engagement.currency,
               func.sum(func.coalesce(Engagement.resolution_release, Engagement.amount)))
        .where(Engagement.business_id == business.id,
               Engagement.status.in_((EngagementStatus.COMPLETED, EngagementStatus.RESOLVED)))
        .group_by(Engagement.currency)).all()
    rating = business_rating(business.id)
    return ClientFacts(user_id=business.id, name=business.full_name,
                       company=(profile.company_name if profile else "") or "",
                       industry=(profile.industry if profile else "") or "", size=(profile.size if profile else "") or "",
                       avatar_token=business.avatar_token, member_since=as_utc(business.created_at), hires=hires,
                       spent={currency: int(total or 0) for currency, total in spent_rows if total},
                       rating=rating.average, rating_count=rating.count)
