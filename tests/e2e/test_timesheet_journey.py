"""An hourly week in the browser: the specialist logs time (one entry past the weekly limit),
the business reads the same week with the over-limit part marked.

The server runs with FAKE_NOW pinned to a Sunday evening after the hire, so the whole
week is in the past and still open whatever day the suite runs on. The hire itself
(business, specialist, hourly task with 10 estimated hours, accepted proposal) is made
with the real hiring service; the hiring pages have their own journey.
"""
from __future__ import annotations

import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.e2e.conftest import REPO_ROOT, STARTUP_TIMEOUT, _free_port, _healthy, _server_env, _stop

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (make install-dev)").expect

pytestmark = pytest.mark.e2e

_HIRE = """
import sys
from marketplace import create_app
from marketplace.engagements.hiring import hire
from marketplace.bidding.models import Bid
from marketplace.extensions import db
from marketplace.profiles.models import FreelancerProfile
from tests import factories

app = create_app()
with app.app_context():
    business = factories.create_business(email="hourly-business@example.com", full_name="Hana Okafor")
    specialist = factories.create_freelancer(email="hourly-specialist@example.com", full_name="Diego Ramos")
    db.session.get(FreelancerProfile, specialist.id).timezone = "America/New_York"
    task = factories.create_task(business, title="Spanish chat coverage, up to 10 h a week", pricing="hourly",
                                 budget=None, max_rate=3000, estimated_hours=10)
    bid = Bid(task_id=task.id, freelancer_id=specialist.id, amount=3000, estimated_hours=10,
              cover_note="Native Spanish, five years of chat support.")
    db.session.add(bid)
    db.session.flush()
    contract = hire(business, bid)
    from marketplace.payments.saved_methods import save_sandbox_card
    save_sandbox_card(business, "succeeds")   # the contract starts once the business has a card on file
    db.session.commit()
    print(contract.id)
"""


def _next_sunday_evening(now: datetime) -> datetime:
    """Sunday 22:00 UTC of the week after this one: the hire (made now) is before the whole week."""
    monday = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    return monday + timedelta(days=13, hours=22)


@pytest.fixture(scope="module")
def hourly_server(tmp_path_factory):
    """A server of its own whose timesheet clock is pinned, with one hourly contract."""
    tmp = tmp_path_factory.mktemp("e2e-timesheet")
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = _server_env(tmp, base_url)
    fake_now = _next_sunday_evening(datetime.now(timezone.utc))
    env["FAKE_NOW"] = fake_now.isoformat()
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    for command in (flask + ["db", "upgrade"], flask + ["seed-skills"], [sys.executable, "-c", _HIRE]):
        result = subprocess.run(command, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                                text=True, timeout=120)
        assert result.returncode == 0, result.stderr[-2000:]
    contract_id = result.stdout.split()[-1]
    log_path = Path(tmp / "server.log")
    with open(log_path, "wb") as log:
        process = subprocess.Popen(flask + ["run", "--host", "127.0.0.1", "--port", str(port), "--no-reload"],
                                   cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        import time
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not _healthy(f"{base_url}/healthz"):
            assert process.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.2)
        yield {"base": base_url, "contract": int(contract_id), "now": fake_now}
    finally:
        _stop(process)


def _log_in(page, base: str, email: str) -> None:
    from tests.factories import PASSWORD
    page.goto(f"{base}/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Log in").click()
    expect(page).not_to_have_url(re.compile(r"/login"))


def _log(page, day: datetime, start: str, end: str, memo: str) -> None:
    form = page.locator("#log-time")
    form.locator("#day").fill(day.date().isoformat())
    form.locator("#start").fill(start)
    form.locator("#end").fill(end)
    form.locator("#channel").select_option("chat")
    form.locator("#memo").fill(memo)
    form.get_by_role("button", name="Save entry").click()


def test_specialist_logs_a_week_past_the_limit_and_the_business_reads_it(new_page, hourly_server):
    base, now = hourly_server["base"], hourly_server["now"]
    monday = now - timedelta(days=6, hours=22)

    specialist = new_page()
    _log_in(specialist, base, "hourly-specialist@example.com")
    specialist.goto(f"{base}/dashboard")
    summary = specialist.locator("#this-week")
    expect(summary).to_contain_text("Spanish chat coverage")
    expect(summary).to_contain_text("0:00 / 10:00 h")
    # Two clicks: "Log time", then save the prefilled hour that just ended (16:00-17:00 in New York).
    summary.get_by_role("link", name=re.compile("Log time")).click()
    expect(specialist.locator("#log-time #memo")).to_be_visible()
    specialist.locator("#log-time #memo").fill("Sunday queue check")
    specialist.locator("#log-time").get_by_role("button", name="Save entry").click()
    expect(specialist.locator("main .alert").first).to_contain_text("Logged 1:00 h.")

    _log(specialist, monday, "09:00", "13:00", "Chat queue: 31 tickets")
    expect(specialist.locator("main .alert").first).to_contain_text("Logged 4:00 h.")
    _log(specialist, monday + timedelta(days=1), "09:00", "13:00", "Chat queue: 27 tickets")
    _log(specialist, monday + timedelta(days=2), "21:00", "01:00", "Late shift for the launch")   # crosses midnight
    expect(specialist.locator("main .alert").first).to_contain_text("Logged 4:00 h.")
    _log(specialist, monday + timedelta(days=4), "09:00", "12:00", "Refund escalations")

    # An overlapping entry is a form error and adds nothing.
    _log(specialist, monday + timedelta(days=1), "12:00", "14:00", "Overlap")
    expect(specialist.locator("#log-time .invalid-feedback")).to_contain_text("overlaps your entry of Tue")
    specialist.goto(f"{base}/contracts/{hourly_server['contract']}/timesheet")
    expect(specialist.locator("[data-testid=logged]")).to_have_text("16:00 h")
    expect(specialist.locator("[data-testid=billable]")).to_have_text("10:00 h")
    expect(specialist.locator("[data-testid=over-limit]")).to_have_text("6:00 h")
    # 10 h x $30.00 = $300.00, $270.00 after the 10% fee.
    expect(specialist.locator("[data-testid=expected]")).to_have_text("$270.00")
    expect(specialist.locator("tr[data-entry-id]")).to_have_count(5)
    expect(specialist.locator("main")).to_contain_text("21:00–01:00 (+1 day)")

    business = new_page()
    _log_in(business, base, "hourly-business@example.com")
    business.goto(f"{base}/contracts/{hourly_server['contract']}")
    business.locator("#timesheet").get_by_role("link", name="Open the timesheet").click()
    grid = business.locator(".timesheet-grid")
    expect(grid.locator("tr[data-entry-id]")).to_have_count(5)
    # Read-only for the business: no form, no edit or delete buttons.
    expect(business.locator("#log-time")).to_have_count(0)
    expect(grid.get_by_role("button")).to_have_count(0)
    expect(grid.get_by_role("link", name=re.compile("Edit"))).to_have_count(0)
    # The over-limit part is marked: 2 h of Wednesday's late shift, all of Friday and Sunday.
    over = grid.locator("[data-testid=entry-over]")
    expect(over).to_have_text(["2:00 over limit", "3:00 over limit", "1:00 over limit"])
    expect(grid.locator("tr.table-danger")).to_have_count(3)
    expect(business.locator("[data-testid=billable]")).to_have_text("10:00 h")
    expect(business.locator("[data-testid=expected]")).to_have_text("$300.00")
    expect(business.locator("#over-limit-note")).to_contain_text("6:00 h past the weekly limit")
    # The business reads UTC (their profile's zone): the late shift started Thursday 02:00 UTC.
    expect(grid).to_contain_text("02:00–06:00")

    # The contract page carries the same week in its timesheet section.
    business.locator("#contract-page-link").click()
    expect(business.locator("#timesheet [data-testid=contract-week-hours]")).to_have_text("10:00 / 10:00 h")
    expect(business.locator("#timesheet")).to_contain_text("6:00 h over the limit (not billed)")
