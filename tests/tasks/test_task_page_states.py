"""What the task pages and /tasks say, found in a first-time walkthrough: one story about hiring for
everyone, held tasks that say when matching opens, the time-zone filter, the company's name."""
from __future__ import annotations

from marketplace.extensions import db
from marketplace.profiles.models import BusinessProfile
from tests import factories
from tests.tasks.helpers import plain, sign_in


def test_a_filled_task_says_it_is_closed_to_visitors_and_specialists_alike(client):
    task = factories.create_task(status="in_progress", filled_seats=1)
    page = plain(client.get(f"/tasks/{task.id}"))
    assert "Closed: not taking proposals" in page and "Open to proposals" not in page
    assert "This task is not taking proposals any more." in page and "Want this work?" not in page
    sign_in(client, factories.create_freelancer())
    page = plain(client.get(f"/tasks/{task.id}"))
    assert "Closed: not taking proposals" in page and "This task is not taking proposals." in page


def test_an_open_task_invites_visitors_to_propose(client):
    task = factories.create_task()
    page = plain(client.get(f"/tasks/{task.id}"))
    assert "Open to proposals" in page and "Want this work?" in page


def test_a_held_task_tells_its_business_when_matching_becomes_available(client):
    business = factories.create_business()
    task = factories.create_task(business, moderation_status="pending_review")
    sign_in(client, business)
    page = plain(client.get(f"/tasks/{task.id}"))
    assert "Find specialists" not in page and "Publish task" not in page
    assert "Matching specialists and invitations open as soon as our team approves the task" in page
    response = client.get(f"/tasks/{task.id}/matches", follow_redirects=True)
    body = plain(response)
    assert "Publish the task to see matching specialists" not in body
    assert "waiting for a quick review by our team" in body


def test_the_time_zone_filter_has_a_control_in_the_form(client):
    factories.create_task(title="Tokyo night shift", timezone="Asia/Tokyo")
    factories.create_task(title="Madrid mornings", timezone="Europe/Madrid")
    body = client.get("/tasks?timezone=Asia/Tokyo").get_data(as_text=True)
    assert '<select class="form-select" id="timezone" name="timezone">' in body
    assert '<option value="Asia/Tokyo" selected>' in body
    assert "Tokyo night shift" in body and "Madrid mornings" not in body


def test_the_filter_panel_collapses_into_a_details_element(client):
    body = client.get("/tasks").get_data(as_text=True)
    assert '<details class="filter-panel mb-3">' in body          # closed until opened (or a wide screen)
    assert '<details class="filter-panel mb-3" open>' in client.get("/tasks?channel=chat").get_data(as_text=True)


def test_tasks_and_listings_show_the_company_not_the_person(client):
    business = factories.create_business(full_name="Bea Lindqvist")
    db.session.get(BusinessProfile, business.id).company_name = "Nordic Routers AB"
    task = factories.create_task(business, title="Router helpline")
    db.session.flush()
    page = plain(client.get(f"/tasks/{task.id}"))
    assert "Posted by Nordic Routers AB" in page and "Bea Lindqvist" not in page
    listing = plain(client.get("/tasks"))
    assert "Nordic Routers AB" in listing and "Bea Lindqvist" not in listing


def test_the_company_describes_itself_and_new_tasks_start_in_its_time_zone(client):
    business = factories.create_business()
    sign_in(client, business)
    response = client.post("/profile/edit", data={"company_name": "Kind Support GmbH", "website": "",
                                                  "industry": "", "size": "", "timezone": "Europe/Berlin",
                                                  "description": "We sell e-bikes and answer every rider kindly."})
    assert response.status_code == 302
    profile = db.session.get(BusinessProfile, business.id)
    db.session.refresh(profile)
    assert profile.description == "We sell e-bikes and answer every rider kindly."
    assert "We sell e-bikes" in client.get("/profile/edit").get_data(as_text=True)
    task = factories.create_task(business)
    assert "We sell e-bikes and answer every rider kindly." in plain(client.get(f"/tasks/{task.id}"))
    form = client.get("/tasks/new").get_data(as_text=True)
    assert '<option selected value="Europe/Berlin">' in form or '<option value="Europe/Berlin" selected>' in form
