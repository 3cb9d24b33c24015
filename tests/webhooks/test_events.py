"""Each announced event lands in the outbox of the users it concerns, from the services that cause it."""
from __future__ import annotations

import json

from sqlalchemy import select

from marketplace.bidding import services as bidding
from marketplace.core.events import EVENT_TYPES
from marketplace.engagements import transitions
from marketplace.extensions import db
from marketplace.messaging import services as messaging
from marketplace.reviews.services import ReviewData, submit_review
from marketplace.webhooks import services
from marketplace.webhooks.models import OutgoingEvent
from tests import factories
from tests.contracts.helpers import fund, hire

FIVES = {"listening": 5, "acknowledging": 5, "patience": 5, "positive_language": 5, "follow_through": 5}


def _events(user) -> list[tuple[str, dict]]:
    rows = db.session.scalars(select(OutgoingEvent).where(OutgoingEvent.user_id == user.id).order_by(OutgoingEvent.id))
    return [(row.type, json.loads(row.payload)["data"]) for row in rows]


def test_the_services_announce_what_happened_to_both_sides():
    business, specialist = factories.create_business(), factories.create_freelancer()
    for user in (business, specialist):
        services.create_endpoint(user, "http://127.0.0.1:9/hooks", list(EVENT_TYPES))
    task = factories.create_task(business)
    invitation = bidding.invite(business, task, specialist.id)
    bidding.answer_invitation(specialist, invitation, accept=True)
    bidding.place_bid(specialist, task, amount=40_000, estimated_hours=None, cover_note="Glad to help.")
    thread = messaging.get_or_create_thread(task, specialist.id)
    messaging.post_message(specialist, thread, "When do we start?")
    _, milestone = hire(business, specialist)
    fund(milestone)
    transitions.deliver(specialist, milestone, "All tickets answered.")
    transitions.approve(business, milestone)
    submit_review(specialist, milestone, ReviewData(5, "Clear brief."))
    submit_review(business, milestone, ReviewData(5, "Wonderful.", dimensions=FIVES))
    _, disputed = hire(business, specialist)
    fund(disputed)
    transitions.open_dispute(business, disputed, "Nobody answered the queue.")

    business_types = [kind for kind, _ in _events(business)]
    assert business_types == ["invitation.answered", "proposal.received", "message.received", "engagement.funded",
                              "engagement.delivered", "engagement.approved", "review.revealed",
                              "engagement.funded", "engagement.disputed"]
    specialist_types = [kind for kind, _ in _events(specialist)]
    assert specialist_types == ["engagement.funded", "engagement.delivered", "engagement.approved",
                                "review.revealed", "engagement.funded", "engagement.disputed"]
    funded = dict(_events(business))["engagement.disputed"]
    assert funded["engagement_id"] == disputed.id and funded["status"] == "disputed"


def test_users_without_endpoints_get_no_rows():
    business, specialist = factories.create_business(), factories.create_freelancer()
    task = factories.create_task(business)
    bidding.place_bid(specialist, task, amount=40_000, estimated_hours=None, cover_note="Glad to help.")
    assert db.session.scalar(select(OutgoingEvent.id)) is None
