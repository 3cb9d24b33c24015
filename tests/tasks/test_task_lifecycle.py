"""Posting, publishing, editing, cancelling and closing tasks, through the pages and the services."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from marketplace.bidding.models import Bid, BidStatus
from marketplace.core.errors import Conflict, Forbidden
from marketplace.engagements.hiring import accept_bid
from marketplace.extensions import db
from marketplace.notifications.models import Notification
from marketplace.tasks import services
from marketplace.tasks.models import HiringMode, Pricing, Task, TaskLanguage, TaskSkill, TaskStatus
from tests import factories
from tests.tasks.helpers import add_bid, client_for, count, flashes, sign_in, skill_id, task_form, text


def _only_task_of(business) -> Task:
    tasks = db.session.scalars(select(Task).where(Task.business_id == business.id, Task.title != EARLIER)).all()
    assert len(tasks) == 1, tasks
    return tasks[0]


EARLIER = "An earlier task, approved and done"


def _established(business):
    """An earlier approved task, so the business's next ones skip the first-task review (tests/moderation)."""
    return factories.create_task(business, status="completed", title=EARLIER)


def test_sign_in_helper_starts_the_same_session_as_the_login_form(app, business):
    browser = client_for(app, business)
    assert f"Hello, {business.first_name}" in text(browser.get("/dashboard"))
    from marketplace.accounts.services import end_all_sessions
    end_all_sessions(business)   # rotating the token ends helper sessions like real ones
    assert browser.get("/dashboard").status_code == 302


# --- creating ------------------------------------------------------------------------------

def test_post_new_task_saves_a_draft_with_every_field(client, business, login_as):
    login_as(business)
    response = client.post("/tasks/new", data=task_form(seats="2", hiring_mode="invite", timezone="Europe/Madrid",
                                                        work_hours_start="8", work_hours_end="20"))
    assert response.status_code == 302
    task = _only_task_of(business)
    assert response.headers["Location"].endswith(f"/tasks/{task.id}")
    assert task.status == TaskStatus.DRAFT
    assert task.published_at is None
    assert task.title == "Weekend chat cover for our router launch"
    assert task.pricing == Pricing.FIXED and task.budget == 90_000 and task.max_rate is None
    assert task.currency == "USD"
    assert task.seats == 2 and task.filled_seats == 0
    assert task.hiring_mode == HiringMode.INVITE
    assert (task.timezone, task.work_hours_start, task.work_hours_end) == ("Europe/Madrid", 8, 20)
    assert sorted(task.language_codes) == ["en", "es"]
    skills = {(s.skill_id, s.min_level, s.required) for s in task.skills}
    assert skills == {(skill_id("zendesk"), 3, True), (skill_id("de-escalation"), 2, False)}
    assert "Draft saved" in " ".join(flashes(client))
    # A draft is not listed for anyone.
    assert "router launch" not in text(client.get("/tasks"))


def test_post_new_task_with_publish_goes_live_at_once(client, business):
    _established(business)
    sign_in(client, business)
    response = client.post("/tasks/new", data=task_form(publish="1"))
    assert response.status_code == 302
    task = _only_task_of(business)
    assert task.status == TaskStatus.OPEN and task.published_at is not None
    assert "Your task is live." in flashes(client)
    assert "Weekend chat cover for our router launch" in text(client.get("/tasks"))


def test_new_hourly_task_stores_rate_and_hours_not_a_budget(client, business):
    sign_in(client, business)
    response = client.post("/tasks/new", data=task_form(pricing="hourly", budget="", max_rate="25.50",
                                                        estimated_hours="40"))
    assert response.status_code == 302
    task = _only_task_of(business)
    assert (task.pricing, task.budget, task.max_rate, task.estimated_hours) == (Pricing.HOURLY, None, 2550, 40)
    assert task.price_ceiling == 2550 * 40


def test_budget_exactly_at_the_platform_minimum_is_accepted(app, client, business):
    sign_in(client, business)
    minimum_major = app.config["PLATFORM_MIN_BUDGET"] / 100
    response = client.post("/tasks/new", data=task_form(budget=f"{minimum_major:.2f}"))
    assert response.status_code == 302
    assert _only_task_of(business).budget == app.config["PLATFORM_MIN_BUDGET"]


def test_freelancer_cannot_open_or_post_the_task_form(client, freelancer, login_as):
    login_as(freelancer)
    assert client.get("/tasks/new").status_code == 403
    assert client.post("/tasks/new", data=task_form()).status_code == 403
    assert count(Task) == 0


def test_visitor_is_sent_to_login_from_the_task_form(client):
    response = client.get("/tasks/new")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.post("/tasks/new", data=task_form()).status_code == 302
    assert count(Task) == 0


def test_create_task_service_refuses_a_freelancer(freelancer):
    from marketplace.tasks.services import TaskData
    with pytest.raises(Forbidden):
        services.create_task(freelancer, TaskData(
            title="x", description="y", channel="chat", timezone="UTC", work_hours_start=9, work_hours_end=17,
            start_date=None, end_date=None, pricing="fixed", budget=90_000))
    assert count(Task) == 0


# --- publishing ------------------------------------------------------------------------------

def test_owner_publishes_a_draft(client, business):
    _established(business)
    task = factories.create_task(business, status="draft")
    sign_in(client, business)
    response = client.post(f"/tasks/{task.id}/publish")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/tasks/{task.id}")
    assert "Your task is live. Specialists can now find it." in flashes(client)
    db.session.refresh(task)
    assert task.status == TaskStatus.OPEN and task.published_at is not None


def test_publishing_twice_says_so_and_keeps_the_first_publication(client, business):
    task = factories.create_task(business, status="draft")
    sign_in(client, business)
    client.post(f"/tasks/{task.id}/publish")
    db.session.refresh(task)
    first = task.published_at
    flashes(client)
    client.post(f"/tasks/{task.id}/publish")
    assert "Only a draft can be published." in flashes(client)
    db.session.refresh(task)
    assert task.status == TaskStatus.OPEN and task.published_at == first


def test_a_draft_whose_start_date_passed_cannot_be_published(client, business):
    from datetime import timedelta

    from marketplace.core.time import utcnow
    today = utcnow().date()
    task = factories.create_task(business, status="draft", start_date=today, end_date=today + timedelta(days=2))
    sign_in(client, business)
    client.post(f"/tasks/{task.id}/publish")
    assert "The start date has passed. Edit the dates before publishing." in flashes(client)
    db.session.refresh(task)
    assert task.status == TaskStatus.DRAFT


# --- editing ---------------------------------------------------------------------------------

def test_owner_edits_an_open_task_nobody_is_hired_on(client, business):
    task = factories.create_task(business, skills={"intercom": 2}, languages=["fr"])
    sign_in(client, business)
    page = client.get(f"/tasks/{task.id}/edit")
    assert page.status_code == 200 and "Bilingual chat support for a launch weekend" in text(page)
    response = client.post(f"/tasks/{task.id}/edit", data=task_form(title="Edited title", budget="1200",
                                                                   languages=["de"]))
    assert response.status_code == 302
    assert "Task updated." in flashes(client)
    db.session.refresh(task)
    assert (task.title, task.budget, task.status) == ("Edited title", 120_000, TaskStatus.OPEN)
    assert task.language_codes == ["de"]
    assert {s.skill_id for s in task.required_skills} == {skill_id("zendesk")}
    # The old skill and language rows are gone, not left behind.
    assert count(TaskSkill, TaskSkill.task_id == task.id, TaskSkill.skill_id == skill_id("intercom")) == 0
    assert count(TaskLanguage, TaskLanguage.task_id == task.id, TaskLanguage.language == "fr") == 0


def test_edit_is_refused_once_someone_is_hired_and_nothing_changes(client, business):
    task = factories.create_task(business, seats=2, title="Original title", budget=50_000)
    accept_bid(business, add_bid(task, factories.create_freelancer()))
    db.session.refresh(task)
    assert task.filled_seats == 1 and task.status == TaskStatus.OPEN
    sign_in(client, business)
    response = client.post(f"/tasks/{task.id}/edit", data=task_form(title="Sneaky change", budget="5000"))
    assert response.status_code == 400
    assert "Someone has already been hired for this task, so it can't be edited." in text(response)
    db.session.expire_all()
    task = db.session.get(Task, task.id)
    assert (task.title, task.budget, task.seats) == ("Original title", 50_000, 2)


@pytest.mark.parametrize("status", ["cancelled", "in_progress", "completed"])
def test_edit_page_refuses_a_task_that_is_no_longer_editable(client, business, status):
    task = factories.create_task(business, status=status, title="Frozen title",
                                 filled_seats=1 if status != "cancelled" else 0)
    sign_in(client, business)
    response = client.post(f"/tasks/{task.id}/edit", data=task_form(title="Thawed"))
    assert response.status_code == 400
    assert ("This task can no longer be edited." in text(response)
            or "Someone has already been hired for this task, so it can't be edited." in text(response))
    assert fresh_task(task).title == "Frozen title"


def fresh_task(task) -> Task:
    db.session.expire_all()
    return db.session.get(Task, task.id)


def test_update_task_service_refuses_an_in_progress_task(business):
    task = factories.create_task(business, status="in_progress", filled_seats=1)
    from marketplace.tasks.services import TaskData
    with pytest.raises(Conflict):
        services.update_task(business, task, TaskData(
            title="x", description="y", channel="chat", timezone="UTC", work_hours_start=9, work_hours_end=17,
            start_date=task.start_date, end_date=task.end_date, pricing="fixed", budget=90_000,
            required_skills={skill_id("zendesk"): 1}, languages=["en"]))
    db.session.refresh(task)
    assert task.title == "Bilingual chat support for a launch weekend"


# --- cancelling and closing --------------------------------------------------------------------

def test_cancel_declines_pending_bids_with_a_notice(app, client, business):
    task = factories.create_task(business)
    pending = [add_bid(task, factories.create_freelancer()) for _ in range(2)]
    withdrawn = add_bid(task, factories.create_freelancer(), status=BidStatus.WITHDRAWN)
    sign_in(client, business)
    response = client.post(f"/tasks/{task.id}/cancel")
    assert response.status_code == 302
    assert "Task cancelled. Anyone who sent a proposal has been told." in flashes(client)
    db.session.expire_all()
    task = db.session.get(Task, task.id)
    assert task.status == TaskStatus.CANCELLED and task.closed_at is not None
    for bid in pending:
        bid = db.session.get(Bid, bid.id)
        assert bid.status == BidStatus.DECLINED and bid.decline_note == "The business cancelled this task."
        notes = db.session.scalars(select(Notification).where(Notification.user_id == bid.freelancer_id)).all()
        assert [n.kind for n in notes] == ["bid_declined"]
        assert "The business cancelled this task." in notes[0].body and notes[0].link == f"/tasks/{task.id}"
    assert db.session.get(Bid, withdrawn.id).status == BidStatus.WITHDRAWN
    assert count(Notification, Notification.user_id == withdrawn.freelancer_id) == 0
    # Gone from the listing and from the public task page.
    assert "Bilingual chat support" not in text(client.get("/tasks"))
    assert client_for(app).get(f"/tasks/{task.id}").status_code == 404


def test_a_draft_can_be_cancelled(client, business):
    task = factories.create_task(business, status="draft")
    sign_in(client, business)
    client.post(f"/tasks/{task.id}/cancel")
    db.session.refresh(task)
    assert task.status == TaskStatus.CANCELLED


def test_cancel_is_refused_after_a_hire(client, business):
    task = factories.create_task(business, seats=2)
    accept_bid(business, add_bid(task, factories.create_freelancer()))
    sign_in(client, business)
    client.post(f"/tasks/{task.id}/cancel")
    assert "Someone is already hired on this task. Close it to stop hiring instead." in flashes(client)
    db.session.refresh(task)
    assert task.status == TaskStatus.OPEN and task.closed_at is None


def test_close_needs_a_hire(client, business):
    task = factories.create_task(business)
    bid = add_bid(task, factories.create_freelancer())
    sign_in(client, business)
    client.post(f"/tasks/{task.id}/close")
    assert "Nobody is hired yet: cancel the task instead if you no longer need it." in flashes(client)
    db.session.expire_all()
    assert db.session.get(Task, task.id).status == TaskStatus.OPEN
    assert db.session.get(Bid, bid.id).status == BidStatus.PENDING


def test_close_with_a_hire_stops_hiring_and_declines_the_rest(app, client, business):
    task = factories.create_task(business, seats=3)
    accept_bid(business, add_bid(task, factories.create_freelancer()))
    waiting = add_bid(task, factories.create_freelancer())
    sign_in(client, business)
    client.post(f"/tasks/{task.id}/close")
    assert "Hiring closed. Pending proposals were declined politely." in flashes(client)
    db.session.expire_all()
    task = db.session.get(Task, task.id)
    assert task.status == TaskStatus.IN_PROGRESS and task.filled_seats == 1 and task.closed_at is not None
    waiting = db.session.get(Bid, waiting.id)
    assert waiting.status == BidStatus.DECLINED
    assert count(Notification, Notification.user_id == waiting.freelancer_id,
                 Notification.kind == "bid_declined") == 1
    # Nobody can bid any more.
    assert "This task is not taking proposals." in text(client_for(app, factories.create_freelancer())
                                                        .get(f"/tasks/{task.id}"))


# --- other businesses ---------------------------------------------------------------------------

def test_another_business_cannot_see_a_draft(client, business):
    draft = factories.create_task(business, status="draft")
    sign_in(client, factories.create_business())
    assert client.get(f"/tasks/{draft.id}").status_code == 404
    assert client.get(f"/tasks/{draft.id}/edit").status_code == 404


def test_visitor_and_freelancer_cannot_see_a_draft(client, business, freelancer):
    draft = factories.create_task(business, status="draft")
    assert client.get(f"/tasks/{draft.id}").status_code == 404
    sign_in(client, freelancer)
    assert client.get(f"/tasks/{draft.id}").status_code == 404


@pytest.mark.parametrize("status", ["draft", "open"])
def test_another_business_cannot_edit_publish_cancel_or_close(client, business, status):
    task = factories.create_task(business, status=status, title="Owner's title")
    add_bid(task, factories.create_freelancer()) if status == "open" else None
    sign_in(client, factories.create_business())
    expected = 404 if status == "draft" else 403
    assert client.get(f"/tasks/{task.id}/edit").status_code == expected
    assert client.post(f"/tasks/{task.id}/edit", data=task_form(title="Hijacked")).status_code == expected
    for action in ("publish", "cancel", "close"):
        assert client.post(f"/tasks/{task.id}/{action}").status_code == expected, action
    db.session.expire_all()
    task = db.session.get(Task, task.id)
    assert task.title == "Owner's title" and task.status == TaskStatus(status)
    assert all(b.status == BidStatus.PENDING for b in db.session.scalars(select(Bid).where(Bid.task_id == task.id)))


def test_freelancer_cannot_run_owner_actions(client, business, freelancer):
    task = factories.create_task(business)
    sign_in(client, freelancer)
    for action in ("cancel", "close"):
        assert client.post(f"/tasks/{task.id}/{action}").status_code == 403
    db.session.refresh(task)
    assert task.status == TaskStatus.OPEN


def test_services_refuse_a_non_owner(business):
    other = factories.create_business()
    task = factories.create_task(business, status="draft")
    for action in (services.publish_task, services.cancel_task, services.close_task):
        with pytest.raises(Forbidden):
            action(other, task)
    db.session.refresh(task)
    assert task.status == TaskStatus.DRAFT


def test_my_tasks_lists_only_own_tasks_with_bid_counts(client, business):
    mine = factories.create_task(business, title="Mine with proposals")
    add_bid(mine, factories.create_freelancer())
    add_bid(mine, factories.create_freelancer(), status=BidStatus.WITHDRAWN)
    factories.create_task(factories.create_business(), title="Somebody else's task")
    assert services.tasks_of(business)[0][1:] == (1, 1)
    sign_in(client, business)
    page = text(client.get("/tasks/mine"))
    assert "Mine with proposals" in page and "Somebody else's task" not in page
