"""Pages that list rows cost the same few queries whatever the number of rows (no N+1).

Run with -s to see the measured counts. Transaction control statements
(SAVEPOINT / RELEASE / ROLLBACK TO) of the test harness are reported but
not held against the page.
"""
from __future__ import annotations

import pytest

from marketplace.extensions import db
from tests import factories
from tests.tasks.helpers import add_bid, counting_queries, make_profile, queries_only, text

MAX_QUERIES = 10
# The owner's task page also compares proposals and describes the client: one query for the client box
# (showcase/client_facts.py), three for the specialists' scoring rows and one for the message threads
# (showcase/proposals.py), whatever the number of proposals; and three for the specialists' kept-shift
# records that matching's reliability part reads (schedules/records.py).
OWNER_TASK_PAGE_EXTRA = 8


def measure(client, path: str, label: str) -> int:
    db.session.commit()          # flush the test's rows now, so the count holds only the request
    client.get(path)             # warm-up: a process loads the skill list once (profiles/skill_index.py)
    with counting_queries() as statements:
        response = client.get(path)
    assert response.status_code == 200
    queries = queries_only(statements)
    print(f"\n[query count] {label}: {len(queries)} queries ({len(statements)} statements with savepoints)")
    for sql in queries:
        print("    ", " ".join(sql.split())[:140])
    return len(queries)


@pytest.fixture()
def tasks_per_page(app):
    old = app.config["TASKS_PER_PAGE"]
    app.config["TASKS_PER_PAGE"] = 50
    yield 50
    app.config["TASKS_PER_PAGE"] = old


def _tasks(n: int, businesses, start: int = 0) -> None:
    for i in range(start, start + n):
        factories.create_task(businesses[i % len(businesses)], title=f"Router help desk {i}",
                              skills={"zendesk": 2, "network-troubleshooting": 3},
                              nice_skills={"de-escalation": 2}, languages=["en", "es"])


@pytest.mark.parametrize("viewer", ["visitor", "freelancer"])
def test_task_listing_costs_the_same_for_5_and_50_tasks(app, client, login_as, tasks_per_page, viewer):
    if viewer == "freelancer":
        login_as(factories.create_freelancer())
    businesses = [factories.create_business() for _ in range(5)]
    _tasks(5, businesses)
    small = measure(client, "/tasks?q=router&skill=zendesk", f"GET /tasks as {viewer}, 5 tasks")
    _tasks(45, businesses + [factories.create_business() for _ in range(5)], start=5)
    large = measure(client, "/tasks?q=router&skill=zendesk", f"GET /tasks as {viewer}, 50 tasks")
    page = text(client.get("/tasks?q=router&skill=zendesk"))
    assert "50 open tasks" in page and "Router help desk 49" in page and "Router help desk 0" in page
    assert small == large
    assert large <= MAX_QUERIES


def test_owner_task_page_costs_the_same_for_1_and_10_bids(client, login_as, business):
    task = factories.create_task(business, skills={"zendesk": 2, "intercom": 1}, languages=["en", "fr"])
    add_bid(task, factories.create_freelancer(), cover_note="Bid number 0")
    login_as(business)
    small = measure(client, f"/tasks/{task.id}", "GET /tasks/<id> as owner, 1 bid")
    for i in range(1, 10):
        add_bid(task, factories.create_freelancer(), amount=40_000 + i, cover_note=f"Bid number {i}",
                shortlisted=i % 3 == 0)
    large = measure(client, f"/tasks/{task.id}", "GET /tasks/<id> as owner, 10 bids")
    page = text(client.get(f"/tasks/{task.id}"))
    assert "Proposals (10)" in page and all(f"Bid number {i}" in page for i in range(10))
    assert page.count("% match") == 10 and page.count('data-testid="message-') == 10
    assert small == large
    assert large <= MAX_QUERIES + OWNER_TASK_PAGE_EXTRA


def _profiles(n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        make_profile(factories.create_freelancer(full_name=f"Directory Person{i:02d}"), rate=2_000 + i,
                     skills={"zendesk": 3, "intercom": 2, "de-escalation": 4},
                     languages={"en": "native", "es": "C1"}, channels=["chat", "email"])


def test_directory_costs_the_same_for_5_and_30_profiles(client):
    _profiles(5)
    small = measure(client, "/freelancers?language=es", "GET /freelancers, 5 profiles")
    _profiles(25, start=5)
    large = measure(client, "/freelancers?language=es", "GET /freelancers, 30 profiles (20 on the page)")
    page = text(client.get("/freelancers?language=es"))
    assert "30 specialists" in page and page.count("Directory Person") == 20
    assert small == large
    assert large <= MAX_QUERIES
