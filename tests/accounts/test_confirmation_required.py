"""Acting on the marketplace waits for a confirmed email address (accounts/confirmation.py)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marketplace.accounts.confirmation import EmailNotConfirmed
from marketplace.bidding import services as bidding
from marketplace.bidding.models import Bid, BidStatus
from marketplace.core.time import utcnow
from marketplace.engagements.hiring import accept_bid
from marketplace.extensions import db
from marketplace.messaging import services as messaging
from marketplace.messaging.models import Message
from marketplace.tasks import services as tasks
from marketplace.tasks.models import Task
from tests import factories
from tests.tasks.helpers import plain, sign_in


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_an_unconfirmed_specialist_sees_the_prompt_instead_of_the_proposal_form_and_cannot_post_one(client):
    task = factories.create_task()
    specialist = factories.create_freelancer(verified=False)
    sign_in(client, specialist)
    page = plain(client.get(f"/tasks/{task.id}"))
    assert "Confirm your email address before you send proposals" in page
    assert "Send the link again" in page and "Send a proposal" not in page

    before = _count(Bid)
    response = client.post(f"/tasks/{task.id}/bids", data={"amount": "450", "estimated_hours": "",
                                                            "cover_note": "I can help with this queue.",
                                                            "availability_note": ""})
    assert response.status_code in (302, 400, 403)
    assert _count(Bid) == before
    with pytest.raises(EmailNotConfirmed):
        bidding.place_bid(specialist, task, amount=45_000, estimated_hours=None, cover_note="Hello there.")


def test_an_unconfirmed_business_cannot_post_publish_invite_or_hire():
    business = factories.create_business(verified=False)
    draft = factories.create_task(business, status="draft")
    today = utcnow().date()
    data = tasks.TaskData(title="Chat cover", description="Kind replies.", channel="chat", timezone="UTC",
                          work_hours_start=9, work_hours_end=17, start_date=today + timedelta(days=3),
                          end_date=today + timedelta(days=5), pricing="fixed", budget=50_000,
                          required_skills={draft.skills[0].skill_id: 2}, languages=["en"])
    before = _count(Task)
    with pytest.raises(EmailNotConfirmed, match="before you post tasks"):
        tasks.create_task(business, data)
    assert _count(Task) == before
    with pytest.raises(EmailNotConfirmed, match="before you publish tasks"):
        tasks.publish_task(business, draft)

    task = factories.create_task(business)
    specialist = factories.create_freelancer()
    with pytest.raises(EmailNotConfirmed):
        bidding.invite(business, task, specialist.id)
    bid = Bid(task_id=task.id, freelancer_id=specialist.id, amount=40_000, cover_note="Happy to help.",
              status=BidStatus.PENDING)
    db.session.add(bid)
    db.session.flush()
    with pytest.raises(EmailNotConfirmed, match="before you hire"):
        accept_bid(business, bid)
    db.session.refresh(bid)
    assert bid.status == BidStatus.PENDING


def test_an_unconfirmed_user_cannot_message_and_every_page_offers_a_new_link(client):
    task = factories.create_task()
    specialist = factories.create_freelancer(verified=False)
    thread = messaging.get_or_create_thread(task, specialist.id)
    before = _count(Message)
    with pytest.raises(EmailNotConfirmed, match="before you send messages"):
        messaging.post_message(specialist, thread, "Hello!")
    assert _count(Message) == before
    sign_in(client, specialist)
    for path in ("/dashboard", "/tasks", f"/messages/{thread.id}"):
        body = client.get(path).get_data(as_text=True)
        assert 'data-testid="confirm-email-prompt"' in body and "/verify/resend" in body, path


def test_a_confirmed_user_sees_no_prompt(client):
    sign_in(client, factories.create_freelancer())
    assert "confirm-email-prompt" not in client.get("/dashboard").get_data(as_text=True)
