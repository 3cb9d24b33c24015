"""Revealed reviews feed the specialist's counters, the profile's Bayesian rating, empathy averages and matching."""
from __future__ import annotations

import pytest
from sqlalchemy import update

from marketplace.extensions import db
from marketplace.matching.scoring import bayesian, score
from marketplace.matching.service import load_candidates
from marketplace.profiles.models import FreelancerProfile
from marketplace.reviews.services import business_rating, specialist_rating, specialist_reputation
from tests import factories
from tests.reviews.helpers import business_review, ended_engagement, specialist_review
from tests.tasks.helpers import client_for, make_profile, plain


def _profile(user_id) -> FreelancerProfile:
    db.session.expire_all()
    return db.session.get(FreelancerProfile, user_id)


def test_reveal_adds_stars_and_empathy_scores_to_the_counters(app):
    specialist = factories.create_freelancer()
    first = ended_engagement(freelancer=specialist)
    business_review(first, stars=4, listening=5, acknowledging=4, patience=3, positive_language=4,
                    follow_through=2)
    assert _profile(specialist.id).rating_count == 0      # not revealed yet: nothing counted
    specialist_review(first)
    p = _profile(specialist.id)
    assert (p.rating_sum, p.rating_count, p.empathy_sum, p.empathy_count) == (4, 1, 18, 5)

    second = ended_engagement(freelancer=specialist)
    specialist_review(second)          # the specialist's review of a business never touches their own counters
    business_review(second, stars=3)
    p = _profile(specialist.id)
    assert (p.rating_sum, p.rating_count, p.empathy_sum, p.empathy_count) == (7, 2, 43, 10)

    config = app.config
    expected = bayesian(7, 2, config["MATCH_RATING_PRIOR"], config["MATCH_RATING_PRIOR_WEIGHT"])
    assert specialist_rating(p) == pytest.approx(expected)
    assert specialist_rating(p) != pytest.approx(4.5)       # moved away from the prior
    page = plain(app.test_client().get(f"/freelancers/{specialist.id}"))
    assert expected == pytest.approx(4.3)
    assert "4.3" in page and "2 reviews" in page and "average 3.5" in page


def test_profile_shows_per_dimension_averages_and_five_latest_reviews(app):
    specialist = factories.create_freelancer()
    for i, patience in enumerate([1, 2, 4, 5, 5, 3]):
        engagement = ended_engagement(freelancer=specialist)
        business_review(engagement, stars=5, comment=f"Review number {i}", patience=patience, listening=4)
        specialist_review(engagement)
    reputation = specialist_reputation(_profile(specialist.id))
    averages = {key: value for key, _label, value in reputation.dimensions}
    assert averages["patience"] == pytest.approx(20 / 6) and averages["listening"] == pytest.approx(4.0)
    assert [r.public_comment for r in reputation.recent] == [f"Review number {i}" for i in (5, 4, 3, 2, 1)]

    viewer = client_for(app, factories.create_business())
    page = viewer.get(f"/freelancers/{specialist.id}").get_data(as_text=True)
    assert 'data-testid="empathy-patience">3.3<' in page and 'data-testid="empathy-listening">4.0<' in page
    assert "Review number 5" in page and "Review number 0" not in page
    for review in reputation.recent:
        assert f'data-testid="report-review-{review.id}"' in page


def test_a_revealed_review_changes_the_specialists_match_score(app):
    specialist = factories.create_freelancer()
    make_profile(specialist, skills={"zendesk": 4}, languages={"en": "native"}, channels=["chat"])
    task = factories.create_task(skills={"zendesk": 3}, languages=["en"])

    def match_score():
        db.session.expire_all()
        [candidate] = load_candidates([specialist.id])
        return score(task, candidate, app.config)

    before = match_score()
    engagement = ended_engagement(freelancer=specialist)
    business_review(engagement, stars=1, listening=1, acknowledging=1, patience=1, positive_language=1,
                    follow_through=1)
    assert match_score().score == before.score          # hidden reviews don't count
    specialist_review(engagement)
    after = match_score()
    assert after.score < before.score
    assert after.parts["rating"] < before.parts["rating"] and after.parts["empathy"] < before.parts["empathy"]
    # The rating shown everywhere (profile, directory, matches) is the Bayesian one: 4.1, not the raw 1.0.
    from marketplace.reviews.services import bayesian_rating
    assert f"{bayesian_rating(1, 1):.1f} stars over 1 review" in after.explanation
    assert "1.0 stars" not in after.explanation


def test_business_rating_is_aggregated_from_specialists_revealed_reviews(app):
    business = factories.create_business()
    for stars in (5, 4):
        engagement = ended_engagement(business)
        specialist_review(engagement, stars=stars)
        business_review(engagement)
    hidden_one = ended_engagement(business)
    specialist_review(hidden_one, stars=1)     # not revealed: the business hasn't answered
    rating = business_rating(business.id)
    assert rating.count == 2 and rating.average == pytest.approx(4.5)

    task = factories.create_task(business, title="Night shift chat")
    page = plain(client_for(app, factories.create_freelancer()).get(f"/tasks/{task.id}"))
    assert "4.5 from 2 specialist reviews" in page


def test_concurrent_style_counter_updates_use_sql_increments():
    """The counters move by SQL increments: a stale in-memory value can't overwrite another reveal's update."""
    specialist = factories.create_freelancer()
    engagement = ended_engagement(freelancer=specialist)
    profile = db.session.get(FreelancerProfile, specialist.id)
    assert profile.rating_count == 0          # loaded (and now stale once another transaction adds a review)
    db.session.execute(update(FreelancerProfile).where(FreelancerProfile.user_id == specialist.id)
                       .values(rating_sum=3, rating_count=1).execution_options(synchronize_session=False))
    business_review(engagement, stars=5)
    specialist_review(engagement)
    p = _profile(specialist.id)
    assert (p.rating_sum, p.rating_count) == (8, 2)
