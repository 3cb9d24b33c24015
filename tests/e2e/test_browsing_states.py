"""What visitors read on /tasks and on a task page, in a real browser: a filled task is closed for
everyone, a page past the end shows the last page, and the time-zone filter is in the form."""
from __future__ import annotations

import re

import pytest

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (make install-dev)")
expect = sync_api.expect

pytestmark = pytest.mark.e2e


def test_a_filled_task_is_closed_for_visitors(page, live_server, demo):
    page.goto(f"{live_server}/tasks/{demo['filled_task']}")
    expect(page.get_by_test_id("hiring-state")).to_have_text("Closed: not taking proposals")
    expect(page.get_by_test_id("not-hiring")).to_be_visible()
    expect(page.get_by_text("Want this work?")).to_have_count(0)
    expect(page.get_by_test_id("posted-by")).to_have_text("Brightline Home Internet")


def test_a_page_past_the_end_shows_the_last_page(page, live_server, demo):
    page.goto(f"{live_server}/tasks?page=99")
    expect(page).to_have_url(re.compile(r"/tasks\?page=\d$"))
    expect(page.get_by_text("No open tasks match these filters")).to_have_count(0)
    expect(page.locator("main .card h2 a").first).to_be_visible()
    label = page.locator(".pagination .page-item.disabled span").inner_text()
    number, total = re.match(r"Page (\d+) of (\d+)", label).groups()
    assert number == total


def test_the_time_zone_filter_is_a_control_in_the_form(page, live_server, demo):
    page.goto(f"{live_server}/tasks")
    page.locator("#timezone").select_option("Europe/Berlin")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"timezone=Europe%2FBerlin"))
    expect(page.locator("#timezone")).to_have_value("Europe/Berlin")
    for card in page.locator("main .card p.small").all():
        expect(card).to_contain_text("Europe/Berlin")
