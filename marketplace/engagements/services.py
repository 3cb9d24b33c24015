"""Reading engagements; their payment transitions come with the payments feature."""
from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from marketplace.accounts.models import User
from marketplace.core.errors import NotFound
from marketplace.engagements.models import Engagement
from marketplace.extensions import db


def get_engagement_for(actor: User, engagement_id: int) -> Engagement:
    """The engagement if the actor is its business, its specialist or an operator."""
    engagement = db.session.scalar(select(Engagement).where(Engagement.id == engagement_id)
                                   .options(selectinload(Engagement.task), selectinload(Engagement.business),
                                            selectinload(Engagement.freelancer),
                                            selectinload(Engagement.events)))
    if engagement is None or not (actor.id in (engagement.business_id, engagement.freelancer_id)
                                  or actor.is_operator):
        raise NotFound("We couldn't find that engagement.")
    return engagement


def engagements_of(actor: User) -> list[Engagement]:
    return list(db.session.scalars(
        select(Engagement).where(or_(Engagement.business_id == actor.id, Engagement.freelancer_id == actor.id))
        .order_by(Engagement.created_at.desc(), Engagement.id.desc())
        .options(selectinload(Engagement.task), selectinload(Engagement.business),
                 selectinload(Engagement.freelancer))))
