"""The task form refuses bad input with a clear message and creates nothing."""
from __future__ import annotations

from datetime import timedelta

import pytest

from marketplace.core.errors import ValidationFailed
from marketplace.core.time import utcnow
from marketplace.extensions import db
from marketplace.tasks import services
from marketplace.tasks.models import Task
from marketplace.tasks.services import TaskData
from tests.tasks.helpers import count, future, sign_in, skill_id, task_form, text


def _refused(client, data, *messages):
    response = client.post("/tasks/new", data=data)
    page = text(response)
    assert response.status_code == 400, page[:500]
    for message in messages:
        assert message in page, message
    assert count(Task) == 0
    return page


@pytest.fixture()
def poster(client, business):
    return sign_in(client, business)


def test_budget_below_the_platform_minimum(app, poster):
    minimum = app.config["PLATFORM_MIN_BUDGET"]
    below = f"{(minimum - 1) / 100:.2f}"
    _refused(poster, task_form(budget=below), f"The budget must be at least ${minimum / 100:,.2f}.")


def test_budget_minimum_follows_the_setting(app, poster):
    old = app.config["PLATFORM_MIN_BUDGET"]
    app.config["PLATFORM_MIN_BUDGET"] = 100_000
    try:
        _refused(poster, task_form(budget="900"), "The budget must be at least $1,000.00.")
    finally:
        app.config["PLATFORM_MIN_BUDGET"] = old


def test_fixed_price_without_budget(poster):
    page = _refused(poster, task_form(budget=""), "Enter a budget for a fixed-price task.")
    assert 'id="budget-error"' in page          # shown next to the budget field itself


@pytest.mark.parametrize("budget", ["-500", "0", "100000.01"])
def test_budget_outside_the_form_bounds(poster, budget):
    _refused(poster, task_form(budget=budget), "Enter an amount between $0.01 and $100,000.00.")


@pytest.mark.parametrize("start", [0, -1, -30])
def test_start_date_today_or_in_the_past(poster, start):
    _refused(poster, task_form(start_date=future(start), end_date=future(5)),
             "The start date must be in the future.")


def test_end_before_start(poster):
    _refused(poster, task_form(start_date=future(10), end_date=future(9)),
             "The end date can't be before the start date.")


def test_missing_dates(poster):
    _refused(poster, task_form(start_date="", end_date=""), "Choose a start date.", "Choose an end date.")


def test_no_required_skill(poster):
    _refused(poster, task_form(**{"required-0-skill": ""}), "Add at least one required skill.")


def test_only_nice_to_have_skills_is_not_enough(poster):
    _refused(poster, task_form(**{"required-0-skill": "", "nice-0-skill": str(skill_id("zendesk"))}),
             "Add at least one required skill.")


def test_seats_zero(poster):
    _refused(poster, task_form(seats="0"), "Number must be at least 1.")


def test_seats_above_the_maximum(app, poster):
    limit = app.config["MAX_TASK_SEATS"]
    _refused(poster, task_form(seats=str(limit + 1)), f"Seats must be between 1 and {limit}.")


def test_seats_at_the_maximum_is_fine(app, poster, business):
    response = poster.post("/tasks/new", data=task_form(seats=str(app.config["MAX_TASK_SEATS"])))
    assert response.status_code == 302
    assert db.session.scalar(db.select(Task.seats)) == app.config["MAX_TASK_SEATS"]


def test_hourly_without_rate_or_hours(poster):
    page = _refused(poster, task_form(pricing="hourly", budget=""), "Enter a maximum hourly rate.",
                    "Estimate the hours.")
    assert 'id="max_rate-error"' in page and 'id="estimated_hours-error"' in page


def test_hourly_without_hours(poster):
    page = _refused(poster, task_form(pricing="hourly", budget="", max_rate="30"), "Estimate the hours.")
    assert "Enter a maximum hourly rate." not in page


def test_hourly_total_below_the_minimum(poster):
    _refused(poster, task_form(pricing="hourly", budget="", max_rate="1", estimated_hours="10"),
             "Rate × hours must come to at least $20.00.")


def test_hourly_rate_above_the_maximum(poster):
    _refused(poster, task_form(pricing="hourly", budget="", max_rate="1000.01", estimated_hours="10"),
             "Enter an amount between $0.01 and $1,000.00.")


def test_unknown_skill_id_from_a_tampered_select(poster):
    page = _refused(poster, task_form(**{"required-0-skill": "999999"}))
    assert "Not a valid choice." in page


@pytest.mark.parametrize("field,value", [("required-0-skill", "²"), ("required-0-min_level", "³")])
def test_non_ascii_digits_in_a_skill_row_are_refused_not_an_error(poster, field, value):
    _refused(poster, task_form(**{field: value}))


def test_same_skill_twice_in_required(poster):
    zendesk = str(skill_id("zendesk"))
    _refused(poster, task_form(**{"required-0-skill": zendesk, "required-1-skill": zendesk}),
             "Each skill once, please.")


def test_same_skill_required_and_nice_to_have(poster):
    zendesk = str(skill_id("zendesk"))
    _refused(poster, task_form(**{"required-0-skill": zendesk, "nice-0-skill": zendesk}), "Each skill once, please.")


def test_over_long_title(poster):
    _refused(poster, task_form(title="x" * 121), "Field cannot be longer than 120 characters.")


def test_title_of_exactly_120_characters_is_fine(poster):
    assert poster.post("/tasks/new", data=task_form(title="x" * 120)).status_code == 302
    assert count(Task) == 1


def test_blank_title_and_description(poster):
    _refused(poster, task_form(title="   ", description=""), "Give the task a title.", "Describe the work.")


def test_no_language(poster):
    _refused(poster, task_form(languages=[]), "Choose at least one language.")


def test_unknown_channel(poster):
    _refused(poster, task_form(channel="fax"), "Not a valid choice.")


def test_coverage_must_start_before_it_ends(poster):
    _refused(poster, task_form(work_hours_start="18", work_hours_end="9"), "Coverage hours must start before they end.")


def test_refused_publish_does_not_leave_a_draft_behind(poster):
    """Save-and-publish is one transaction: a refused publish doesn't keep half the work."""
    _refused(poster, task_form(publish="1", start_date=future(0)), "The start date must be in the future.")


# --- tampered or odd input is a form error, never a 500 ---------------------------------------------

@pytest.mark.parametrize("row", [{"required-0-skill": "abc"}, {"required-0-min_level": "high"},
                                 {"required-0-min_level": "9"}, {"nice-0-skill": "-1"}])
def test_tampered_skill_rows_are_form_errors(poster, row):
    _refused(poster, task_form(**row), "Not a valid choice.")


@pytest.mark.parametrize("field, value", [("budget", "900.505"), ("budget", "Infinity"), ("budget", "NaN"),
                                          ("budget", "lots")])
def test_amounts_that_are_not_plain_money_are_form_errors(poster, field, value):
    page = _refused(poster, task_form(**{field: value}))
    assert ("Enter an amount like 120 or 120.50 (at most two decimals)." in page
            or "Not a valid decimal value." in page)


def test_hourly_rate_with_three_decimals_is_a_form_error(poster):
    _refused(poster, task_form(pricing="hourly", budget="", max_rate="25.005", estimated_hours="10"),
             "Enter an amount like 120 or 120.50 (at most two decimals).")


# --- the service checks the same rules for every caller (pages and API) ---------------------------------

def _data(**overrides) -> TaskData:
    today = utcnow().date()
    values = dict(title="Service task", description="Help customers.", channel="chat", timezone="UTC",
                  work_hours_start=9, work_hours_end=17, start_date=today + timedelta(days=3),
                  end_date=today + timedelta(days=4), pricing="fixed", budget=90_000,
                  required_skills={skill_id("zendesk"): 3}, languages=["en"])
    values.update(overrides)
    return TaskData(**values)


@pytest.mark.parametrize("overrides, field, message", [
    (dict(budget=1_999), "budget", "The budget must be at least $20.00."),
    (dict(budget=10_000_001), "budget", "The budget can be at most $100,000.00."),
    (dict(title="y" * 121), "title", "Keep the title under 120 characters."),
    (dict(seats=0), "seats", "Seats must be between 1 and 20."),
    (dict(seats=21), "seats", "Seats must be between 1 and 20."),
    (dict(required_skills={}), "required_skills", "Add at least one required skill."),
    (dict(required_skills={999_999: 3}), "required_skills", "One of the skills is not in our list."),
    (dict(required_skills={1: 6}), "required_skills", "Skill levels go from 1 to 5."),
    (dict(nice_skills="same"), "nice_skills", "A skill can be required or nice to have, not both."),
    (dict(languages=["xx"]), "languages", "Choose languages from the list."),
    (dict(timezone="Mars/Olympus"), "timezone", "Choose a time zone from the list."),
    (dict(hiring_mode="auction"), "hiring_mode", "Choose how you want to hire."),
    (dict(pricing="hourly", budget=None, max_rate=None, estimated_hours=10), "max_rate",
     "The maximum rate must be between $0.01 and $1,000.00."),
    (dict(pricing="hourly", budget=None, max_rate=3_000, estimated_hours=0), "estimated_hours",
     "Estimate between 1 and 2000 hours."),
])
def test_create_task_service_validation(business, overrides, field, message):
    if overrides.get("nice_skills") == "same":
        overrides["nice_skills"] = {skill_id("zendesk"): 2}
    with pytest.raises(ValidationFailed) as refused:
        services.create_task(business, _data(**overrides))
    assert (refused.value.field, refused.value.message) == (field, message)
    assert count(Task) == 0


def test_create_task_service_saves_a_draft(business):
    task = services.create_task(business, _data(nice_skills={skill_id("churn-save"): 4}))
    assert task.id is not None and task.status.value == "draft" and task.business_id == business.id
    assert {(s.skill_id, s.required) for s in task.skills} == {(skill_id("zendesk"), True),
                                                              (skill_id("churn-save"), False)}


def test_suspended_business_cannot_create(business):
    from marketplace.accounts.models import AccountStatus
    from marketplace.core.errors import Forbidden
    business.status = AccountStatus.SUSPENDED
    db.session.flush()
    with pytest.raises(Forbidden):
        services.create_task(business, _data())
    assert count(Task) == 0
