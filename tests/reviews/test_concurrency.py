"""Reveals, second reviews and hides under real concurrency (PostgreSQL, threads, committed data)."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marketplace.core.errors import Conflict
from marketplace.extensions import db
from marketplace.profiles.models import FreelancerProfile
from marketplace.reviews.models import Review
from marketplace.reviews.services import ReviewData, hide_review, reveal_due, submit_review
from tests import factories
from tests.reviews.helpers import ALL_FIVES, business_review, ended_engagement, specialist_review


def _run_parallel(app, n, fn):
    """fn(i) in n threads released together, each in its own app context (own session), committing."""
    barrier = threading.Barrier(n)
    results = [None] * n

    def run(i):
        with app.app_context():
            barrier.wait()
            try:
                results[i] = fn(i)
                db.session.commit()
            except Exception as error:   # reported in the results, asserted by the test
                db.session.rollback()
                results[i] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def _counters(user_id):
    db.session.expire_all()
    p = db.session.get(FreelancerProfile, user_id)
    return p.rating_sum, p.rating_count, p.empathy_sum, p.empathy_count


@pytest.mark.no_db_transaction
def test_parallel_reveal_runs_count_every_review_exactly_once(app, committed_world):
    specialist = factories.create_freelancer()
    for stars in (1, 2, 3, 4, 5, 5):
        engagement = ended_engagement(freelancer=specialist, days_ago=20)
        business_review(engagement, stars=stars, now=engagement.completed_at + timedelta(hours=1))
    db.session.commit()
    results = _run_parallel(app, 8, lambda i: reveal_due())
    assert all(isinstance(r, int) for r in results), results
    assert sum(results) == 6
    assert _counters(specialist.id) == (20, 6, 150, 30)


@pytest.mark.no_db_transaction
def test_both_sides_reviewing_at_once_reveal_both(app, committed_world):
    engagements = [ended_engagement() for _ in range(5)]
    db.session.commit()
    pairs = [(e.id, e.business, e.freelancer) for e in engagements]

    def write(i):
        from marketplace.engagements.models import Engagement
        engagement_id, business, freelancer = pairs[i // 2]
        engagement = db.session.get(Engagement, engagement_id)
        author = db.session.get(type(business), business.id if i % 2 == 0 else freelancer.id)
        dims = ALL_FIVES if i % 2 == 0 else {}
        return submit_review(author, engagement, ReviewData(stars=4, dimensions=dims)).id

    results = _run_parallel(app, 10, write)
    assert all(isinstance(r, int) for r in results), results
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Review).where(Review.revealed_at.is_(None))) == 0
    for e in engagements:
        assert _counters(e.freelancer_id) == (4, 1, 25, 5)


@pytest.mark.no_db_transaction
def test_two_operators_hiding_at_once_one_wins(app, committed_world):
    engagement = ended_engagement()
    review = business_review(engagement, stars=2)
    specialist_review(engagement)
    operators = [factories.create_operator() for _ in range(2)]
    db.session.commit()
    review_id, freelancer_id = review.id, engagement.freelancer_id
    assert _counters(freelancer_id) == (2, 1, 25, 5)

    def hide(i):
        operator = db.session.get(type(operators[i]), operators[i].id)
        return hide_review(operator, review_id, f"Reason {i}").id

    results = _run_parallel(app, 2, hide)
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "int"], results
    [conflict] = [r for r in results if isinstance(r, Conflict)]
    assert conflict.message == "This review was already hidden by another operator."
    assert _counters(freelancer_id) == (0, 0, 0, 0)
