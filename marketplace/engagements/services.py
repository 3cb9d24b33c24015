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


class PageView:
    """What the viewer of an engagement page may do next (plain predicates for the template)."""

    def __init__(self, actor: User, engagement: Engagement):
        status = engagement.status.value
        self.is_business = actor.id == engagement.business_id
        self.is_freelancer = actor.id == engagement.freelancer_id
        self.can_fund = self.is_business and status == "awaiting_funding"
        milestone = engagement.payable_kind.value == "milestone"   # invoices and bonuses need no delivery
        self.can_deliver = self.is_freelancer and status == "active" and milestone
        self.can_review = self.is_business and status == "delivered"
        self.can_cancel = ((self.is_business or self.is_freelancer) and status == "awaiting_funding") or (
            self.is_freelancer and status == "active")
        # A weekly invoice is disputed entry by entry from its invoice page (marketplace/invoicing/).
        self.can_dispute = ((self.is_business or self.is_freelancer) and status in ("active", "delivered")
                            and engagement.payable_kind.value != "invoice")
        self.has_receipt = (self.is_business or actor.is_operator) and engagement.funded_at is not None


def page_view(actor: User, engagement: Engagement) -> PageView:
    return PageView(actor, engagement)


def thread_id_of(engagement: Engagement) -> int | None:
    from marketplace.messaging.models import Thread
    return db.session.scalar(select(Thread.id).where(Thread.engagement_id == engagement.id).limit(1))


def timeline_for(viewer: User, engagement: Engagement) -> list:
    """The engagement's timeline as `viewer` may read it: a declined or failed payment (and the card
    issuer's reason) is the business's private business, so the specialist doesn't see those lines."""
    from marketplace.engagements.transitions import PAYMENT_FAILED_NOTE
    if viewer.id == engagement.business_id or viewer.is_operator:
        return list(engagement.events)
    return [event for event in engagement.events if not (event.from_status == event.to_status
                                                          and event.note.startswith(PAYMENT_FAILED_NOTE))]
