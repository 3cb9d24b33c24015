"""Bad review input gets a clear message and changes nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from marketplace.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from marketplace.extensions import db
from marketplace.reviews.models import Review
from marketplace.reviews.services import ReviewData, submit_review
from tests import factories
from tests.reviews.helpers import (ALL_FIVES, business_form, business_review, ended_engagement, review_count,
                                   review_form, specialist_review)
from tests.tasks.helpers import client_for, flashes, plain


def test_reviewing_twice_is_a_clear_conflict(app):
    engagement = ended_engagement()
    business_review(engagement, comment="First words.")
    with pytest.raises(Conflict, match="already reviewed"):
        business_review(engagement, comment="Second words.")
    browser = client_for(app, engagement.business)
    response = browser.post(f"/engagements/{engagement.id}/review", data=business_form(comment="Third words."))
    assert response.status_code == 302 and response.location.endswith(f"/engagements/{engagement.id}#reviews")
    assert any("already reviewed" in m for m in flashes(browser))
    assert [r.public_comment for r in db.session.scalars(select(Review))] == ["First words."]


def test_the_unique_constraint_backs_the_check(app):
    """Two tabs: the check passes in both, the database refuses the second insert, the user gets the Conflict."""
    engagement = ended_engagement()
    db.session.add(Review(contract_id=engagement.contract_id, engagement_id=engagement.id,
                          author_id=engagement.business_id, subject_id=engagement.freelancer_id,
                          author_role="business", stars=3, **ALL_FIVES))
    db.session.flush()
    from marketplace.reviews import services
    original = services._review_by
    calls = []

    def first_time_none(engagement_id, author_id):
        calls.append(author_id)
        return None if len(calls) == 1 else original(engagement_id, author_id)
    services._review_by = first_time_none
    try:
        with pytest.raises(Conflict, match="already reviewed"):
            business_review(engagement)
    finally:
        services._review_by = original
    assert review_count() == 1


def test_people_outside_the_engagement_cannot_review_it(app, operator):
    engagement = ended_engagement()
    stranger = factories.create_freelancer()
    with pytest.raises(NotFound):
        submit_review(stranger, engagement, ReviewData(stars=5))
    with pytest.raises(Forbidden):
        submit_review(operator, engagement, ReviewData(stars=5))
    response = client_for(app, stranger).post(f"/engagements/{engagement.id}/review", data=review_form())
    assert response.status_code == 404 and "Calm" not in plain(response)
    # An unknown id answers the same as someone else's.
    assert client_for(app, stranger).post("/engagements/999999/review", data=review_form()).status_code == 404
    assert client_for(app, stranger).get(f"/engagements/{engagement.id}/review").status_code == 404
    assert review_count() == 0


@pytest.mark.parametrize("status", ["awaiting_funding", "active", "delivered", "disputed", "cancelled"])
def test_no_review_before_the_engagement_has_ended(app, status):
    engagement = ended_engagement(status=status)
    engagement.completed_at = None
    db.session.flush()
    with pytest.raises(Conflict, match="once it has ended"):
        business_review(engagement)
    browser = client_for(app, engagement.freelancer)
    response = browser.post(f"/engagements/{engagement.id}/review", data=review_form())
    assert response.status_code == 302
    assert any("once it has ended" in m for m in flashes(browser))
    assert review_count() == 0
    assert 'id="review-form"' not in browser.get(f"/engagements/{engagement.id}").get_data(as_text=True)


def test_no_review_after_the_window_has_closed(app):
    engagement = ended_engagement(days_ago=15)
    with pytest.raises(Conflict, match="review window"):
        specialist_review(engagement)
    assert "review window for this engagement has closed" in plain(
        client_for(app, engagement.freelancer).get(f"/engagements/{engagement.id}"))
    assert review_count() == 0


@pytest.mark.parametrize("stars", ["0", "6", "-1", "4.5", "five", "", "99999999999999999999"])
def test_stars_outside_1_to_5_or_missing_are_refused_on_the_page(app, stars):
    engagement = ended_engagement()
    response = client_for(app, engagement.freelancer).post(f"/engagements/{engagement.id}/review",
                                                           data=review_form(stars=stars))
    assert response.status_code == 400
    assert "Choose an overall rating from 1 to 5 stars." in plain(response)
    assert review_count() == 0


@pytest.mark.parametrize("value", ["0", "6", "", "x"])
def test_business_must_score_every_dimension_1_to_5(app, value):
    engagement = ended_engagement()
    response = client_for(app, engagement.business).post(f"/engagements/{engagement.id}/review",
                                                         data=business_form(patience=value))
    assert response.status_code == 400
    assert "Score “Patience” from 1 to 5." in plain(response)
    assert review_count() == 0


@pytest.mark.parametrize("stars,dims", [(0, {}), (6, {}), (None, {}), (True, {}), ("5", {}),
                                        (5, {"patience": 9}), (5, {"patience": None})])
def test_service_refuses_bad_scores_whatever_the_form_let_through(stars, dims):
    engagement = ended_engagement()
    with pytest.raises(ValidationFailed):
        submit_review(engagement.business, engagement, ReviewData(stars=stars, dimensions=dict(ALL_FIVES, **dims)))
    with pytest.raises(ValidationFailed):
        submit_review(engagement.business, engagement, ReviewData(stars=5, dimensions={"kindness": 5, **ALL_FIVES}))
    assert review_count() == 0


def test_specialist_sending_empathy_scores_is_refused(app):
    engagement = ended_engagement()
    with pytest.raises(ValidationFailed, match="Only the business scores the empathy dimensions"):
        submit_review(engagement.freelancer, engagement, ReviewData(stars=4, dimensions={"patience": 5}))
    response = client_for(app, engagement.freelancer).post(f"/engagements/{engagement.id}/review",
                                                           data=review_form(patience="5"))
    assert response.status_code == 400
    assert "Only the business scores the empathy dimensions" in plain(response)
    assert review_count() == 0


@pytest.mark.parametrize("field,label", [("public_comment", "public comment"),
                                         ("private_feedback", "private feedback")])
def test_over_long_text_is_refused(app, field, label):
    engagement = ended_engagement()
    data = business_form()
    data[field] = "a" * 2001
    response = client_for(app, engagement.business).post(f"/engagements/{engagement.id}/review", data=data)
    assert response.status_code == 400
    assert f"The {label} can be at most 2000 characters." in plain(response)
    assert 'value="5"' in response.get_data(as_text=True)    # the form comes back as it was sent
    with pytest.raises(ValidationFailed, match="at most 2000"):
        submit_review(engagement.business, engagement, ReviewData(stars=5, dimensions=ALL_FIVES,
                                                                   **{field: "b" * 2001}))
    assert review_count() == 0


def test_suspended_account_cannot_review():
    from marketplace.accounts.models import AccountStatus
    engagement = ended_engagement()
    engagement.freelancer.status = AccountStatus.SUSPENDED
    db.session.flush()
    with pytest.raises(Forbidden):
        specialist_review(engagement)
    assert review_count() == 0


def test_review_form_needs_a_csrf_token(csrf_app):
    engagement = ended_engagement()
    browser = client_for(csrf_app, engagement.business)
    response = browser.post(f"/engagements/{engagement.id}/review", data=business_form())
    assert response.status_code == 400 and review_count() == 0
    page = browser.get(f"/engagements/{engagement.id}").get_data(as_text=True)
    import re
    token = re.search(r'id="review-form">\s*<input type="hidden" name="csrf_token" value="([^"]+)"', page).group(1)
    response = browser.post(f"/engagements/{engagement.id}/review", data=dict(business_form(), csrf_token=token))
    assert response.status_code == 302 and review_count() == 1


def test_review_page_get(app):
    engagement = ended_engagement()
    browser = client_for(app, engagement.business)
    page = plain(browser.get(f"/engagements/{engagement.id}/review"))
    assert "Active listening" in page and "Follow-through" in page and "Send review" in page
    specialist_page = plain(client_for(app, engagement.freelancer).get(f"/engagements/{engagement.id}/review"))
    assert "Send review" in specialist_page and "Active listening" not in specialist_page
    business_review(engagement)
    response = browser.get(f"/engagements/{engagement.id}/review")
    assert response.status_code == 302 and any("already reviewed" in m for m in flashes(browser))


def test_every_missing_dimension_is_marked_at_once(app):
    engagement = ended_engagement()
    data = business_form(stars="")
    for key in ("listening", "patience", "follow_through"):
        data.pop(key)
    response = client_for(app, engagement.business).post(f"/engagements/{engagement.id}/review", data=data)
    assert response.status_code == 400
    page = plain(response)
    for message in ("Choose an overall rating", "Score “Active listening”", "Score “Patience”",
                    "Score “Follow-through”"):
        assert message in page
    assert "Score “Positive language”" not in page
    assert review_count() == 0
