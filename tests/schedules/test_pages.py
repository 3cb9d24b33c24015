"""The schedule pages through HTTP: build a schedule, claim, drop, mark missed, the feed, log time from a shift."""
from __future__ import annotations

import re
from datetime import date, timedelta

import icalendar
import pytest
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.profiles.models import FreelancerProfile
from marketplace.schedules import blocks, claims
from marketplace.schedules.models import ScheduleBlock, Shift, ShiftFeed
from tests import factories
from tests.conftest import login
from tests.schedules.helpers import NOW, hire, hourly_task, weekly


@pytest.fixture(autouse=True)
def pinned_clock(app, monkeypatch):
    monkeypatch.setitem(app.config, "FAKE_NOW", NOW.isoformat())


def _first_shift(block):
    return db.session.scalar(select(Shift).where(Shift.block_id == block.id).order_by(Shift.starts_at))


def test_the_business_builds_a_schedule_and_reads_its_week(client, login_as):
    task = hourly_task(start=date(2026, 11, 23), end=date(2026, 12, 20))
    login_as(task.business)
    response = client.post(f"/tasks/{task.id}/schedule/blocks", data={
        "kind": "weekly", "weekday": "3", "start": "22:00", "end": "02:00", "channel": "chat", "seats": "2"})
    assert response.status_code == 302
    block = db.session.scalar(select(ScheduleBlock).where(ScheduleBlock.task_id == task.id))
    assert (block.weekday, block.start_minute, block.end_minute, block.seats) == (3, 22 * 60, 2 * 60, 2)
    page = client.get(f"/tasks/{task.id}/schedule?week=2026-11-26").get_data(as_text=True)
    assert "Every Thursday 22:00–02:00 (+1 day)" in page
    assert page.count('data-testid="uncovered"') == 2       # Thursday 26 Nov, both seats open
    assert 'data-testid="coverage">0%' in page


def test_a_bad_block_is_a_form_error_and_changes_nothing(client, login_as):
    task = hourly_task()
    login_as(task.business)
    response = client.post(f"/tasks/{task.id}/schedule/blocks", data={
        "kind": "once", "weekday": "0", "start": "09:00", "end": "17:00", "channel": "chat", "seats": "1"})
    assert response.status_code == 400
    assert "Choose the date of the one-off block." in response.get_data(as_text=True)
    response = client.post(f"/tasks/{task.id}/schedule/blocks", data={
        "kind": "weekly", "weekday": "9", "start": "25:00", "end": "17:00", "channel": "chat", "seats": "x"})
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(ScheduleBlock)) == 0


def test_strangers_see_no_schedule(client, login_as):
    task = hourly_task()
    login_as(factories.create_business())
    assert client.get(f"/tasks/{task.id}/schedule").status_code == 404
    assert client.post(f"/tasks/{task.id}/schedule/blocks", data={}).status_code == 404


def test_a_specialist_claims_from_my_shifts_and_a_clash_is_refused(client, login_as):
    task = hourly_task(title="Chat queue for Brightline", start=date(2026, 11, 23), end=date(2026, 12, 20))
    other = hourly_task(title="Phone line for Nimbus", start=date(2026, 11, 23), end=date(2026, 12, 20))
    ana, _ = hire(task, zone="Europe/Madrid")
    hire(other, ana, zone="Europe/Madrid")
    shift = _first_shift(blocks.add_block(task.business, task, weekly(4, "09:00", "17:00"), now=NOW))
    clash = _first_shift(blocks.add_block(other.business, other, weekly(4, "12:00", "14:00"), now=NOW))
    login_as(ana)
    page = client.get("/shifts/mine").get_data(as_text=True)
    assert "Fri 27 Nov 15:00–23:00" in page                 # 09:00-17:00 New York in Madrid time
    assert "Claim every Friday" in page
    client.post(f"/shifts/{shift.id}/claim", data={})
    page = client.post(f"/shifts/{clash.id}/claim", data={}, follow_redirects=True).get_data(as_text=True)
    assert "already hold an overlapping shift: Chat queue for Brightline" in page
    assert [s.holder_id for s in shift.seat_rows] == [ana.id] and clash.open_seats == 1


def test_a_late_drop_from_my_shifts_reopens_the_seat(client, login_as):
    task = hourly_task(start=date(2026, 11, 23), end=date(2026, 12, 20))
    ana, _ = hire(task)
    shift = _first_shift(blocks.add_block(task.business, task, weekly(3, "09:00", "17:00"), now=NOW))
    claims.claim(ana, shift, now=NOW)
    login_as(ana)
    assert "Drop (late)" not in client.get("/shifts/mine").get_data(as_text=True)   # exactly 24 h ahead
    page = client.post(f"/shifts/{shift.id}/drop", data={}, follow_redirects=True).get_data(as_text=True)
    assert "Seat released" in page
    assert shift.open_seats == 1


def test_the_business_marks_a_past_shift_missed(client, login_as):
    task = hourly_task(start=date(2026, 11, 23), end=date(2026, 12, 20))
    block = blocks.add_block(task.business, task, weekly(2, "08:00", "09:00"), now=NOW - timedelta(days=1))
    ana, _ = hire(task)
    shift = _first_shift(block)
    claims.claim(ana, shift, now=NOW - timedelta(days=1))
    login_as(task.business)
    page = client.get(f"/tasks/{task.id}/schedule").get_data(as_text=True)
    assert "mark missed" in page
    client.post(f"/shift-seats/{shift.seat_rows[0].id}/missed", data={})
    assert shift.seat_rows[0].missed_at is not None


def test_the_ical_feed_lists_my_shifts_at_a_secret_revocable_address(client, login_as, app):
    task = hourly_task(title="Weekend chat", start=date(2026, 11, 23), end=date(2026, 12, 20))
    ana, _ = hire(task)
    shift = _first_shift(blocks.add_block(task.business, task, weekly(5, "22:00", "02:00"), now=NOW))
    claims.claim(ana, shift, now=NOW)
    login_as(ana)
    page = client.post("/shifts/feed", data={}, follow_redirects=True).get_data(as_text=True)
    address = page.split("stops the old): ")[1].split("<")[0].strip()
    path = address.split("localhost", 1)[-1]
    assert db.session.scalar(select(ShiftFeed.token_hash)) not in address      # only the hash is stored
    client.get("/logout")
    response = client.get(path)
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    parsed = icalendar.Calendar.from_ical(response.data)
    events = [c for c in parsed.walk("VEVENT")]
    assert len(events) == 1
    assert events[0].decoded("dtstart") == shift.start and events[0].decoded("dtend") == shift.end
    assert str(events[0]["summary"]) == "Weekend chat (chat)"
    login_as(ana)
    client.post("/shifts/feed/revoke", data={})
    assert client.get(path).status_code == 404


def test_log_time_from_a_shift_prefills_the_entry_in_my_time_zone(client, login_as):
    task = hourly_task(start=date(2026, 11, 23), end=date(2026, 12, 20))
    ana, contract = hire(task, zone="Europe/Madrid")
    block = blocks.add_block(task.business, task, weekly(2, "07:00", "08:30"), now=NOW - timedelta(days=1))
    shift = _first_shift(block)
    claims.claim(ana, shift, now=NOW - timedelta(days=1))
    login_as(ana)
    page = client.get("/shifts/mine?past=1").get_data(as_text=True)
    link = re.search(r'href="([^"]+)">Log time from this shift', page).group(1).replace("&amp;", "&")
    assert link.startswith(f"/contracts/{contract.id}/timesheet?day=2026-11-25&start=13%3A00&end=14%3A30")
    form = client.get(link).get_data(as_text=True)
    assert 'value="2026-11-25"' in form and 'value="13:00"' in form and 'value="14:30"' in form
    assert "Shift: " in form


def test_find_specialists_ranks_by_availability_over_the_open_hours(client, login_as):
    from tests.matching.test_ranking import specialist
    task = hourly_task(start=date(2026, 11, 23), end=date(2026, 12, 20), skills={"zendesk": 3}, channel="chat")
    weekdays = specialist("Wendy Weekdays", skills={"zendesk": 5}, languages={"en": "native"}, channels=("chat",),
                          tz="America/New_York", rating=(50, 10))
    weekends = specialist("Sam Saturdays", skills={"zendesk": 4}, languages={"en": "C2"}, channels=("chat",),
                          tz="Europe/London")
    db.session.get(FreelancerProfile, weekdays.id).preferred_hours = "Weekdays 09:00-17:00"
    db.session.get(FreelancerProfile, weekends.id).preferred_hours = "Sat, Sun 13:00–19:00"
    shift = _first_shift(blocks.add_block(task.business, task, weekly(5, "09:00", "13:00"), now=NOW))  # Sat 14-18 UTC
    login_as(task.business)
    page = client.get(f"/tasks/{task.id}/schedule/find?shift={shift.id}").get_data(as_text=True)
    assert "Sat 28 Nov 09:00–13:00" in page
    assert page.index("Sam Saturdays") < page.index("Wendy Weekdays")
    assert "Available for 4 of 4 open hours" in page and "available for 0 of 4 open hours" not in page
    assert page.count('data-testid="availability-match"') == 2


def test_a_swap_offered_on_my_shifts_is_confirmed_by_the_other_specialist(app, client, login_as):
    task = hourly_task(start=date(2026, 11, 23), end=date(2026, 12, 20))
    ana, _ = hire(task)
    ben, _ = hire(task)
    monday = _first_shift(blocks.add_block(task.business, task, weekly(0, "09:00", "17:00"), now=NOW))
    friday = _first_shift(blocks.add_block(task.business, task, weekly(4, "09:00", "17:00"), now=NOW))
    claims.claim(ana, friday, now=NOW)
    bens = claims.claim(ben, monday, now=NOW)
    login_as(ana)
    assert f'<option value="{bens.id}">' in client.get("/shifts/mine").get_data(as_text=True)
    page = client.post(f"/shifts/{friday.id}/swap", data={"seat_id": str(bens.id)},
                       follow_redirects=True).get_data(as_text=True)
    assert "it happens when they confirm" in page
    assert [s.holder_id for s in friday.seat_rows] == [ana.id]          # nothing moves yet
    other = app.test_client()
    assert login(other, ben).status_code == 302
    page = other.get("/shifts/mine").get_data(as_text=True)
    swap_id = re.search(r"/shift-swaps/(\d+)/accept", page).group(1)
    assert client.post(f"/shift-swaps/{swap_id}/accept", data={}).status_code == 403   # not Ana's to confirm
    page = other.post(f"/shift-swaps/{swap_id}/accept", data={}, follow_redirects=True).get_data(as_text=True)
    assert "Swap confirmed" in page
    db.session.expire_all()
    assert [s.holder_id for s in friday.seat_rows] == [ben.id]
    assert [s.holder_id for s in monday.seat_rows] == [ana.id]


def test_the_profile_shows_the_kept_shift_record(client):
    from tests.schedules.helpers import UTC
    from datetime import datetime
    task = hourly_task(start=date(2026, 8, 1), end=date(2026, 12, 20))
    block = blocks.add_block(task.business, task, weekly(0, "09:00", "17:00"), now=datetime(2026, 9, 1, tzinfo=UTC))
    ana, _ = hire(task)
    past = list(db.session.scalars(select(Shift).where(Shift.block_id == block.id, Shift.ends_at <= NOW)
                                   .order_by(Shift.starts_at)))[:3]
    for shift in past:
        claims.claim(ana, shift, now=past[0].start - timedelta(days=1))
    from marketplace.schedules import records
    records.mark_missed(task.business, past[1].seat_rows[0], now=NOW)
    page = client.get(f"/freelancers/{ana.id}").get_data(as_text=True)
    assert "Kept 2 of 3 shifts in the last 90 days (0 dropped late, 1 missed)" in page
