"""Every page a visitor, a business and a specialist see passes axe-core with no violations, and the
pages that were hard to use on a phone (/tasks, /payments) fit a 390 px screen.

The pages are filled with the demo data (`flask seed-demo`), so they show what people see: tasks
with proposals, engagements in every state, threads, notifications, payments and reviews.
"""
from __future__ import annotations

import pytest

from tests.e2e.conftest import assert_accessible, axe_violations

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (make install-dev)")
expect = sync_api.expect

pytestmark = pytest.mark.e2e

DEMO_PASSWORD = "demo-support-2026"


def _log_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(DEMO_PASSWORD)
    page.locator("main").get_by_role("button", name="Log in").click()
    expect(page.get_by_role("navigation", name="Main navigation")).to_contain_text("Messages")


def _check(page, base: str, paths: list[str], axe_source: str) -> None:
    problems = []
    for path in paths:
        response = page.goto(f"{base}{path}")
        assert response is not None and response.status == 200, (path, response and response.status)
        problems += axe_violations(page, axe_source)
    assert not problems, "axe-core found accessibility violations:\n" + "\n".join(problems)


def test_public_pages_have_no_axe_violations_and_their_own_title_description_and_preview(
        page, live_server, demo, axe_source):
    public = ["/", "/tasks", f"/tasks/{demo['task']}", "/freelancers", f"/freelancers/{demo['specialist']}",
              "/login", "/signup"]
    titles = set()
    for path in public:
        page.goto(f"{live_server}{path}")
        assert_accessible(page, axe_source)
        description = page.locator('meta[name="description"]').get_attribute("content")
        assert description and len(description) > 50, path
        titles.add(page.title())
        if path not in ("/login", "/signup"):
            assert page.locator('meta[property="og:title"]').get_attribute("content"), path
            assert page.locator('meta[property="og:description"]').get_attribute("content") == description
    assert len(titles) == len(public)    # every page has its own title


def test_business_pages_have_no_axe_violations(page, live_server, demo, axe_source):
    _log_in(page, live_server, "business@example.com")
    _check(page, live_server, ["/dashboard", "/tasks/mine", f"/tasks/{demo['task']}", "/tasks/new",
                               "/notifications", "/messages", f"/messages/{demo['thread']}", "/payments",
                               "/engagements", f"/engagements/{demo['engagement']}",
                               f"/engagements/{demo['engagement']}/receipt", "/profile/edit",
                               f"/freelancers/{demo['specialist']}", "/freelancers", "/account", "/billing",
                               "/account/tokens", f"/tasks/{demo['filled_task']}/schedule"], axe_source)


def test_specialist_pages_have_no_axe_violations(page, live_server, demo, axe_source):
    _log_in(page, live_server, "freelancer@example.com")
    _check(page, live_server, ["/dashboard", "/tasks", f"/tasks/{demo['task']}", "/bids", "/invitations",
                               "/notifications", "/messages", f"/messages/{demo['thread']}", "/earnings",
                               "/engagements", f"/engagements/{demo['engagement']}", "/profile/edit",
                               "/account/tokens", "/shifts/mine"], axe_source)


def test_tasks_and_payments_fit_a_phone_screen(browser, live_server, demo, axe_source):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        phone = context.new_page()
        phone.goto(f"{live_server}/tasks")
        # The filter panel is folded away so the first screen shows tasks, and opens with one tap.
        panel = phone.locator("details.filter-panel")
        expect(panel).not_to_have_attribute("open", "")
        expect(phone.locator("#channel")).to_be_hidden()
        assert phone.locator(".card h2 a").first.bounding_box()["y"] < 844
        panel.locator("summary").click()
        expect(phone.locator("#channel")).to_be_visible()
        expect(phone.locator("#timezone")).to_be_visible()
        assert_accessible(phone, axe_source)

        _log_in(phone, live_server, "business@example.com")
        phone.goto(f"{live_server}/payments")
        wide = phone.evaluate("() => document.documentElement.scrollWidth")
        assert wide <= 390, f"/payments is {wide} px wide on a 390 px screen"
        assert_accessible(phone, axe_source)
    finally:
        context.close()


def test_the_filter_panel_is_open_beside_the_results_on_a_wide_screen(page, live_server, demo):
    page.goto(f"{live_server}/tasks")
    expect(page.locator("details.filter-panel")).to_have_attribute("open", "")
    expect(page.locator("#channel")).to_be_visible()
