"""The operator console in a real browser.

An operator created with the CLI logs in, sets up TOTP (reading the secret from
the setup page, computing codes with pyotp), logs out and back in with a code.
A specialist reports a business's task through the Report page; the operator
rejects it from the console with a reason; the business reads the reason in its
notifications.
"""
from __future__ import annotations

import re
import subprocess
import sys
import time
import uuid
from datetime import date, timedelta

import pyotp
import pytest

from tests.e2e.conftest import REPO_ROOT, SERVER_ENV
from tests.e2e.test_core_loop import _sign_up

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (make install-dev)").expect

pytestmark = pytest.mark.e2e

OPERATOR_PASSWORD = "lantern orchard velvet 91"


def _create_operator(email: str) -> None:
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "create-operator", email,
                             "--name", "Olu Operator", "--password-stdin"], cwd=REPO_ROOT, env=SERVER_ENV,
                            input=OPERATOR_PASSWORD + "\n", capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]


def _log_in(page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.locator("main form").get_by_role("button", name="Log in").click()


def _log_out(page, name: str) -> None:
    page.locator("nav .dropdown-toggle", has_text=name).click()
    page.locator("nav .dropdown-menu").get_by_role("button", name="Log out").click()
    expect(page.locator("main .alert").first).to_contain_text("You have been logged out.")


def test_operator_sets_up_totp_and_rejects_a_reported_task(new_page, live_server: str, approve_held_task):
    unique = uuid.uuid4().hex[:6]
    title = f"Gift card resellers chat {unique}"
    reason = f"Reselling gift cards breaks our rules ({unique})."
    operator_email = f"olu-{unique}@example.com"
    _create_operator(operator_email)

    # The operator's first login leads to the second-factor setup.
    operator = new_page()
    _log_in(operator, live_server, operator_email, OPERATOR_PASSWORD)
    expect(operator.get_by_role("heading", name="Set up two-factor authentication")).to_be_visible()
    expect(operator.locator("[data-testid=totp-qr] svg")).to_be_visible()
    secret = operator.locator("[data-testid=totp-secret]").inner_text().strip()
    totp = pyotp.TOTP(secret)
    operator.locator("#code").fill("000000" if totp.now() != "000000" else "111111")
    operator.get_by_role("button", name="Turn on two-factor authentication").click()
    expect(operator.locator(".invalid-feedback")).to_contain_text("not correct")
    operator.locator("#code").fill(totp.now())
    operator.get_by_role("button", name="Turn on two-factor authentication").click()
    expect(operator.get_by_role("heading", name="Two-factor authentication is on")).to_be_visible()
    expect(operator.locator("[data-testid=recovery-codes] li")).to_have_count(10)
    operator.get_by_role("link", name="I've saved them — continue").click()
    expect(operator.get_by_role("heading", name="Moderation queue")).to_be_visible()
    _log_out(operator, "Olu Operator")

    # A business posts a task (its first waits for review and is approved); a specialist reports it.
    business = new_page()
    _sign_up(business, live_server, "Hire support specialists", "Ines Okafor")
    business.goto(f"{live_server}/tasks/new")
    business.locator("#title").fill(title)
    business.locator("#description").fill(f"Chat with buyers of discounted gift cards. Reference {unique}.")
    business.locator("#channel").select_option("chat")
    business.locator("#start_date").fill((date.today() + timedelta(days=5)).isoformat())
    business.locator("#end_date").fill((date.today() + timedelta(days=7)).isoformat())
    business.locator("#budget").fill("700")
    business.locator("#required-0-skill").select_option(label="Tier-1 troubleshooting")
    business.get_by_role("button", name="Save and publish").click()
    expect(business.locator("main .alert").first).to_contain_text("waiting for a quick review")
    approve_held_task(title)
    task_url = business.url
    task_id = int(re.search(r"/tasks/(\d+)", task_url).group(1))

    specialist = new_page()
    _sign_up(specialist, live_server, "Work as a support specialist", "Pablo Reyes")
    specialist.goto(task_url)
    specialist.locator(f"[data-testid=report-task-{task_id}]").click()
    expect(specialist.get_by_role("heading", name="Report this task")).to_be_visible()
    specialist.locator("#reason").select_option("fraud")
    specialist.locator("#details").fill("Looks like laundering through gift cards.")
    specialist.get_by_role("button", name="Send report").click()
    expect(specialist.locator("main .alert").first).to_contain_text("Thanks for telling us")

    # Later: the operator logs in again and enters a code from the app.
    _log_in(operator, live_server, operator_email, OPERATOR_PASSWORD)
    expect(operator.get_by_role("heading", name="Enter your code")).to_be_visible()
    # The setup code's time step can't be used again; the next step's code is within the allowed drift.
    operator.locator("#code").fill(totp.at(time.time() + 30))
    operator.get_by_role("button", name="Verify").click()
    expect(operator.get_by_role("heading", name="Moderation queue")).to_be_visible()

    operator.get_by_test_id("tab-flags").click()
    row = operator.locator(f"[data-testid=flags-task-{task_id}]")
    expect(row).to_contain_text(title)
    expect(row).to_contain_text("Scam or fraud")
    row.get_by_role("link", name="Review").click()
    expect(operator.locator("[data-testid=item-content]")).to_contain_text(title)
    expect(operator.locator("[data-testid=owner-panel]")).to_contain_text("Ines Okafor")
    operator.locator("#act-reason").fill(reason)
    operator.get_by_role("button", name="Reject the task").click()
    expect(operator.locator("main .alert").first).to_contain_text("Task rejected")

    operator.goto(f"{live_server}/moderation/audit?target_type=task&target_id={task_id}")
    expect(operator.locator("table")).to_contain_text(reason)

    # The business is told why, and the task is gone from browse.
    business.goto(f"{live_server}/notifications")
    expect(business.locator("main")).to_contain_text("Your task was rejected by our moderation team")
    expect(business.locator("main")).to_contain_text(reason)
    specialist.goto(f"{live_server}/tasks?q={unique}")
    expect(specialist.locator("main")).not_to_contain_text(title)
