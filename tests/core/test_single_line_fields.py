"""Single-line fields (titles, names, company names, headlines, ...) never keep a line break.

A title or name with a newline used to reach mail subjects, where it broke delivery.
"""
from __future__ import annotations

import importlib
import pkgutil

from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import Form, HiddenField, PasswordField, StringField, TextAreaField

import marketplace
from marketplace.accounts.models import User
from marketplace.core.forms import single_line
from marketplace.extensions import db
from marketplace.profiles.models import BusinessProfile, FreelancerProfile
from marketplace.tasks.models import Task
from tests.profiles.test_profiles import profile_form
from tests.tasks.helpers import task_form

BREAKS = "\r\n\t\u2028\x0b\x85"


def test_the_filter_folds_every_kind_of_line_break_and_control_character():
    assert single_line(f"  Night{BREAKS}shift \n\n cover\x00 ") == "Night shift cover"
    assert single_line(None) is None


def test_a_task_title_with_line_breaks_is_stored_on_one_line(client, business, login_as):
    login_as(business)
    response = client.post("/tasks/new", data=task_form(title="Night\r\nshift\u2028cover\nBcc: x@example.com"))
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert db.session.scalar(select(Task.title).where(Task.business_id == business.id)) \
        == "Night shift cover Bcc: x@example.com"


def test_a_title_made_only_of_line_breaks_is_a_missing_title(client, business, login_as):
    login_as(business)
    response = client.post("/tasks/new", data=task_form(title="\r\n\t"))
    assert response.status_code == 400 and "Give the task a title." in response.get_data(as_text=True)


def test_a_name_with_line_breaks_is_stored_on_one_line(client):
    response = client.post("/signup", data={"role": "freelancer", "full_name": "Ada\r\nLovelace\n",
                                            "email": "ada@example.com", "password": "copper-lantern-sea-19"})
    assert response.status_code == 302
    assert db.session.scalar(select(User.full_name).where(User.email == "ada@example.com")) == "Ada Lovelace"


def test_a_headline_is_stored_on_one_line(client, freelancer, login_as):
    login_as(freelancer)
    assert client.post("/profile/edit", data=profile_form(headline="Calm\ntroubleshooter",
                                                          preferred_hours="Mornings\r\nCET")).status_code == 302
    profile = db.session.get(FreelancerProfile, freelancer.id)
    db.session.refresh(profile)
    assert (profile.headline, profile.preferred_hours) == ("Calm troubleshooter", "Mornings CET")


def test_a_company_name_is_stored_on_one_line(client, business, login_as):
    login_as(business)
    assert client.post("/profile/edit", data={"company_name": "Parcel\r\nwise", "website": "", "industry": "Logistics",
                                              "size": "51-200", "timezone": "UTC"}).status_code == 302
    company = db.session.get(BusinessProfile, business.id)
    db.session.refresh(company)
    assert company.company_name == "Parcel wise"


def _all_form_classes() -> list[type]:
    for module in pkgutil.walk_packages(marketplace.__path__, "marketplace."):
        importlib.import_module(module.name)
    found, todo = [], [FlaskForm, Form]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub.__module__.startswith("marketplace."):
                found.append(sub)
            todo.append(sub)
    return found


def test_every_single_line_text_field_of_every_form_is_folded_to_one_line():
    # Multi-line text is a TextAreaField; passwords are taken as typed; hidden fields carry tokens
    # and redirect targets, which have their own checks.
    exempt = (TextAreaField, PasswordField, HiddenField)
    forms = _all_form_classes()
    assert len(forms) > 15
    unfiltered = []
    for form in forms:
        for name in dir(form):
            unbound = getattr(form, name, None)
            field_class = getattr(unbound, "field_class", None)
            if field_class is None or not issubclass(field_class, StringField) or issubclass(field_class, exempt):
                continue
            filters = list(unbound.kwargs.get("filters", ()))
            if single_line not in filters and not _folds_by_default(field_class):
                unfiltered.append(f"{form.__module__}.{form.__name__}.{name}")
    assert unfiltered == []


def _folds_by_default(field_class) -> bool:
    form = Form()
    field = field_class(filters=()).bind(form, "probe")
    field.process(None, "a\nb")
    field.process_formdata(["a\nb"])
    for f in field.filters:
        field.data = f(field.data)
    return field.data == "a b"


def test_services_fold_single_line_values_from_any_door(app):
    # The CLI and jobs do not go through the forms.
    from marketplace.accounts.services import create_operator
    from marketplace.notifications.services import notify

    operator = create_operator("ops@example.com", "a long operator passphrase 7", "Night\nOps")
    assert operator.full_name == "Night Ops"
    assert notify(operator, "moderation", "Task “Launch\r\nweekend” was held").title == "Task “Launch weekend” was held"
