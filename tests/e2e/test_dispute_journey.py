"""A dispute in a real browser: the business opens it, the specialist answers, an operator splits it.

Setup (a funded engagement, an operator with a known TOTP secret) runs as a script against the
live server's database; everything the three people do happens in Chromium. The operator passes
the real second-factor page with a code computed from the secret. Afterwards both parties see the
outcome on the engagement page and the split on their money pages, and `flask ledger check` passes.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid

import pytest

from tests.e2e.conftest import REPO_ROOT, SERVER_ENV

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (make install-dev)")
expect = sync_api.expect
pyotp = pytest.importorskip("pyotp")

pytestmark = pytest.mark.e2e

_SETUP = """
import json, sys
import pyotp
from marketplace import create_app
from marketplace.core.time import utcnow
from marketplace.engagements import transitions
from marketplace.extensions import db
from marketplace.payments import services as payments
from tests import factories

unique = sys.argv[1]
app = create_app()
with app.app_context():
    business = factories.create_business(email=f"bea-{unique}@example.com", full_name="Bea Lindqvist")
    freelancer = factories.create_freelancer(email=f"luis-{unique}@example.com", full_name="Luis Garcia")
    operator = factories.create_operator(email=f"olu-{unique}@example.com", full_name="Olu Operator")
    secret = pyotp.random_base32()
    operator.totp_secret, operator.totp_enabled_at = secret, utcnow()
    task = factories.create_task(business, status="in_progress", title=f"Evening chat queue {unique}")
    engagement = factories.create_engagement(business, freelancer, amount=80_000, task=task)
    charge = transitions.begin_funding(business, engagement, "sandbox")
    assert payments.sandbox_pay(business, charge) == "funded"
    db.session.commit()
    print(json.dumps({"business": business.email, "freelancer": freelancer.email, "operator": operator.email,
                      "secret": secret, "engagement": engagement.id}))
"""


def _run(code: str, *args: str) -> str:
    result = subprocess.run([sys.executable, "-c", code, *args], cwd=REPO_ROOT, env=SERVER_ENV,
                            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def _log_in(page, base: str, email: str) -> None:
    from tests.factories import PASSWORD
    page.goto(f"{base}/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Log in").click()
    expect(page).not_to_have_url(re.compile(r"/login"))


def test_business_disputes_specialist_answers_operator_splits(new_page, live_server: str):
    unique = uuid.uuid4().hex[:6]
    world = json.loads(_run(_SETUP, unique).strip().splitlines()[-1])
    engagement_url = f"{live_server}/engagements/{world['engagement']}"

    business = new_page()
    _log_in(business, live_server, world["business"])
    business.goto(engagement_url)
    business.locator("summary", has_text="Open a dispute").click()
    business.locator("#dispute-note").fill("Two of the five evening shifts were not covered.")
    business.get_by_role("button", name="Open dispute").click()
    expect(business.locator("main .alert").first).to_contain_text("Dispute opened")
    expect(business.locator("#dispute")).to_contain_text("No statements yet")

    specialist = new_page()
    _log_in(specialist, live_server, world["freelancer"])
    specialist.goto(engagement_url)
    expect(specialist.locator("#next-step")).to_contain_text("Two of the five evening shifts")
    specialist.locator("#statement-body").fill("The schedule changed on day three; I covered every shift I was given.")
    specialist.get_by_role("button", name="Add statement").click()
    expect(specialist.locator("main .alert").first).to_contain_text("Your statement was added")
    expect(specialist.locator("#dispute-statements")).to_contain_text("The schedule changed on day three")

    operator = new_page()
    _log_in(operator, live_server, world["operator"])
    operator.goto(f"{live_server}/moderation/disputes")
    # The console asks for the second factor first.
    expect(operator).to_have_url(re.compile(r"/moderation/2fa"))
    operator.locator("#code").fill(pyotp.TOTP(world["secret"]).now())
    operator.get_by_role("button", name="Verify").click()
    expect(operator.get_by_role("heading", name="Disputes")).to_be_visible()
    operator.locator("#open-disputes").get_by_role("link", name=f"Evening chat queue {unique}").click()
    expect(operator.locator("#dispute-reason")).to_contain_text("Two of the five evening shifts")
    expect(operator.locator("#dispute-statements")).to_contain_text("The schedule changed on day three")
    expect(operator.locator("#held-amount")).to_have_text("$800.00")

    # A split that doesn't add up is refused with a clear message, and nothing changes.
    operator.locator("#refund").fill("100")
    operator.locator("#release").fill("100")
    operator.locator("#note").fill("Trying a wrong split.")
    operator.locator("#confirm").check()
    operator.get_by_role("button", name="Resolve dispute").click()
    expect(operator.locator("#decision-error")).to_contain_text("must add up to exactly the $800.00 held")

    operator.locator("#refund").fill("320")
    operator.locator("#release").fill("480")
    operator.locator("#note").fill("Three of five shifts were covered: 60% released.")
    # The confirmation step: without the box ticked nothing moves (checked by the server, not only the browser).
    operator.locator("#confirm").evaluate("box => box.removeAttribute('required')")
    operator.get_by_role("button", name="Resolve dispute").click()
    expect(operator.locator("#decision-error")).to_contain_text("Tick the box to confirm the split")
    operator.locator("#refund").fill("320")
    operator.locator("#release").fill("480")
    operator.locator("#note").fill("Three of five shifts were covered: 60% released.")
    operator.locator("#confirm").check()
    operator.get_by_role("button", name="Resolve dispute").click()
    expect(operator.locator("main .alert").first).to_contain_text("Dispute resolved")
    expect(operator.locator("#decision")).to_contain_text("$320.00 refunded, $480.00 released")

    # Both parties see the outcome and the money.
    business.goto(engagement_url)
    expect(business.locator("#next-step")).to_contain_text("$320.00 refunded to the business")
    expect(business.locator("#dispute-statements")).to_contain_text("60% released")
    expect(business.locator("#statement-body")).to_have_count(0)
    business.goto(f"{live_server}/payments")
    expect(business.locator("main")).to_contain_text("$320.00")

    specialist.goto(engagement_url)
    expect(specialist.locator("#next-step")).to_contain_text("$480.00 released to the specialist")
    specialist.goto(f"{live_server}/earnings")
    expect(specialist.locator("main")).to_contain_text("$432.00")   # $480.00 less the 10% fee

    check = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "ledger", "check"], cwd=REPO_ROOT,
                           env=SERVER_ENV, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
