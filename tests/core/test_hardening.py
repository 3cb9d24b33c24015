"""Bad input found in review: each one answers 4xx or a form error, never a 500, and fast."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marketplace.bidding.models import Bid
from marketplace.core.time import utcnow
from marketplace.engagements.models import Engagement
from marketplace.extensions import db
from tests import factories


@pytest.mark.parametrize("path", ["/tasks?budget_min=1e999999999", "/tasks?budget_max=1e200000",
                                  "/freelancers?rate_max=1e999999999", "/tasks?page=99999999999999999999"])
def test_absurd_numbers_in_listings_are_ignored(client, path):
    response = client.get(path)
    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/tasks/2147483648", "/freelancers/99999999999999999999",
                                  "/engagements/2147483648", "/messages/2147483648"])
def test_ids_beyond_the_column_range_are_404(client, login_as, path):
    login_as(factories.create_business())
    assert client.get(path).status_code == 404


def test_nul_bytes_are_refused(client, login_as):
    assert client.get("/tasks?q=a%00b").status_code == 400
    login_as(factories.create_freelancer())
    response = client.post("/profile/edit", data={"headline": "x\x00", "hourly_rate": "20", "timezone": "UTC",
                                                  "hours_per_week": "10"})
    assert response.status_code == 400


def test_profile_rate_with_three_decimals_is_a_form_error(client, login_as):
    login_as(factories.create_freelancer())
    response = client.post("/profile/edit", data={"headline": "Calm", "hourly_rate": "5.001", "timezone": "UTC",
                                                  "hours_per_week": "10"})
    assert response.status_code == 400 and "at most two decimals" in response.get_data(as_text=True)


def test_task_dates_far_in_the_future_are_refused(client, login_as, app):
    business = factories.create_business()
    login_as(business)
    from marketplace.profiles.models import Skill
    skill = db.session.scalar(select(Skill.id).limit(1))
    far = (utcnow().date() + timedelta(days=app.config["MAX_TASK_DAYS_AHEAD"] + 5)).isoformat()
    response = client.post("/tasks/new", data={
        "title": "Far away", "description": "Later", "channel": "chat", "languages": ["en"], "timezone": "America/Adak",
        "work_hours_start": "9", "work_hours_end": "24", "start_date": "9999-12-31", "end_date": "9999-12-31",
        "pricing": "fixed", "budget": "500", "seats": "1", "hiring_mode": "open",
        "required-0-skill": str(skill), "required-0-min_level": "3", "publish": "1"})
    assert response.status_code == 400 and "days ahead" in response.get_data(as_text=True)
    response = client.post("/tasks/new", data={
        "title": "Far away", "description": "Later", "channel": "chat", "languages": ["en"], "timezone": "UTC",
        "work_hours_start": "9", "work_hours_end": "17", "start_date": far, "end_date": far,
        "pricing": "fixed", "budget": "500", "seats": "1", "hiring_mode": "open",
        "required-0-skill": str(skill), "required-0-min_level": "3"})
    assert response.status_code == 400


def test_accepting_a_proposal_edited_after_it_was_shown_hires_nobody(client, login_as):
    task = factories.create_task()
    freelancer = factories.create_freelancer()
    bid = Bid(task_id=task.id, freelancer_id=freelancer.id, amount=40_000, cover_note="Hello")
    db.session.add(bid)
    db.session.flush()
    login_as(task.business)
    assert 'name="seen_amount" value="40000"' in client.get(f"/bids/{bid.id}/accept").get_data(as_text=True)
    bid.amount = 10_000_000  # the specialist edits the price after the page was rendered
    db.session.flush()
    response = client.post(f"/bids/{bid.id}/accept", data={"seen_amount": "40000", "seen_hours": ""},
                           follow_redirects=True)
    assert "changed this proposal a moment ago" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Engagement)) == 0
    response = client.post(f"/bids/{bid.id}/accept", data={"seen_amount": "10000000", "seen_hours": ""})
    assert response.status_code == 302 and "/engagements/" in response.headers["Location"]


def test_a_business_posting_a_proposal_gets_a_clear_403(client, login_as):
    task = factories.create_task()
    login_as(factories.create_business())
    response = client.post(f"/tasks/{task.id}/bids", data={"amount": "100", "cover_note": "hi"})
    assert response.status_code == 403
    assert "Only specialists can send proposals." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Bid)) == 0
