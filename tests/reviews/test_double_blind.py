"""Double-blind: a review is hidden from everyone but its author until both sides reviewed or the window passed."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from marketplace.core.time import utcnow
from marketplace.extensions import db
from marketplace.jobs import _due_jobs
from marketplace.notifications.models import Notification
from marketplace.reviews.models import Review
from marketplace.reviews.services import reveal_due
from tests import factories
from tests.reviews.helpers import business_form, business_review, ended_engagement, review_form, specialist_review
from tests.tasks.helpers import client_for, plain


def test_first_review_is_hidden_from_the_other_side_until_both_have_written(app):
    engagement = ended_engagement(title="Holiday returns desk")
    business, specialist = engagement.business, engagement.freelancer
    as_business, as_specialist = client_for(app, business), client_for(app, specialist)
    stranger = client_for(app, factories.create_business())

    response = as_business.post(f"/engagements/{engagement.id}/review",
                                data=business_form(comment="Calmed every angry caller down."))
    assert response.status_code == 302
    review = db.session.scalar(select(Review).where(Review.author_id == business.id))
    assert review.revealed_at is None and review.stars == 5 and review.patience == 5

    # The author sees their own review, private note included; the specialist sees only that it exists.
    own_page = plain(as_business.get(f"/engagements/{engagement.id}"))
    assert "Calmed every angry caller down." in own_page and "Internal" not in own_page
    assert "Hidden from" in own_page
    their_page = plain(as_specialist.get(f"/engagements/{engagement.id}"))
    assert "Calmed every angry caller down." not in their_page
    assert "has reviewed you. Write your review to see theirs." in their_page
    # Nor on the specialist's public profile, for anyone (the specialist included), and no rating yet.
    for browser in (as_specialist, as_business, stranger, app.test_client()):
        profile = plain(browser.get(f"/freelancers/{specialist.id}"))
        assert "Calmed every angry caller down." not in profile
        assert "No reviews yet" in profile
    # A stranger can't see the engagement at all.
    assert stranger.get(f"/engagements/{engagement.id}").status_code == 404

    response = as_specialist.post(f"/engagements/{engagement.id}/review",
                                  data=review_form(stars="4", comment="Clear brief and quick answers."))
    assert response.status_code == 302
    db.session.expire_all()
    reviews = db.session.scalars(select(Review).where(Review.engagement_id == engagement.id)).all()
    assert len(reviews) == 2 and all(r.revealed_at is not None for r in reviews)
    assert reviews[0].revealed_at == reviews[1].revealed_at   # revealed together, in one transaction

    specialist_page = plain(as_specialist.get(f"/engagements/{engagement.id}"))
    business_page = plain(as_business.get(f"/engagements/{engagement.id}"))
    assert "Calmed every angry caller down." in specialist_page and "Clear brief and quick answers." in specialist_page
    assert "Clear brief and quick answers." in business_page
    assert "Internal" not in specialist_page
    profile = plain(stranger.get(f"/freelancers/{specialist.id}"))
    assert "Calmed every angry caller down." in profile and "1 review" in profile


def test_private_feedback_is_never_shown_to_the_other_side(app):
    engagement = ended_engagement()
    data = business_form(comment="Lovely work.")
    data["private_feedback"] = "Between us: slow on Sunday."
    client_for(app, engagement.business).post(f"/engagements/{engagement.id}/review", data=data)
    specialist_review(engagement)
    page = plain(client_for(app, engagement.freelancer).get(f"/engagements/{engagement.id}"))
    assert "Lovely work." in page and "slow on Sunday" not in page
    assert "slow on Sunday" not in plain(app.test_client().get(f"/freelancers/{engagement.freelancer_id}"))
    assert "slow on Sunday" in plain(client_for(app, engagement.business).get(f"/engagements/{engagement.id}"))


def test_reveal_due_reveals_only_reviews_past_the_window_and_is_idempotent(app):
    old = ended_engagement(days_ago=15)
    recent = ended_engagement(days_ago=3)
    # Written while their windows were open; the other side never answered.
    old_review = business_review(old, stars=4, comment="Old one.", now=utcnow() - timedelta(days=14, hours=12))
    recent_review = business_review(recent, stars=2, comment="Recent one.")
    profile_old, profile_recent = old.freelancer.id, recent.freelancer.id

    assert reveal_due() == 1
    db.session.expire_all()
    assert old_review.revealed_at is not None and recent_review.revealed_at is None
    assert reveal_due() == 0          # a second run changes nothing
    db.session.expire_all()
    from marketplace.profiles.models import FreelancerProfile
    assert db.session.get(FreelancerProfile, profile_old).rating_count == 1       # counted once
    assert db.session.get(FreelancerProfile, profile_old).rating_sum == 4
    assert db.session.get(FreelancerProfile, profile_recent).rating_count == 0
    assert db.session.scalar(select(Notification).where(Notification.user_id == profile_old,
                                                        Notification.kind == "review_revealed")) is not None

    # Now visible to the specialist on the engagement page and to visitors on the profile.
    assert "Old one." in plain(client_for(app, old.freelancer).get(f"/engagements/{old.id}"))
    assert "Old one." in plain(app.test_client().get(f"/freelancers/{profile_old}"))
    assert "Recent one." not in plain(client_for(app, recent.freelancer).get(f"/engagements/{recent.id}"))

    # Eleven days later the recent one is due too.
    assert reveal_due(now=utcnow() + timedelta(days=11)) == 1
    assert reveal_due(now=utcnow() + timedelta(days=11)) == 0


def test_reveal_job_is_wired_into_run_due(app):
    engagement = ended_engagement(days_ago=20)
    review = business_review(engagement, now=utcnow() - timedelta(days=19))
    assert ("reveal reviews", reveal_due) in _due_jobs()
    result = app.test_cli_runner().invoke(args=["jobs", "run-due"])
    assert result.exit_code == 0, result.output
    assert "reveal reviews: 1" in result.output
    db.session.expire_all()
    assert review.revealed_at is not None


def test_resolved_engagements_can_be_reviewed_too():
    engagement = ended_engagement(status="resolved")
    first = specialist_review(engagement)
    second = business_review(engagement)
    assert first.revealed_at is not None and second.revealed_at is not None


def test_dashboard_lists_reviews_still_to_write(app):
    engagement = ended_engagement(title="Spring sale phone line")
    closed = ended_engagement(engagement.business, days_ago=20, title="Old winter desk")
    browser = client_for(app, engagement.business)
    page = plain(browser.get("/dashboard"))
    reminder = page[page.index("Reviews to write:"):page.index("Reviews stay hidden")]
    assert "Spring sale phone line" in reminder and "Old winter desk" not in reminder
    business_review(engagement)
    assert "Reviews to write" not in plain(browser.get("/dashboard"))
    assert "Spring sale phone line" in plain(client_for(app, engagement.freelancer).get("/dashboard"))
    assert closed.id
