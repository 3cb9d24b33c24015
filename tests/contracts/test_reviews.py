"""Reviews are once per contract, after the contract has ended, on its last finished milestone."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from marketplace.contracts import services
from marketplace.core.errors import Conflict
from marketplace.engagements import transitions
from marketplace.engagements.models import Engagement
from marketplace.extensions import db
from marketplace.reviews.models import Review
from marketplace.reviews.services import ReviewData, review_milestone, reviews_to_write, submit_review
from tests.contracts.helpers import approve, fresh, hire
from tests.reviews.helpers import ALL_FIVES


def _review(author, milestone):
    dims = ALL_FIVES if author.id == milestone.business_id else {}
    return submit_review(author, milestone, ReviewData(stars=5, public_comment="Great.", dimensions=dims))


def test_each_side_reviews_a_contract_once_after_its_last_milestone():
    contract, first = hire(amount=60_000)
    second = services.split_milestone(contract.business, first, services.MilestoneData("Second", 20_000))
    approve(first)
    with pytest.raises(Conflict, match="once it has ended"):
        _review(contract.business, db.session.get(Engagement, first.id))
    assert reviews_to_write(contract.business) == []

    approve(db.session.get(Engagement, second.id))
    contract = fresh(type(contract), contract.id)
    anchor = review_milestone(contract)
    assert anchor.id == second.id
    assert [m.id for m in reviews_to_write(contract.business)] == [second.id]
    review = _review(contract.business, db.session.get(Engagement, first.id))   # from any of its milestones
    assert (review.contract_id, review.engagement_id) == (contract.id, second.id)
    with pytest.raises(Conflict, match="already reviewed this contract"):
        _review(contract.business, db.session.get(Engagement, second.id))
    assert reviews_to_write(contract.business) == []
    _review(contract.freelancer, db.session.get(Engagement, second.id))
    reviews = list(db.session.scalars(select(Review).where(Review.contract_id == contract.id)))
    assert len(reviews) == 2 and all(r.revealed_at is not None for r in reviews)   # both written: revealed


def test_a_contract_whose_milestones_were_all_cancelled_has_nothing_to_review():
    contract, first = hire(amount=60_000)
    transitions.cancel(contract.business, first, "Changed our plans.")
    contract = fresh(type(contract), contract.id)
    assert contract.status.value == "ended" and review_milestone(contract) is None
    with pytest.raises(Conflict, match="once it has ended"):
        _review(contract.business, db.session.get(Engagement, first.id))
