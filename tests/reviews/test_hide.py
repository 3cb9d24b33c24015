"""Operators hide reviews: counters subtract, audit entry, the author is told why, a second operator is refused."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from marketplace.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from marketplace.extensions import db
from marketplace.moderation.models import AuditEntry
from marketplace.notifications.models import Notification
from marketplace.profiles.models import FreelancerProfile
from marketplace.reviews.services import hide_review, reveal_due
from tests import factories
from tests.reviews.helpers import business_review, ended_engagement, specialist_review
from tests.tasks.helpers import client_for, plain


def _counters(user_id):
    db.session.expire_all()
    p = db.session.get(FreelancerProfile, user_id)
    return p.rating_sum, p.rating_count, p.empathy_sum, p.empathy_count


def test_hiding_a_revealed_review_takes_it_out_of_counters_and_pages(app, operator):
    specialist = factories.create_freelancer()
    kept = ended_engagement(freelancer=specialist)
    business_review(kept, stars=5, comment="Kept review.")
    specialist_review(kept)
    engagement = ended_engagement(freelancer=specialist)
    review = business_review(engagement, stars=1, comment="Rude and abusive words.", patience=1)
    specialist_review(engagement)
    assert _counters(specialist.id) == (6, 2, 46, 10)

    hidden = hide_review(operator, review.id, "Abusive language")
    assert hidden.hidden_at is not None and hidden.hidden_by_id == operator.id and hidden.hidden_reason == "Abusive language"
    assert _counters(specialist.id) == (5, 1, 25, 5)

    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.target_type == "review",
                                                       AuditEntry.target_id == review.id))
    assert entry.action == "hide_review" and entry.actor_id == operator.id and entry.reason == "Abusive language"
    assert entry.subject_user_id == engagement.business_id
    note = db.session.scalar(select(Notification).where(Notification.user_id == engagement.business_id,
                                                        Notification.kind == "moderation_review_hidden"))
    assert note is not None and "Abusive language" in note.body

    profile = plain(app.test_client().get(f"/freelancers/{specialist.id}"))
    assert "Rude and abusive words." not in profile and "Kept review." in profile and "1 review" in profile
    their_page = plain(client_for(app, specialist).get(f"/engagements/{engagement.id}"))
    assert "Rude and abusive words." not in their_page and "hidden by an operator" in their_page
    author_page = plain(client_for(app, engagement.business).get(f"/engagements/{engagement.id}"))
    assert "An operator hid this review: Abusive language" in author_page


def test_second_operator_is_told_it_was_already_hidden_and_nothing_moves_twice(operator):
    engagement = ended_engagement()
    review = business_review(engagement, stars=4)
    specialist_review(engagement)
    hide_review(operator, review.id, "Contains a phone number")
    before = _counters(engagement.freelancer_id)
    with pytest.raises(Conflict, match="already hidden by another operator"):
        hide_review(factories.create_operator(), review.id, "Spam")
    assert _counters(engagement.freelancer_id) == before == (0, 0, 0, 0)
    assert len(db.session.scalars(select(AuditEntry).where(AuditEntry.target_id == review.id,
                                                           AuditEntry.target_type == "review")).all()) == 1


def test_hiding_before_reveal_means_the_review_never_counts(operator):
    engagement = ended_engagement(days_ago=20)
    review = business_review(engagement, stars=2, now=engagement.completed_at)
    hide_review(operator, review.id, "Off-platform payment request")
    assert _counters(engagement.freelancer_id) == (0, 0, 0, 0)
    assert reveal_due() == 1          # the window passes: revealed, but hidden, so still not counted
    assert _counters(engagement.freelancer_id) == (0, 0, 0, 0)


@pytest.mark.parametrize("who", ["business", "freelancer", "anonymous"])
def test_non_operators_cannot_hide_reviews(who):
    engagement = ended_engagement()
    review = business_review(engagement)
    specialist_review(engagement)
    actor = {"business": engagement.business, "freelancer": engagement.freelancer, "anonymous": None}[who]
    with pytest.raises(Forbidden):
        hide_review(actor, review.id, "I don't like it")
    db.session.refresh(review)
    assert review.hidden_at is None and _counters(engagement.freelancer_id)[1] == 1


def test_hide_needs_a_reason_of_sane_length_and_a_real_review(operator):
    engagement = ended_engagement()
    review = business_review(engagement)
    with pytest.raises(ValidationFailed, match="reason"):
        hide_review(operator, review.id, "   ")
    with pytest.raises(ValidationFailed, match="at most 500"):
        hide_review(operator, review.id, "x" * 501)
    with pytest.raises(NotFound):
        hide_review(operator, 987654, "Spam")
    db.session.refresh(review)
    assert review.hidden_at is None


def test_a_hidden_authors_reveal_notice_does_not_promise_their_own_review(operator):
    engagement = ended_engagement()
    first = business_review(engagement)
    hide_review(operator, first.id, "Personal details")
    specialist_review(engagement)
    [notice] = db.session.scalars(select(Notification).where(Notification.user_id == engagement.business_id,
                                                             Notification.kind == "review_revealed")).all()
    assert "Both reviews" not in notice.title and "review of you" in notice.title
