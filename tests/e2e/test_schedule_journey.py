"""A coverage schedule in the browser: the business builds a weekly schedule and hires two specialists;
they claim shifts (one tries a clashing shift and is refused); one drops a shift late; the calendar
shows the gap; the business invites a specialist whose stated hours cover it; and, two days later,
time is logged from a shift with its hours filled in.

The server's clock is pinned (FAKE_NOW) to next Monday 12:00 UTC, before Monday's 09:00 New York
shift, then restarted on the same database pinned to Wednesday for the time entry. Accounts (with
confirmed emails), the hourly task and the two proposals are made by a script; everything else goes
through the pages, including the card the business saves after its first hourly hire (hourly contracts
start, and time can be logged, only once the business has a card on file).
"""
from __future__ import annotations

import re
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.e2e.conftest import REPO_ROOT, STARTUP_TIMEOUT, _free_port, _healthy, _server_env, _stop

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (make install-dev)").expect

pytestmark = pytest.mark.e2e

_SETUP = """
import sys
from datetime import date
from sqlalchemy import select
from marketplace import create_app
from marketplace.bidding.models import Bid
from marketplace.extensions import db
from marketplace.profiles.models import FreelancerProfile, Skill
from marketplace.profiles.services import FreelancerProfileData, update_freelancer_profile
from tests import factories

start = date.fromisoformat(sys.argv[1])
app = create_app()
with app.app_context():
    business = factories.create_business(email="coverage-business@example.com", full_name="Hana Okafor")
    task = factories.create_task(business, title="Chat queue coverage in New York hours", pricing="hourly",
                                 budget=None, max_rate=3500, estimated_hours=20, seats=3, channel="chat",
                                 timezone="America/New_York", start_date=start, end_date=date.fromordinal(start.toordinal() + 28))
    zendesk = db.session.scalar(select(Skill.id).where(Skill.slug == "zendesk"))
    for email, name, zone, hours in (("ana@example.com", "Ana Pereira", "America/New_York", "Weekdays 09:00-17:00"),
                                     ("ben@example.com", "Ben Carter", "Europe/London", "Weekdays 13:00-22:00"),
                                     ("noor@example.com", "Noor Haddad", "America/New_York", "Weekdays 08:00-18:00")):
        person = factories.create_freelancer(email=email, full_name=name)
        update_freelancer_profile(person, db.session.get(FreelancerProfile, person.id), FreelancerProfileData(
            headline="Chat support with a steady hand", bio="Kind and quick.", hourly_rate=3000, timezone=zone,
            hours_per_week=30, preferred_hours=hours, channels=["chat"], skills={zendesk: 4}, languages={"en": "native"}))
        if name != "Noor Haddad":
            db.session.add(Bid(task_id=task.id, freelancer_id=person.id, amount=3000, estimated_hours=20,
                               cover_note=f"{name}: happy to hold regular shifts."))
    db.session.commit()
    print(task.id)
"""


def _next_monday_noon(now: datetime) -> datetime:
    monday = (now + timedelta(days=7 - now.weekday())).replace(hour=12, minute=0, second=0, microsecond=0)
    return monday


def _start(tmp: Path, env: dict, port: int, fake_now: datetime, name: str):
    env = dict(env, FAKE_NOW=fake_now.isoformat())
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    log = open(tmp / f"{name}.log", "wb")
    process = subprocess.Popen(flask + ["run", "--host", "127.0.0.1", "--port", str(port), "--no-reload"],
                               cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not _healthy(f"http://127.0.0.1:{port}/healthz"):
        assert process.poll() is None, (tmp / f"{name}.log").read_text()
        assert time.monotonic() < deadline, (tmp / f"{name}.log").read_text()
        time.sleep(0.2)
    return process


@pytest.fixture(scope="module")
def coverage_world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("e2e-schedule")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = _server_env(tmp, base)
    monday = _next_monday_noon(datetime.now(timezone.utc))
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    for command in (flask + ["db", "upgrade"], flask + ["seed-skills"],
                    [sys.executable, "-c", _SETUP, monday.date().isoformat()]):
        result = subprocess.run(command, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                                text=True, timeout=120)
        assert result.returncode == 0, result.stderr[-2000:]
    servers = []

    def at(fake_now: datetime) -> str:
        while servers:
            _stop(servers.pop())
        servers.append(_start(tmp, env, port, fake_now, f"server-{len(servers)}"))
        return base

    try:
        yield {"at": at, "monday": monday, "task": int(result.stdout.strip())}
    finally:
        while servers:
            _stop(servers.pop())


def _log_in(page, base: str, email: str) -> None:
    from tests.factories import PASSWORD
    page.goto(f"{base}/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Log in").click()
    expect(page).not_to_have_url(re.compile(r"/login"))


def _add_block(page, weekday: str, start: str, end: str, seats: str) -> None:
    form = page.locator("#block-form")
    form.get_by_label("Every week").check()
    form.locator("#weekday").select_option(label=weekday)
    form.locator("#start").fill(start)
    form.locator("#end").fill(end)
    form.locator("#seats").fill(seats)
    form.get_by_role("button", name="Add block").click()
    expect(page.locator("main .alert").first).to_contain_text(f"Added every {weekday} {start}–{end}")


def _london_hours(day: datetime) -> str:
    """09:00-17:00 New York on `day`, on a London wall clock ("14:00–22:00" most of the year)."""
    from zoneinfo import ZoneInfo
    new_york, london = ZoneInfo("America/New_York"), ZoneInfo("Europe/London")
    start = datetime.combine(day.date(), datetime.min.time().replace(hour=9), tzinfo=new_york).astimezone(london)
    end = datetime.combine(day.date(), datetime.min.time().replace(hour=17), tzinfo=new_york).astimezone(london)
    return f"{start:%H:%M}–{end:%H:%M}"


def _flash(page):
    return page.locator("main .alert").first


def test_business_builds_a_schedule_specialists_claim_one_drops_late_and_the_gap_gets_filled(new_page, coverage_world):
    base = coverage_world["at"](coverage_world["monday"])
    task_id = coverage_world["task"]

    business = new_page()
    _log_in(business, base, "coverage-business@example.com")
    business.goto(f"{base}/tasks/{task_id}")
    business.locator("#coverage-schedule").click()
    expect(business.locator("h1")).to_have_text("Coverage schedule")
    _add_block(business, "Monday", "09:00", "13:00", "1")
    _add_block(business, "Monday", "12:00", "16:00", "1")
    _add_block(business, "Tuesday", "09:00", "17:00", "2")
    expect(business.locator("#blocks li")).to_have_count(3)
    expect(business.locator("[data-testid=coverage]")).to_have_text("0%")

    # Hire both proposals from the task page, through the confirmation step. An hourly hire charges nothing
    # up front; the business has no card yet, so the first hire sends it to save one (the sandbox test card),
    # without which no time could be logged on the contracts.
    for name in ("Ana Pereira", "Ben Carter"):
        business.goto(f"{base}/tasks/{task_id}")
        business.locator("#proposals .proposal-card", has_text=name).get_by_role("link", name="Accept and hire…").click()
        confirm = business.get_by_test_id("confirm-step")
        expect(confirm).to_contain_text(f"Hire {name}")
        expect(confirm).to_contain_text("Nothing is charged now")
        confirm.get_by_role("button", name="Accept and hire").click()
        expect(_flash(business)).to_contain_text("Hired!")
        if name == "Ana Pereira":
            expect(business.get_by_role("heading", name="Billing")).to_be_visible()
            business.get_by_test_id("saved-card").get_by_role("button", name="Save a card").click()
            business.get_by_role("button", name="Save a test card").click()
            expect(business.get_by_test_id("saved-card")).to_contain_text("Visa ending 4242")
        else:   # the card is on file: the second hire lands on its contract, which has started
            expect(business).to_have_url(re.compile(r"/contracts/\d+$"))
            expect(business.locator("#waiting-for-card")).to_have_count(0)

    ana = new_page()
    _log_in(ana, base, "ana@example.com")
    ana.goto(f"{base}/shifts/mine")
    ana.locator("[data-testid=open-shift]", has_text="09:00–13:00").first.get_by_role("button", name="Claim", exact=True).click()
    expect(_flash(ana)).to_contain_text("You claimed 1 shift.")
    ana.locator("[data-testid=open-shift]", has_text="12:00–16:00").first.get_by_role("button", name="Claim", exact=True).click()
    expect(_flash(ana)).to_contain_text("You already hold an overlapping shift: Chat queue coverage in New York hours")
    expect(_flash(ana)).to_contain_text("09:00–13:00")

    ben = new_page()
    _log_in(ben, base, "ben@example.com")
    ben.goto(f"{base}/shifts/mine")
    london = _london_hours(coverage_world["monday"] + timedelta(days=1))    # Tuesday 09:00-17:00 New York
    tuesday_card = ben.locator("[data-testid=open-shift]", has_text=london).first
    expect(tuesday_card).to_contain_text("09:00–17:00 New York time")
    tuesday_card.get_by_role("button", name="Claim every Tuesday").click()
    expect(_flash(ben)).to_contain_text("You claimed 4 shifts.")

    # Monday's 09:00 shift starts within the hour or two: dropping it now is late.
    ana.goto(f"{base}/shifts/mine")
    ana.locator("[data-testid=my-shift]", has_text="09:00–13:00").get_by_role("button", name="Drop (late)").click()
    expect(_flash(ana)).to_contain_text("Late drop")

    # The calendar shows the gap; the business finds someone whose hours cover it and invites them.
    business.goto(f"{base}/tasks/{task_id}/schedule")
    gap = business.locator("[data-testid=shift]", has_text="09:00–13:00")
    expect(gap.locator("[data-testid=uncovered]")).to_have_count(1)
    tuesday = business.locator("[data-testid=shift]", has_text="09:00–17:00")
    expect(tuesday).to_contain_text("Ben Carter")
    expect(tuesday).to_contain_text("1/2 held")
    expect(business.locator("[data-testid=coverage]")).not_to_have_text("0%")
    gap.get_by_role("link", name="Find specialists").click()
    match = business.locator("[data-testid=availability-match]").first
    expect(match).to_contain_text("Noor Haddad")
    expect(match).to_contain_text("Available for 4 of 4 open hours")
    match.get_by_role("button", name="Invite Noor").click()
    expect(_flash(business)).to_contain_text("Invitation sent.")
    expect(business.locator("[data-testid=availability-match]", has_text="Noor Haddad")).to_contain_text("Invited")

    # Two days later Ben's Tuesday shift is over: he logs its time from the shift, hours filled in.
    base = coverage_world["at"](coverage_world["monday"] + timedelta(days=2))
    ben = new_page()
    _log_in(ben, base, "ben@example.com")
    ben.goto(f"{base}/shifts/mine")
    ben.locator("#past-shifts").click()
    ben.locator("[data-testid=my-shift]").first.get_by_role("link", name="Log time from this shift").click()
    form = ben.locator("#log-time")
    expect(form.locator("#start")).to_have_value(re.compile("^" + london[:5]))
    expect(form.locator("#end")).to_have_value(re.compile("^" + london[-5:]))
    expect(form.locator("#memo")).to_have_value("Shift: Chat queue coverage in New York hours")
    form.get_by_role("button", name="Save entry").click()
    expect(_flash(ben)).to_contain_text("Logged 8:00 h.")
