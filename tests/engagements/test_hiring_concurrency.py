"""20 parallel acceptances of different proposals on a 1-seat task, through the real pages.

Needs real concurrent transactions, so it runs on PostgreSQL (CI sets
TEST_DATABASE_URL) with committed data, and cleans up after itself.
"""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from marketplace.bidding.models import Bid, BidStatus
from marketplace.engagements.models import Engagement
from marketplace.extensions import db
from marketplace.tasks.models import Task, TaskStatus
from tests import factories
from tests.conftest import FreshContextClient

PARALLEL = 20


def _client(app, user) -> FreshContextClient:
    client = FreshContextClient(app, app.response_class, use_cookies=True)
    response = client.post("/login", data={"email": user.email, "password": factories.PASSWORD})
    assert response.status_code == 302
    return client


@pytest.mark.no_db_transaction
@pytest.mark.parametrize("seats", [1, 3])
def test_parallel_acceptances_never_overfill_a_task(app, committed_world, seats):
    business = factories.create_business()
    task = factories.create_task(business, seats=seats)
    bids = []
    for _ in range(PARALLEL):
        freelancer = factories.create_freelancer()
        bids.append(Bid(task_id=task.id, freelancer_id=freelancer.id, amount=40_000, cover_note="I can help."))
    db.session.add_all(bids)
    db.session.commit()
    task_id, bid_ids = task.id, [b.id for b in bids]

    # Two "tabs" of the same business, sharing the load.
    tabs = [_client(app, business) for _ in range(PARALLEL)]
    barrier = threading.Barrier(PARALLEL)
    outcomes: list[tuple[int, str, str]] = [None] * PARALLEL  # type: ignore[list-item]

    def accept(i: int) -> None:
        barrier.wait()
        response = tabs[i].post(f"/bids/{bid_ids[i]}/accept", follow_redirects=True)
        outcomes[i] = (response.status_code, response.request.path, response.get_data(as_text=True))

    threads = [threading.Thread(target=accept, args=(i,)) for i in range(PARALLEL)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert all(o is not None for o in outcomes)
    assert all(status == 200 for status, _, _ in outcomes), [s for s, _, _ in outcomes]
    winners = [o for o in outcomes if o[1].startswith("/engagements/")]
    losers = [o for o in outcomes if o[1] == f"/tasks/{task_id}"]
    assert len(winners) == seats
    assert len(losers) == PARALLEL - seats
    assert all("All seats on this task are already filled." in body for _, _, body in losers)

    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Engagement)
                             .where(Engagement.task_id == task_id)) == seats
    task = db.session.get(Task, task_id)
    assert task.filled_seats == seats and task.status == TaskStatus.IN_PROGRESS
    statuses = list(db.session.scalars(select(Bid.status).where(Bid.task_id == task_id)))
    assert statuses.count(BidStatus.ACCEPTED) == seats
    assert statuses.count(BidStatus.DECLINED) == PARALLEL - seats


@pytest.mark.no_db_transaction
def test_double_click_on_accept_makes_one_engagement(app, committed_world):
    business = factories.create_business()
    task = factories.create_task(business, seats=2)
    freelancer = factories.create_freelancer()
    bid = Bid(task_id=task.id, freelancer_id=freelancer.id, amount=40_000, cover_note="Hello")
    db.session.add(bid)
    db.session.commit()
    bid_id, task_id = bid.id, task.id
    tab = _client(app, business)
    barrier = threading.Barrier(PARALLEL)
    codes = []

    def click():
        barrier.wait()
        codes.append(tab.post(f"/bids/{bid_id}/accept").status_code)

    threads = [threading.Thread(target=click) for _ in range(PARALLEL)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert codes == [302] * PARALLEL
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Engagement).where(Engagement.bid_id == bid_id)) == 1
    assert db.session.get(Task, task_id).filled_seats == 1
