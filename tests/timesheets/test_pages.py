"""Timesheet pages: the specialist logs and edits, the business reads; refusals are form errors that change nothing."""
from datetime import date, time

import pytest
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.timesheets import services
from marketplace.timesheets.models import TimeEntry
from marketplace.timesheets.services import EntryInput
from tests import factories
from tests.timesheets.conftest import NOW, create_hourly_contract


@pytest.fixture(autouse=True)
def pinned_clock(app, monkeypatch):
    monkeypatch.setitem(app.config, "FAKE_NOW", NOW.isoformat())


def count_entries() -> int:
    return db.session.scalar(select(func.count()).select_from(TimeEntry))


def form(day="2026-11-24", start="09:00", end="13:00", memo="Spanish chat queue", channel="chat"):
    return {"day": day, "start": start, "end": end, "memo": memo, "channel": channel}


def with_week(zone="Europe/Madrid", limit=600):
    contract = create_hourly_contract(zone=zone, limit_minutes=limit, rate=3000)
    for day in (23, 24, 25):
        services.log_entry(contract.freelancer, contract, EntryInput(date(2026, 11, day), time(9), time(13),
                                                                     f"Tickets on the {day}th", "chat"), now=NOW)
    return contract


def test_specialist_logs_time_from_the_page(login_as):
    contract = create_hourly_contract(zone="Europe/Madrid")
    client = login_as(contract.freelancer)
    page = client.get(f"/contracts/{contract.id}/timesheet")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="log-time"' in html and "Europe/Madrid" in html
    # Prefilled with today and the hour that just ended in the specialist's zone (15:00 UTC = 16:00 Madrid).
    assert 'value="2026-11-26"' in html and 'value="15:00"' in html and 'value="16:00"' in html
    response = client.post(f"/contracts/{contract.id}/timesheet/entries", data=form())
    assert response.status_code == 302
    saved = db.session.scalar(select(TimeEntry))
    assert saved.minutes == 240 and saved.start.hour == 8
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Logged 4:00 h." in html and "09:00–13:00" in html and "Spanish chat queue" in html


@pytest.mark.parametrize("data, message", [
    (form(start="10:00", end="11:00"), "overlaps your entry of Tue 24 Nov 09:00–13:00"),
    (form(day="2026-11-27"), "ends in the future"),
    (form(day="2026-11-20"), "closed on Monday 23 Nov 00:00 UTC"),
    (form(memo=""), "what you worked on"),
    (form(start="nine"), "Not a valid time value"),
    (form(day="0001-01-01"), "earlier weeks are closed"),
    (form(day="9999-12-31"), "in the future"),
])
def test_bad_input_is_a_form_error_and_changes_nothing(login_as, data, message):
    contract = create_hourly_contract(zone="Europe/Madrid")
    services.log_entry(contract.freelancer, contract, EntryInput(date(2026, 11, 24), time(9), time(13), "First"),
                       now=NOW)
    client = login_as(contract.freelancer)
    response = client.post(f"/contracts/{contract.id}/timesheet/entries", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert count_entries() == 1


def test_business_sees_the_week_read_only_with_the_over_limit_part_marked(login_as):
    contract = with_week(limit=600)
    html = login_as(contract.business).get(f"/contracts/{contract.id}/timesheet").get_data(as_text=True)
    assert 'id="log-time"' not in html and "/timesheet/entries/" not in html and "Delete" not in html
    assert html.count('data-testid="entry-over"') == 1 and "2:00 over limit" in html
    assert 'data-testid="logged">12:00 h' in html and 'data-testid="billable">10:00 h' in html
    assert "$300.00" in html        # 10 h x $30.00, what the business is charged
    assert "isn't billed; you may pay it as a bonus" in html
    # The business's own time zone (UTC by default) is used for display.
    assert "08:00–12:00" in html


def test_the_business_cannot_write_and_strangers_cannot_read(login_as, client):
    contract = with_week()
    entry_id = db.session.scalar(select(TimeEntry.id).limit(1))
    login_as(contract.business)
    assert client.post(f"/contracts/{contract.id}/timesheet/entries", data=form(day="2026-11-26",
                                                                                 start="09:00", end="10:00")).status_code == 403
    assert client.post(f"/contracts/{contract.id}/timesheet/entries/{entry_id}/delete").status_code == 403
    assert client.get(f"/contracts/{contract.id}/timesheet/entries/{entry_id}/edit").status_code == 403
    client.post("/logout")
    login_as(factories.create_freelancer())
    assert client.get(f"/contracts/{contract.id}/timesheet").status_code == 404
    assert count_entries() == 3


def test_an_entry_of_another_contract_is_not_found(login_as):
    contract = with_week()
    other = create_hourly_contract(freelancer=contract.freelancer)
    entry_id = db.session.scalar(select(TimeEntry.id).limit(1))
    client = login_as(contract.freelancer)
    assert client.get(f"/contracts/{other.id}/timesheet/entries/{entry_id}/edit").status_code == 404
    assert client.post(f"/contracts/{other.id}/timesheet/entries/{entry_id}/delete").status_code == 404
    assert count_entries() == 3


def test_specialist_edits_and_deletes_an_entry(login_as):
    contract = with_week()
    first, second, third = db.session.scalars(select(TimeEntry).order_by(TimeEntry.started_at)).all()
    client = login_as(contract.freelancer)
    page = client.get(f"/contracts/{contract.id}/timesheet/entries/{first.id}/edit").get_data(as_text=True)
    assert 'value="2026-11-23"' in page and 'value="09:00"' in page and "Tickets on the 23th" in page
    response = client.post(f"/contracts/{contract.id}/timesheet/entries/{first.id}/edit",
                           data=form(day="2026-11-23", start="09:00", end="10:30", memo="Shorter"))
    assert response.status_code == 302
    refused = client.post(f"/contracts/{contract.id}/timesheet/entries/{first.id}/edit",
                          data=form(day="2026-11-24", start="12:00", end="14:00"))
    assert refused.status_code == 400 and "overlaps" in refused.get_data(as_text=True)
    assert client.post(f"/contracts/{contract.id}/timesheet/entries/{third.id}/delete").status_code == 302
    db.session.expire_all()
    assert [(e.minutes, e.memo) for e in db.session.scalars(select(TimeEntry).order_by(TimeEntry.started_at))] == [
        (90, "Shorter"), (240, "Tickets on the 24th")]


def test_week_navigation_and_closed_weeks_are_read_only(login_as):
    contract = with_week()
    client = login_as(contract.freelancer)
    html = client.get(f"/contracts/{contract.id}/timesheet?week=2026-11-16").get_data(as_text=True)
    assert "Week of Mon 16 Nov" in html and "closed" in html and 'id="log-time"' not in html
    assert "week=2026-11-23" in html and "week=2026-11-09" in html
    # Junk and future weeks fall back to the current one.
    for junk in ("2026-13-01", "x", "2099-01-05", "99999-01-01"):
        page = client.get(f"/contracts/{contract.id}/timesheet?week={junk}")
        assert page.status_code == 200 and "Week of Mon 23 Nov" in page.get_data(as_text=True)


def test_business_changes_the_limit_from_next_week(login_as, client):
    contract = with_week(limit=600)
    login_as(contract.business)
    response = client.post(f"/contracts/{contract.id}/timesheet/limit", data={"hours": "12.5"})
    assert response.status_code == 302
    db.session.expire_all()
    html = client.get(f"/contracts/{contract.id}/timesheet").get_data(as_text=True)
    assert "From next week the limit is 12:30 h." in html and 'data-testid="billable">10:00 h' in html
    assert client.post(f"/contracts/{contract.id}/timesheet/limit", data={"hours": "0"}).status_code == 400
    client.post("/logout")
    login_as(contract.freelancer)
    assert client.post(f"/contracts/{contract.id}/timesheet/limit", data={"hours": "40"}).status_code == 403


def test_dashboard_log_time_is_two_clicks(login_as):
    contract = with_week()
    client = login_as(contract.freelancer)
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert 'id="this-week"' in dashboard and "Log time" in dashboard
    link = f"/contracts/{contract.id}/timesheet#log-time"
    assert link in dashboard
    # The weekly summary: 10 h billable x $30 = $300, $270 after the 10% fee.
    assert "10:00 / 10:00" in dashboard and "$270.00" in dashboard
    # The business sees the same week as an expected charge, without "Log time".
    client.post("/logout")
    business = login_as(contract.business).get("/dashboard").get_data(as_text=True)
    assert 'id="this-week"' in business and "$300.00" in business and link not in business


@pytest.mark.parametrize("value", ["NaN", "sNaN", "Infinity", "-Infinity", "1e999", "abc", "", "0.001", "61", "-5"])
def test_a_bad_weekly_limit_is_a_form_error(login_as, value):
    contract = create_hourly_contract(limit_minutes=600)
    response = login_as(contract.business).post(f"/contracts/{contract.id}/timesheet/limit", data={"hours": value})
    assert response.status_code == 400
    db.session.expire_all()
    assert (contract.weekly_limit_minutes, contract.next_weekly_limit_minutes) == (600, None)


def test_the_contract_page_has_a_timesheet_section_on_hourly_contracts(login_as, client):
    contract = with_week(limit=600)
    login_as(contract.freelancer)
    html = client.get(f"/contracts/{contract.id}").get_data(as_text=True)
    assert 'id="timesheet"' in html and 'data-testid="contract-week-hours">10:00 / 10:00 h' in html
    assert "2:00 h over the limit" in html and "$270.00" in html
    assert f"/contracts/{contract.id}/timesheet#log-time" in html
    client.post("/logout")
    login_as(contract.business)
    html = client.get(f"/contracts/{contract.id}").get_data(as_text=True)
    assert "expected charge <strong>$300.00" in html and "#log-time" not in html
    fixed = create_hourly_contract(business=contract.business, kind="fixed")
    assert 'id="timesheet"' not in client.get(f"/contracts/{fixed.id}").get_data(as_text=True)
    assert client.get(f"/contracts/{fixed.id}/timesheet").status_code == 403
