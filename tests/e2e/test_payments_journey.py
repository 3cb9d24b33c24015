"""Money in a real browser, on the sandbox gateway (test mode).

Hire (as in the core loop) -> the business funds on the test-mode checkout ->
the specialist delivers -> the business approves -> the specialist connects a
payout account and sees the payout; the business sees the receipt. Then
`flask ledger check` passes on the server's database.
"""
from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import date, timedelta

import pytest

from tests.e2e.conftest import REPO_ROOT
from tests.e2e.test_core_loop import _sign_up

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (make install-dev)").expect

pytestmark = pytest.mark.e2e


def test_fund_deliver_approve_payout_receipt(new_page, live_server: str, tmp_path_factory, approve_held_task):
    unique = uuid.uuid4().hex[:6]
    title = f"Weekend billing chat {unique}"

    business = new_page()
    _sign_up(business, live_server, "Hire support specialists", "Noor Haddad")
    business.goto(f"{live_server}/tasks/new")
    business.locator("#title").fill(title)
    business.locator("#description").fill(f"Answer billing questions kindly in chat over one weekend. Ref {unique}.")
    business.locator("#channel").select_option("chat")
    business.locator("#start_date").fill((date.today() + timedelta(days=5)).isoformat())
    business.locator("#end_date").fill((date.today() + timedelta(days=7)).isoformat())
    business.locator("#budget").fill("900")
    business.locator("#required-0-skill").select_option(label="Network troubleshooting")
    business.get_by_role("button", name="Save and publish").click()
    # A new business's first task waits for review; an operator approves it.
    expect(business.locator("main .alert").first).to_contain_text("Your task is waiting for a quick review")
    approve_held_task(title)
    task_url = business.url

    specialist = new_page()
    _sign_up(specialist, live_server, "Work as a support specialist", "Tomasz Novak")
    specialist.goto(task_url)
    expect(specialist.locator("#bid-quote[data-ready]")).to_have_count(1)   # the live preview is listening
    specialist.locator("#amount").fill("850")
    specialist.locator("#cover_note").fill("Calm billing support, five years in chat queues.")
    specialist.get_by_role("button", name="Send proposal").click()
    expect(specialist.locator("main .alert").first).to_contain_text("Proposal sent")

    business.goto(task_url)
    business.locator("#proposals").get_by_role("link", name="Accept and hire…").click()
    # The confirmation step names the terms before anything happens.
    business.get_by_test_id("confirm-step").get_by_role("button", name="Accept and hire").click()
    expect(business.locator("main .alert").first).to_contain_text("Hired!")
    engagement_url = business.url

    # A declined card first: the business is told why; the old checkout page is closed afterwards.
    business.get_by_role("button", name="Fund $850.00").click()
    declined_checkout = business.url
    business.get_by_role("button", name="Simulate a declined card").click()
    expect(business.locator("main .alert").first).to_contain_text("declined")
    expect(business.locator("#timeline")).to_contain_text("Payment failed")

    # Fund on the sandbox checkout, which says plainly that it is test mode.
    business.get_by_role("button", name="Fund $850.00").click()
    expect(business.get_by_role("heading", name="Pay $850.00")).to_be_visible()
    expect(business.locator("[data-testid=test-mode]")).to_contain_text("Test mode")
    business.get_by_role("button", name="Pay $850.00 (test mode)").click()
    expect(business.locator("main .alert").first).to_contain_text("Payment received (test mode)")
    expect(business.locator("#next-step")).to_contain_text("held by the platform")

    business.goto(declined_checkout)
    expect(business.get_by_test_id("checkout-closed")).to_contain_text("The engagement has been paid since")
    expect(business.get_by_role("button", name="Pay $850.00 (test mode)")).to_have_count(0)
    expect(business.get_by_role("button", name="Simulate a declined card")).to_have_count(0)
    business.goto(engagement_url)

    specialist.goto(engagement_url)
    # The card decline is the business's own affair: not on the specialist's timeline.
    expect(specialist.locator("#timeline")).not_to_contain_text("Payment failed")
    expect(specialist.locator("#timeline")).not_to_contain_text("declined")
    specialist.locator("#deliver-note").fill("Covered Saturday and Sunday: 212 chats, summary in the thread.")
    specialist.get_by_role("button", name="Deliver the work").click()
    expect(specialist.locator("main .alert").first).to_contain_text("Delivered")

    business.reload()
    expect(business.locator("#next-step")).to_contain_text("212 chats")
    business.get_by_role("link", name="Approve and release $850.00…").click()
    expect(business.get_by_test_id("confirm-step")).to_contain_text("can't be undone")
    business.get_by_role("button", name="Approve and release $850.00").click()
    expect(business.locator("main .alert").first).to_contain_text("Approved")
    expect(business.locator("#timeline")).to_contain_text("Approved by the business")

    # No payout account yet: the earnings wait, with a clear prompt to connect.
    specialist.goto(f"{live_server}/earnings")
    prompt = specialist.locator("[data-testid=connect-prompt]")
    expect(prompt).to_contain_text("$765.00 is waiting for you.")
    prompt.get_by_role("link", name="Connect payout account").click()
    specialist.get_by_role("button", name="Connect payout account").click()
    expect(specialist.locator("[data-testid=test-mode]")).to_be_visible()
    specialist.get_by_role("button", name="Connect test payout account").click()
    expect(specialist.locator("main .alert").first).to_contain_text("Your pending earnings were sent.")
    row = specialist.locator("main tr", has_text=title)
    expect(row).to_contain_text("paid out")
    expect(row).to_contain_text("$765.00")
    expect(row).to_contain_text("$85.00")

    business.get_by_role("link", name="Receipt").click()
    receipt = business.locator("#receipt")
    expect(receipt).to_contain_text("Total paid")
    expect(receipt).to_contain_text("$850.00")
    expect(receipt).to_contain_text("platform fee (10%")

    # The books balance on the server's database after the journey.
    databases = sorted(tmp_path_factory.getbasetemp().glob("e2e*/e2e.sqlite3"), key=os.path.getmtime)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_") and k != "TEST_DATABASE_URL"}
    env.update(DATABASE_URL=f"sqlite:///{databases[-1]}", APP_ENV="development")
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "ledger", "check"], cwd=REPO_ROOT,
                            env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ledger check: OK" in result.stdout
