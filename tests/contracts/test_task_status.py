"""A task's status follows its contracts (contracts/lifecycle.py), and the business can close a task."""
from __future__ import annotations

from marketplace.engagements import transitions
from marketplace.engagements.models import Engagement
from marketplace.extensions import db
from marketplace.tasks.models import Task, TaskStatus
from tests import factories
from tests.contracts.helpers import approve, fresh, hire
from tests.tasks.helpers import add_bid, plain, sign_in


def test_a_one_seat_task_is_completed_when_its_only_engagement_is_and_my_tasks_says_so(client, business):
    contract, first = hire(business, amount=40_000)
    assert fresh(Task, contract.task_id).status == TaskStatus.IN_PROGRESS
    approve(db.session.get(Engagement, first.id))
    assert fresh(Task, contract.task_id).status == TaskStatus.COMPLETED
    sign_in(client, business)
    page = plain(client.get("/tasks/mine"))
    assert "completed" in page and "in progress" not in page


def test_a_one_seat_task_whose_only_hire_was_called_off_is_cancelled_not_completed(business):
    contract, first = hire(business, amount=40_000)
    transitions.cancel(business, first, "We found an in-house solution.")
    task = fresh(Task, contract.task_id)
    assert (task.status, task.filled_seats) == (TaskStatus.CANCELLED, 0) and task.closed_at is not None


def test_the_business_closes_a_task_whose_hires_have_all_ended(client, business):
    task = factories.create_task(business, seats=2, budget=60_000)
    _contract, first = hire(business, task=task, amount=30_000)
    approve(db.session.get(Engagement, first.id))
    waiting = add_bid(fresh(Task, task.id), factories.create_freelancer(), amount=30_000)
    assert fresh(Task, task.id).status == TaskStatus.OPEN     # a seat is still free: hiring goes on
    sign_in(client, business)
    page = plain(client.get(f"/tasks/{task.id}"))
    assert "Close task" in page
    response = client.post(f"/tasks/{task.id}/close")
    assert response.status_code == 302
    task = fresh(Task, task.id)
    assert task.status == TaskStatus.COMPLETED and task.closed_at is not None
    db.session.refresh(waiting)
    assert waiting.status.value == "declined"


def test_a_task_with_nobody_hired_cannot_be_closed_only_cancelled(client, business):
    task = factories.create_task(business)
    sign_in(client, business)
    assert "Close task" not in plain(client.get(f"/tasks/{task.id}"))
    client.post(f"/tasks/{task.id}/close")
    assert fresh(Task, task.id).status == TaskStatus.OPEN


def test_the_demo_business_has_no_task_stuck_in_progress(app):
    from sqlalchemy import select

    from marketplace.accounts.models import User
    from marketplace.contracts.lifecycle import running_contracts
    from marketplace.demo import DEMO_LOGINS, seed_demo
    seed_demo(freelancers=12, businesses=2)
    business = db.session.scalar(select(User).where(User.email == DEMO_LOGINS["business"]))
    tasks = list(db.session.scalars(select(Task).where(Task.business_id == business.id)))
    assert tasks
    for task in tasks:
        if task.status == TaskStatus.IN_PROGRESS:
            assert running_contracts(task.id), task.title
