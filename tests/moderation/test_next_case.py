"""The operator console: a "Next case" button after each decision, and a task's terms on its case page."""
from __future__ import annotations

from marketplace.moderation import holds
from tests import factories
from tests.tasks.helpers import text


def _held_task(title: str):
    business = factories.create_business()
    task = factories.create_task(business, title=title, skills={"zendesk": 3}, nice_skills={"intercom": 1})
    return task, holds.hold("task", task, business.id, ["Mentions payment outside the platform"])


def test_after_a_decision_next_case_opens_the_oldest_waiting_item(client, login_operator):
    first_task, first = _held_task("First held task")
    _, second = _held_task("Second held task")
    login_operator(factories.create_operator())
    page = text(client.get(f"/moderation/cases/{first.id}"))
    assert 'data-testid="case-task-facts"' in page and "Zendesk ≥3" in page and "(nice to have)" in page
    assert first_task.start_date.isoformat() in page and "Next case" not in page
    response = client.post(f"/moderation/cases/{first.id}/approve", data={"approve-reason": ""})
    assert response.status_code == 302
    page = text(client.get(f"/moderation/cases/{first.id}"))
    assert "Next case" in page
    response = client.get(f"/moderation/cases/next?after={first.id}")
    assert response.headers["Location"].endswith(f"/moderation/cases/{second.id}")
    client.post(f"/moderation/cases/{second.id}/reject", data={"reject-reason": "Payment outside the platform"})
    response = client.get(f"/moderation/cases/next?after={second.id}", follow_redirects=True)
    assert "the queue is clear" in text(response)


def test_next_case_is_for_operators_only(client, login_as):
    login_as(factories.create_business())
    assert client.get("/moderation/cases/next").status_code in (403, 404)
