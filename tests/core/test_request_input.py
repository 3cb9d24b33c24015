"""Text fields sent as file uploads, and numbers out of any column's range, are clear 4xx answers.

Both used to be 500s: Flask-WTF hands file parts to forms along with the text fields, and
query and form integers were converted with a bare `int()` (no bound, no digit limit).
"""
from __future__ import annotations

import io

import pytest
from flask import Flask
from sqlalchemy import func, select

from marketplace.core.forms import BoundedIntegerField, bounded_int, coerce_id
from marketplace.core.integers import MAX_ID, NotAnInteger, parse_int
from marketplace.core.query_args import QueryArgs
from marketplace.core.requests import accepts_files, register_request_guards
from marketplace.engagements import transitions
from marketplace.extensions import db
from marketplace.messaging import services as messaging
from marketplace.moderation.access import MFA_SESSION_KEY
from marketplace.tasks.models import Task
from tests import factories
from tests.payments.helpers import sandbox_fund
from tests.tasks.helpers import client_for, make_profile, task_form

HUGE = "9" * 5000


def as_file(text: str = "hello"):
    return (io.BytesIO(text.encode()), "field.txt")


def row_counts() -> dict[str, int]:
    return {table.name: db.session.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables}


# --- item: a text field sent as a file part ---------------------------------------------------------

@pytest.fixture()
def world():
    business, specialist = factories.create_business(), factories.create_freelancer()
    make_profile(specialist)
    task = factories.create_task(business)
    thread = messaging.get_or_create_thread(task, specialist.id)
    disputed = factories.create_engagement(business, specialist)
    sandbox_fund(disputed)
    transitions.open_dispute(business, disputed, "Half the shifts were missed.")
    db.session.flush()
    return {"business": business, "specialist": specialist, "task": task, "thread": thread, "disputed": disputed}


# (who sends it, path, the form's other fields, the field sent as a file)
FILE_CASES = [
    (None, "/login", {"password": "whatever-it-is-1"}, "email"),
    (None, "/login", {"email": "a@example.com"}, "password"),
    (None, "/password/forgot", {}, "email"),
    (None, "/signup", {"role": "business", "email": "new@example.com", "password": "long-enough-pass-1"},
     "full_name"),
    ("business", "/tasks/new", task_form, "title"),
    ("business", "/tasks/new", task_form, "description"),
    ("business", "/tasks/new", task_form, "required-0-skill"),
    ("specialist", "/tasks/{task}/bids", {"amount": "100"}, "cover_note"),
    ("specialist", "/tasks/{task}/bids", {"cover_note": "I can help"}, "amount"),
    ("specialist", "/profile/edit", {"hourly_rate": "20", "timezone": "UTC", "hours_per_week": "10"}, "headline"),
    ("business", "/profile/edit", {"timezone": "UTC"}, "company_name"),
    ("business", "/messages/{thread}", {}, "body"),
    ("business", "/engagements/{disputed}/dispute/statements", {}, "body"),
    ("specialist", "/report/task/{task}", {"reason": "spam"}, "details"),
    ("business", "/account/password", {"new_password": "another-long-pass-2"}, "current_password"),
    ("business", "/account/email", {"current_password": "x"}, "email"),
]


@pytest.mark.parametrize("who, path, others, field", FILE_CASES,
                         ids=[f"{case[1]}:{case[3]}" for case in FILE_CASES])
def test_a_text_field_sent_as_a_file_is_a_400_that_changes_nothing(app, world, who, path, others, field):
    browser = client_for(app, world[who] if who else None)
    data = dict(others() if callable(others) else others)
    data[field] = as_file()
    url = path.format(task=world["task"].id, thread=world["thread"].id, disputed=world["disputed"].id)
    before = row_counts()
    response = browser.post(url, data=data, content_type="multipart/form-data")
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert "takes text, not a file upload" in response.get_data(as_text=True)
    assert row_counts() == before


def test_a_file_part_with_an_unknown_name_is_refused_too(app, world):
    browser = client_for(app, world["business"])
    response = browser.post("/tasks/new", data={**task_form(), "attachment": as_file()},
                            content_type="multipart/form-data")
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Task).where(Task.title == task_form()["title"])) == 0


def test_a_view_that_declares_its_file_fields_receives_them():
    app = Flask(__name__)
    register_request_guards(app)

    @app.post("/avatar")
    @accepts_files("avatar")
    def avatar():
        from flask import request
        return {"size": len(request.files["avatar"].read()), "name": request.form.get("name")}

    browser = app.test_client()
    response = browser.post("/avatar", data={"avatar": as_file("12345"), "name": "Ada"},
                            content_type="multipart/form-data")
    assert response.status_code == 200 and response.get_json() == {"size": 5, "name": "Ada"}
    # Only the declared field: the text field sent as a file is still refused.
    response = browser.post("/avatar", data={"avatar": as_file(), "name": as_file()},
                            content_type="multipart/form-data")
    assert response.status_code == 400


def test_json_clients_get_the_reason_in_json(app):
    response = app.test_client().post("/login", data={"email": as_file()}, content_type="multipart/form-data",
                                      headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert "takes text, not a file upload" in response.get_json()["message"]


def test_a_nul_byte_in_a_repeated_value_or_a_field_name_is_refused(app):
    browser = app.test_client()
    assert browser.get("/tasks?language=en&language=e%00s").status_code == 400
    assert browser.post("/login", data={"email": "a@example.com", "pass\x00word": "x"}).status_code == 400


# --- item: integers out of range in query strings and forms ----------------------------------------

@pytest.mark.parametrize("raw, low, high, expected", [
    ("7", 1, 10, 7), (" 007 ", 0, 10, 7), ("2147483647", 1, MAX_ID, MAX_ID), ("-3", -5, 5, -3),
])
def test_parse_int_accepts_plain_numbers_in_bounds(raw, low, high, expected):
    assert parse_int(raw, low, high) == expected


@pytest.mark.parametrize("raw", ["", " ", "abc", "1.5", "1e3", "1_000", "+5", "٣", "²", "--1", "0x10", HUGE,
                                 "2147483648", "-1", "-" + HUGE, None])
def test_parse_int_refuses_everything_else_with_a_message(raw):
    with pytest.raises(NotAnInteger) as refused:
        parse_int(raw, 0, MAX_ID)
    assert str(refused.value).startswith("Enter a")


def test_parse_int_clamps_only_when_asked():
    assert parse_int(HUGE, 1, 50, clamp=True) == 50
    assert parse_int("-" + HUGE, 1, 50, clamp=True) == 1
    with pytest.raises(NotAnInteger):
        parse_int("abc", 1, 50, clamp=True)


def test_query_args_and_page_numbers_use_the_same_rule():
    read = QueryArgs({"a": "2147483648", "b": HUGE, "c": "12"})
    assert (read.integer("a", 1, MAX_ID), read.integer("b", 1, MAX_ID), read.integer("c", 1, MAX_ID)) == (None, None,
                                                                                                          12)
    assert len(read.errors) == 2
    assert bounded_int({"page": HUGE}, "page", 1) == 10_000
    assert bounded_int({"page": "٣"}, "page", 1) == 1
    with pytest.raises(ValueError):
        coerce_id("2147483648")


def _forms_of(package: str):
    """Every form class the app defines (imported through the app's views)."""
    from flask_wtf import FlaskForm
    from wtforms import Form

    seen, todo = [], [FlaskForm, Form]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith(package):
                seen.append(sub)
    return seen


def test_every_integer_field_of_the_app_is_bounded(app):
    from wtforms import IntegerField, SelectField
    from wtforms.fields.core import UnboundField

    forms = _forms_of("marketplace.")
    assert len(forms) > 15
    for form in forms:
        for name in dir(form):
            unbound = getattr(form, name, None)
            if not isinstance(unbound, UnboundField):
                continue
            if issubclass(unbound.field_class, IntegerField):
                assert issubclass(unbound.field_class, BoundedIntegerField), f"{form.__name__}.{name}"
            if issubclass(unbound.field_class, SelectField):
                assert unbound.kwargs.get("coerce", str) is not int, f"{form.__name__}.{name}: use coerce_id"


def test_quote_with_a_task_id_beyond_the_column_range_is_a_400(app):
    specialist = factories.create_freelancer()
    browser = client_for(app, specialist)
    for task_id in ("2147483648", HUGE, "-1", "abc", ""):
        response = browser.get(f"/bids/quote?task_id={task_id}&amount=10")
        assert response.status_code == 400, task_id
        assert response.get_json()["message"] == "task_id must be the id of a task."
    task = factories.create_task(skills={})
    response = browser.get(f"/bids/quote?task_id={task.id}&amount=10&estimated_hours={HUGE}")
    assert response.status_code == 400 and response.get_json()["error"] == "Bad hours"


@pytest.mark.parametrize("field, value", [("required-0-skill", HUGE), ("required-0-min_level", HUGE),
                                          ("required-0-skill", "2147483648"), ("nice-0-skill", HUGE),
                                          ("seats", "2147483648"), ("seats", HUGE), ("estimated_hours", HUGE)])
def test_task_form_numbers_beyond_any_range_are_form_errors(app, field, value):
    business = factories.create_business()
    response = client_for(app, business).post("/tasks/new", data=task_form(**{field: value}))
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Task).where(Task.business_id == business.id)) == 0


def test_huge_numbers_in_other_forms_and_filters_are_clear_errors(app):
    specialist, operator = factories.create_freelancer(), factories.create_operator()
    make_profile(specialist)
    task = factories.create_task(skills={})
    browser = client_for(app, specialist)
    response = browser.post(f"/tasks/{task.id}/bids", data={"amount": "100", "estimated_hours": "2147483648",
                                                             "cover_note": "I can help."})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "Enter a number no larger than 2,147,483,647." in page
    assert "Number must be between" not in page   # one clear message, not a range check on nothing
    response = browser.post("/profile/edit", data={"headline": "Calm", "hourly_rate": "20", "timezone": "UTC",
                                                   "hours_per_week": HUGE})
    assert response.status_code == 400
    operator_browser = client_for(app, operator)
    with operator_browser.session_transaction() as session:
        session[MFA_SESSION_KEY] = operator.get_id()
    response = operator_browser.get(f"/moderation/metrics?days={HUGE}")
    assert response.status_code == 400 and "preset periods" in response.get_data(as_text=True)
    response = operator_browser.get("/moderation/audit?target_id=2147483648")
    assert response.status_code == 200 and "target id must be a number" in response.get_data(as_text=True)
    business = factories.create_business()
    response = client_for(app, business).post(f"/freelancers/{specialist.id}/invite",
                                              data={"task_id": HUGE, "message": "Join us"})
    assert response.status_code == 302
