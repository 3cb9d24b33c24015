"""Threads: creation (race-safe), engagement link, and who may open them."""
import threading

import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import func, insert, select

from marketplace.core.errors import NotFound
from marketplace.engagements.models import Engagement
from marketplace.extensions import db
from marketplace.messaging import services
from marketplace.messaging.models import Message, Thread
from tests import factories


def thread_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Thread))


def message_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Message))


def test_get_or_create_thread_returns_the_same_thread_twice(business, freelancer):
    task = factories.create_task(business)
    first = services.get_or_create_thread(task, freelancer.id)
    second = services.get_or_create_thread(task, freelancer.id)
    assert first.id == second.id
    assert (first.task_id, first.business_id, first.freelancer_id) == (task.id, business.id, freelancer.id)
    assert thread_count() == 1
    # Another specialist on the same task gets a thread of their own.
    other = services.get_or_create_thread(task, factories.create_freelancer().id)
    assert other.id != first.id and thread_count() == 2


def test_get_or_create_thread_reads_the_winner_when_the_insert_loses_a_race(business, freelancer, monkeypatch):
    task = factories.create_task(business)
    # A parallel request inserted the thread after our first look found nothing.
    winner_id = db.session.execute(insert(Thread).values(task_id=task.id, business_id=business.id,
                                                         freelancer_id=freelancer.id)
                                   .returning(Thread.id)).scalar_one()
    real_find = services._find_thread
    looks = []

    def find_missing_first(task_id, freelancer_id):
        looks.append(task_id)
        return None if len(looks) == 1 else real_find(task_id, freelancer_id)

    monkeypatch.setattr(services, "_find_thread", find_missing_first)
    thread = services.get_or_create_thread(task, freelancer.id)
    assert thread.id == winner_id and len(looks) == 2
    assert thread_count() == 1
    # The session is still usable after the refused insert.
    assert services.get_or_create_thread(task, freelancer.id).id == winner_id


@pytest.mark.no_db_transaction
def test_parallel_get_or_create_thread_makes_one_thread_on_postgresql(app, committed_world, monkeypatch):
    business, freelancer = factories.create_business(), factories.create_freelancer()
    task = factories.create_task(business)
    db.session.commit()
    task_id, freelancer_id = task.id, freelancer.id
    workers = 8
    barrier = threading.Barrier(workers)
    real_find = services._find_thread
    first_look = threading.local()

    def racing_find(t_id, f_id):
        # Every worker looks, finds nothing, then all insert at once.
        if not getattr(first_look, "done", False):
            first_look.done = True
            found = real_find(t_id, f_id)
            barrier.wait(timeout=10)
            return found
        return real_find(t_id, f_id)

    monkeypatch.setattr(services, "_find_thread", racing_find)
    results, errors = [], []

    def work():
        try:
            with app.app_context():
                from marketplace.tasks.models import Task
                thread = services.get_or_create_thread(db.session.get(Task, task_id), freelancer_id)
                db.session.commit()
                results.append(thread.id)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    pool = [threading.Thread(target=work) for _ in range(workers)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(30)
    assert errors == []
    assert len(results) == workers and len(set(results)) == 1
    assert db.session.scalar(select(func.count()).select_from(Thread).where(Thread.task_id == task_id)) == 1


def _engagement(task, freelancer) -> Engagement:
    from marketplace.bidding.models import Bid, BidStatus
    bid = Bid(task_id=task.id, freelancer_id=freelancer.id, amount=50_000, cover_note="Happy to help.",
              status=BidStatus.ACCEPTED)
    db.session.add(bid)
    db.session.flush()
    contract = factories.create_contract(task, bid)
    engagement = Engagement(contract_id=contract.id, task_id=task.id, bid_id=bid.id, business_id=task.business_id,
                            freelancer_id=freelancer.id, amount=50_000, currency="USD", fee_bps=1000,
                            fee_amount=5_000, payout_amount=45_000, title=task.title, position=1)
    db.session.add(engagement)
    db.session.flush()
    return engagement


def test_link_engagement_keeps_the_conversation_and_shows_the_badge(client, business, freelancer, login_as):
    task = factories.create_task(business)
    thread = services.get_or_create_thread(task, freelancer.id)
    services.post_message(freelancer, thread, "Before hire: can you share the macros?")
    engagement = _engagement(task, freelancer)
    linked = services.link_engagement(task.id, freelancer.id, engagement.id)
    assert linked.id == thread.id and linked.engagement_id == engagement.id and thread_count() == 1
    login_as(business)
    page = client.get(f"/messages/{thread.id}").get_data(as_text=True)
    assert f'href="/engagements/{engagement.id}"' in page and ">Engagement</a>" in page
    assert "Before hire: can you share the macros?" in page
    assert "Engagement</span>" in client.get("/messages").get_data(as_text=True)


def test_link_engagement_creates_the_thread_when_missing(business, freelancer):
    task = factories.create_task(business)
    engagement = _engagement(task, freelancer)
    thread = services.link_engagement(task.id, freelancer.id, engagement.id)
    assert thread.engagement_id == engagement.id and thread.business_id == business.id


def test_only_the_two_participants_can_open_a_thread(client, thread, business, freelancer, login_as):
    for participant in (business, freelancer):
        assert services.get_thread_for(participant, thread.id).id == thread.id
    stranger = factories.create_freelancer()
    other_business = factories.create_business()
    operator = factories.create_operator()
    for outsider in (stranger, other_business, operator, AnonymousUserMixin(), None):
        with pytest.raises(NotFound):
            services.get_thread_for(outsider, thread.id)
    with pytest.raises(NotFound):
        services.get_thread_for(business, thread.id + 1000)

    for outsider in (stranger, other_business):
        login_as(outsider)
        response = client.get(f"/messages/{thread.id}")
        assert response.status_code == 404
        assert "Weekend chat cover" not in response.get_data(as_text=True)
        assert client.post(f"/messages/{thread.id}", data={"body": "Hi, let me in"}).status_code == 404
        assert thread.id not in [int(x) for x in _thread_links(client.get("/messages").get_data(as_text=True))]
        client.post("/logout")
    assert message_count() == 0
    # A thread that doesn't exist looks exactly the same as someone else's.
    login_as(stranger)
    missing = client.get(f"/messages/{thread.id + 1000}")
    assert missing.status_code == 404
    client.post("/logout")

    login_as(freelancer)
    assert client.get(f"/messages/{thread.id}").status_code == 200
    client.post("/logout")
    login_as(business)
    assert client.get(f"/messages/{thread.id}").status_code == 200


def _thread_links(html: str) -> list[str]:
    import re
    return re.findall(r'href="/messages/(\d+)', html)


def test_anonymous_visitors_are_sent_to_login(client, thread):
    for response in (client.get(f"/messages/{thread.id}"), client.get("/messages"),
                     client.post(f"/messages/{thread.id}", data={"body": "hello"})):
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert message_count() == 0
