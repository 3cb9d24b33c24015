"""The owner's task page shows its proposals twenty at a time, in the owner's order."""
from __future__ import annotations

import re

from marketplace.bidding.models import BidStatus
from marketplace.bidding.services import PROPOSALS_PER_PAGE
from marketplace.extensions import db
from tests import factories
from tests.tasks.helpers import add_bid, text


def _bid_order(page: str) -> list[str]:
    return re.findall(r"Bid number (\d+)\b", page)


def test_proposals_come_twenty_a_page_hired_and_shortlisted_first(client, login_as, business):
    task = factories.create_task(business, skills={"zendesk": 2}, languages=["en"])
    total = PROPOSALS_PER_PAGE + 5
    for i in range(total):
        # Cheapest last, so the price order is visible: 0 is the dearest, 24 the cheapest.
        add_bid(task, factories.create_freelancer(), amount=90_000 - 1_000 * i, cover_note=f"Bid number {i}",
                shortlisted=i == 3)
    db.session.commit()
    login_as(business)

    first = text(client.get(f"/tasks/{task.id}"))
    assert f"Proposals ({total})" in first and f"Page 1 of 2" in first
    order = _bid_order(first)
    assert len(order) == PROPOSALS_PER_PAGE
    # Shortlisted first, then the lowest price: 3, then 24, 23, ...
    assert order[:4] == ["3", "24", "23", "22"]

    second = text(client.get(f"/tasks/{task.id}?page=2"))
    assert _bid_order(second) == ["5", "4", "2", "1", "0"]
    assert "Page 2 of 2" in second
    # A page past the last shows the last page, not an empty list.
    assert _bid_order(text(client.get(f"/tasks/{task.id}?page=99"))) == _bid_order(second)


def test_a_hired_proposal_is_on_the_first_page_and_the_task_can_be_closed(client, login_as, business):
    task = factories.create_task(business, skills={"zendesk": 2}, languages=["en"])
    for i in range(PROPOSALS_PER_PAGE + 3):
        add_bid(task, factories.create_freelancer(), amount=40_000 + i, cover_note=f"Bid number {i}")
    add_bid(task, factories.create_freelancer(), amount=99_000, cover_note="Bid number 99",
            status=BidStatus.ACCEPTED)
    db.session.commit()
    login_as(business)
    first = text(client.get(f"/tasks/{task.id}"))
    assert _bid_order(first)[0] == "99"
    assert "Close task" in first
    assert "Bid number 99" not in text(client.get(f"/tasks/{task.id}?page=2"))


def test_a_bad_page_number_shows_a_page_not_an_error(client, login_as, business):
    task = factories.create_task(business, skills={"zendesk": 2}, languages=["en"])
    for i in range(PROPOSALS_PER_PAGE + 1):
        add_bid(task, factories.create_freelancer(), amount=40_000 + i, cover_note=f"Bid number {i}")
    db.session.commit()
    login_as(business)
    first = _bid_order(text(client.get(f"/tasks/{task.id}")))
    for bad in ("0", "-5", "abc", "99999999999999999999999"):
        response = client.get(f"/tasks/{task.id}?page={bad}")
        assert response.status_code == 200
        shown = _bid_order(text(response))
        assert shown in (first, ["20"]), (bad, shown)     # the first page, or the last (one proposal)
