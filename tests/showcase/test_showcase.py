"""Profiles that sell, the client box, comparing proposals and the "what now" dashboards."""
from __future__ import annotations

from datetime import timedelta

from marketplace.bidding.models import Invitation, InvitationStatus
from marketplace.core.time import utcnow
from marketplace.engagements.models import EngagementStatus
from marketplace.extensions import db
from marketplace.messaging import services as messaging
from marketplace.messaging.models import Message
from marketplace.profiles.models import BusinessProfile
from marketplace.reviews.models import Review
from marketplace.showcase.completeness import completeness
from marketplace.showcase.track_record import track_record, typical_response_minutes
from tests import factories
from tests.tasks.helpers import add_bid, make_profile, text


def completed(business, freelancer, amount=50_000, when=None, title="Weekend chat cover"):
    engagement = factories.create_engagement(business, freelancer, amount=amount,
                                             task=factories.create_task(business, status="completed", title=title))
    engagement.status = EngagementStatus.COMPLETED
    engagement.completed_at = when or utcnow()
    db.session.flush()
    return engagement


def company(business, name: str, show: bool) -> None:
    profile = db.session.get(BusinessProfile, business.id)
    profile.company_name, profile.show_work_history = name, show
    db.session.flush()


def test_jobs_repeat_clients_and_work_history_only_with_permission(client, freelancer):
    profile = make_profile(freelancer)
    loyal, private = factories.create_business(), factories.create_business()
    company(loyal, "Brightline", True)
    company(private, "Quiet Corp", False)
    first = completed(loyal, freelancer, title="Launch weekend chat")
    completed(loyal, freelancer, title="Holiday phone queue")
    completed(private, freelancer, title="Secret migration support")
    db.session.add(Review(contract_id=first.contract_id, engagement_id=first.id, author_id=loyal.id,
                          subject_id=freelancer.id, author_role="business", stars=5, public_comment="Calm and kind",
                          revealed_at=utcnow()))
    db.session.flush()
    record = track_record(profile)
    assert (record.jobs_completed, record.repeat_clients) == (3, 1)
    assert [w.task_title for w in record.work_history] == ["Holiday phone queue", "Launch weekend chat"]
    assert record.work_history[1].stars == 5 and record.work_history[1].company == "Brightline"
    page = text(client.get(f"/freelancers/{freelancer.id}"))
    assert "Launch weekend chat" in page and "Calm and kind" in page and "Secret migration" not in page
    assert "Member since" in page and 'data-testid="jobs-completed">3<' in page.replace("\n", "")


def test_typical_response_time_is_the_median_first_answer(business, freelancer):
    start = utcnow() - timedelta(days=3)
    for i, minutes in enumerate((10, 30, 240)):
        thread = messaging.get_or_create_thread(factories.create_task(business, title=f"Task {i}"), freelancer.id)
        asked = start + timedelta(hours=i * 10)
        db.session.add_all([
            Message(thread_id=thread.id, sender_id=business.id, body="Are you free?", created_at=asked),
            Message(thread_id=thread.id, sender_id=business.id, body="Hello?", created_at=asked + timedelta(minutes=5)),
            Message(thread_id=thread.id, sender_id=freelancer.id, body="Yes", created_at=asked + timedelta(minutes=minutes)),
        ])
    db.session.flush()
    assert typical_response_minutes(freelancer.id) == 30
    assert typical_response_minutes(factories.create_freelancer().id) is None


def test_completeness_names_the_next_step_to_its_owner_only(client, freelancer, login_as):
    profile = make_profile(freelancer, skills={"zendesk": 3, "intercom": 2, "de-escalation": 4},
                           languages={"en": "native"}, channels=["chat"])
    state = completeness(profile)
    assert state.next_step.key == "photo" and 0 < state.percent < 100
    assert "Your profile is" not in text(client.get(f"/freelancers/{freelancer.id}"))
    login_as(freelancer)
    page = text(client.get(f"/freelancers/{freelancer.id}"))
    assert f"Your profile is {state.percent}% complete" in page and "Next: Upload a photo" in page
    assert "Next: Upload a photo" in text(client.get("/dashboard"))


def test_task_page_compares_proposals_and_describes_the_client(client, business, login_as):
    company(business, "Brightline", False)
    completed(business, factories.create_freelancer(), amount=85_000)
    task = factories.create_task(business, skills={"zendesk": 2}, languages=["en"], title="Bilingual chat cover")
    specialist = factories.create_freelancer(full_name="Maria Fernández")
    make_profile(specialist, skills={"zendesk": 4}, languages={"en": "native"}, channels=["chat"])
    bid = add_bid(task, specialist, amount=42_000, estimated_hours=10)
    thread = messaging.get_or_create_thread(task, specialist.id)
    login_as(business)
    page = text(client.get(f"/tasks/{task.id}"))
    assert "% match" in page and "No reviews yet" in page and "Empathy not rated yet" in page
    assert f'href="/messages/{thread.id}#reply"' in page and 'data-testid="avatar-initials-' in page
    assert f'data-testid="bid-price-{bid.id}">$420.00' in page
    assert "About the client" in page and "Brightline" in page and "$850.00" in page
    client.post("/logout")
    page = text(client.get(f"/tasks/{task.id}"))
    assert "About the client" in page and 'data-testid="client-hires">1<' in page


def test_message_on_a_proposal_card_opens_the_conversation(client, business, login_as):
    from sqlalchemy import select

    from marketplace.messaging.models import Thread
    task = factories.create_task(business)
    bid = add_bid(task, factories.create_freelancer())          # no thread yet (as for older proposals)
    login_as(factories.create_business())
    assert client.post(f"/proposals/{bid.id}/message").status_code == 404
    assert db.session.scalar(select(Thread)) is None
    client.post("/logout")
    login_as(business)
    response = client.post(f"/proposals/{bid.id}/message")
    thread = db.session.scalar(select(Thread))
    assert response.headers["Location"].endswith(f"/messages/{thread.id}#reply")
    assert (thread.task_id, thread.freelancer_id) == (task.id, bid.freelancer_id)
    assert client.post(f"/proposals/{bid.id}/message").headers["Location"].endswith(f"/messages/{thread.id}#reply")


def test_specialist_dashboard_answers_what_now(client, freelancer, login_as):
    make_profile(freelancer)
    business = factories.create_business()
    live = factories.create_engagement(business, freelancer)
    live.status = EngagementStatus.ACTIVE
    completed(business, freelancer, amount=10_000)
    completed(business, freelancer, amount=10_000, when=utcnow() - timedelta(days=70))
    open_task = factories.create_task(business, title="Invite-only phone queue")
    db.session.add(Invitation(task_id=open_task.id, freelancer_id=freelancer.id, status=InvitationStatus.PENDING))
    add_bid(factories.create_task(business, title="Proposal waiting"), freelancer)
    db.session.flush()
    login_as(freelancer)
    page = text(client.get("/dashboard")).replace("\n", "")
    assert 'data-testid="agenda-active">1<' in page and 'data-testid="agenda-invitations">1<' in page
    assert 'data-testid="agenda-proposals">1<' in page and "Invite-only phone queue" in page
    assert 'data-testid="agenda-earned">$90.00<' in page      # this month's payout only, after the 10% fee
    assert 'data-testid="invitation-badge">1' in page


def test_business_dashboard_lists_decisions_deliveries_and_money_held(client, business, login_as):
    task = factories.create_task(business, title="Needs a pick")
    add_bid(task, factories.create_freelancer())
    delivered = factories.create_engagement(business, amount=30_000)
    delivered.status = EngagementStatus.DELIVERED
    active = factories.create_engagement(business, amount=12_000)
    active.status = EngagementStatus.ACTIVE
    factories.create_engagement(business, amount=99_000)     # awaiting funding: nothing held yet
    db.session.flush()
    login_as(business)
    page = text(client.get("/dashboard")).replace("\n", "")
    assert "Needs a pick" in page and "1 proposal" in page and "Fund:" in page
    assert 'data-testid="agenda-delivery"' in page
    assert 'data-testid="agenda-held">$420.00<' in page
