"""A fixed-price contract in two milestones, in a real browser on the sandbox gateway (test mode).

Hire -> the business splits the agreed total into two milestones on the contract page -> funds both
-> the specialist delivers the first, which the business approves, and steps back from the second,
which is refunded in full -> the contract has ended and the task is completed. Then `flask ledger
check` passes on the server's database.
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


def _fund(business, milestone, amount: str) -> None:
    milestone.get_by_role("button", name=f"Fund {amount}").click()
    expect(business.get_by_role("heading", name=f"Pay {amount}")).to_be_visible()
    business.get_by_role("button", name=f"Pay {amount} (test mode)").click()
    expect(business.locator("main .alert").first).to_contain_text("Payment received (test mode)")


def test_two_milestones_one_approved_one_refunded(new_page, live_server: str, tmp_path_factory, approve_held_task):
    unique = uuid.uuid4().hex[:6]
    title = f"Returns backlog in two stages {unique}"

    business = new_page()
    _sign_up(business, live_server, "Hire support specialists", "Ines Duarte")
    business.goto(f"{live_server}/tasks/new")
    business.locator("#title").fill(title)
    business.locator("#description").fill(f"Clear the returns backlog: refunds first, then exchanges. Ref {unique}.")
    business.locator("#channel").select_option("email")
    business.locator("#start_date").fill((date.today() + timedelta(days=5)).isoformat())
    business.locator("#end_date").fill((date.today() + timedelta(days=20)).isoformat())
    business.locator("#budget").fill("900")
    business.locator("#required-0-skill").select_option(label="Network troubleshooting")
    business.get_by_role("button", name="Save and publish").click()
    expect(business.locator("main .alert").first).to_contain_text("Your task is waiting for a quick review")
    approve_held_task(title)
    task_url = business.url

    specialist = new_page()
    _sign_up(specialist, live_server, "Work as a support specialist", "Kofi Mensah")
    specialist.goto(task_url)
    expect(specialist.locator("#bid-quote[data-ready]")).to_have_count(1)
    specialist.locator("#amount").fill("800")
    specialist.locator("#cover_note").fill("Returns queues are my speciality; refunds and exchanges both.")
    specialist.get_by_role("button", name="Send proposal").click()
    expect(specialist.locator("main .alert").first).to_contain_text("Proposal sent")

    business.goto(task_url)
    business.locator("#proposals").get_by_role("link", name="Accept and hire…").click()
    # The confirmation step names the terms before anything happens.
    business.get_by_test_id("confirm-step").get_by_role("button", name="Accept and hire").click()
    expect(business.locator("main .alert").first).to_contain_text("Hired!")
    business.locator("#contract-link").get_by_role("link", name="Contract and milestones").click()
    contract_url = business.url
    expect(business.locator("#contract-total")).to_have_text("$800.00")

    # Split the agreed total: $300 of it becomes a second milestone with its own due date.
    first = business.locator(".milestone").nth(0)
    first.locator("summary", has_text="Split this milestone").click()
    first.locator("input[name=title]").fill("Stage 2: exchanges")
    first.locator("input[name=amount]").fill("300")
    first.locator("input[name=due_on]").fill((date.today() + timedelta(days=15)).isoformat())
    first.get_by_role("button", name="Split off").click()
    expect(business.locator("main .alert").first).to_contain_text("Split: milestone 2")
    expect(business.locator("#contract-total")).to_have_text("$800.00")
    expect(business.locator(".milestone")).to_have_count(2)
    expect(business.locator(".milestone").nth(0)).to_contain_text("$500.00")
    expect(business.locator(".milestone").nth(1)).to_contain_text("Stage 2: exchanges")

    # Each milestone is funded on its own.
    _fund(business, business.locator(".milestone").nth(0), "$500.00")
    business.goto(contract_url)
    _fund(business, business.locator(".milestone").nth(1), "$300.00")
    business.goto(contract_url)
    expect(business.locator(".milestone[data-status=active]")).to_have_count(2)

    # The specialist delivers the first milestone...
    specialist.goto(contract_url)
    specialist.locator(".milestone").nth(0).get_by_role("link", name="Deliver").click()
    specialist.locator("#deliver-note").fill("All 140 refund requests answered; edge cases listed in the thread.")
    specialist.get_by_role("button", name="Deliver the work").click()
    expect(specialist.locator("main .alert").first).to_contain_text("Delivered")
    # ...and steps back from the second: the business gets that milestone's money back in full.
    specialist.goto(contract_url)
    specialist.locator(".milestone").nth(1).get_by_role("link", name="Deliver").click()
    specialist.locator("summary", has_text="Cancel engagement").click()
    specialist.locator("#cancel-note").fill("I can't take on the exchanges after all, sorry.")
    specialist.get_by_role("button", name="Cancel engagement").click()
    expect(specialist.locator("main .alert").first).to_contain_text("The business is refunded in full.")

    business.goto(contract_url)
    expect(business.locator("#contract-status")).to_contain_text("active")   # milestone 1 awaits approval
    business.locator(".milestone").nth(0).get_by_role("link", name="Review delivery").click()
    business.get_by_role("link", name="Approve and release $500.00…").click()
    expect(business.get_by_test_id("confirm-step")).to_contain_text("can't be undone")
    business.get_by_role("button", name="Approve and release $500.00").click()
    expect(business.locator("main .alert").first).to_contain_text("Approved")

    business.goto(contract_url)
    expect(business.locator("#contract-status")).to_contain_text("ended")
    expect(business.locator(".milestone[data-status=completed]")).to_contain_text("$500.00")
    expect(business.locator(".milestone[data-status=cancelled]")).to_contain_text("refunded in full")
    expect(business.locator("#terms")).to_contain_text("$500.00")   # released to the specialist
    expect(business.locator("#timeline")).to_contain_text("Contract ended")
    expect(business.locator("main")).to_contain_text("Reviews are written on milestone 1")
    business.goto(task_url)
    expect(business.locator("main")).to_contain_text("completed")

    databases = sorted(tmp_path_factory.getbasetemp().glob("e2e*/e2e.sqlite3"), key=os.path.getmtime)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_") and k != "TEST_DATABASE_URL"}
    env.update(DATABASE_URL=f"sqlite:///{databases[-1]}", APP_ENV="development")
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "ledger", "check"], cwd=REPO_ROOT,
                            env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ledger check: OK" in result.stdout
