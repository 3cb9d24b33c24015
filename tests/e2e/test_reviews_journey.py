"""Double-blind reviews in a real browser.

A completed engagement is put on the server's database by a small script (the
hire -> fund -> deliver -> approve steps have their own journey in
test_payments_journey.py). Then the business and the specialist each review
the other through the engagement page: before the second review the first is
not visible to the other side (engagement page and public profile); after both,
both see both and the specialist's profile shows the rating.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest

from tests.e2e.conftest import REPO_ROOT
from tests.factories import PASSWORD

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (make install-dev)").expect

pytestmark = pytest.mark.e2e

SEED = """
import json, sys
from datetime import timedelta
from marketplace import create_app
from marketplace.contracts.models import ContractStatus
from marketplace.core.time import utcnow
from marketplace.engagements.models import EngagementStatus
from marketplace.extensions import db
from tests import factories

unique = sys.argv[1]
app = create_app()
with app.app_context():
    business = factories.create_business(email=f"dana-{unique}@example.com", full_name="Dana Okafor")
    specialist = factories.create_freelancer(email=f"ines-{unique}@example.com", full_name="Ines Moreau")
    task = factories.create_task(business, status="completed", title=f"Holiday returns chat {unique}")
    engagement = factories.create_engagement(business, specialist, task=task, amount=60_000)
    engagement.status = EngagementStatus.COMPLETED
    engagement.completed_at = utcnow() - timedelta(hours=2)
    engagement.contract.status = ContractStatus.ENDED   # its only milestone: the contract ended with it
    engagement.contract.ended_at = engagement.completed_at
    db.session.commit()
    print(json.dumps({"engagement": engagement.id, "specialist": specialist.id,
                      "business_email": business.email, "specialist_email": specialist.email}))
"""


def _completed_engagement(tmp_path_factory) -> dict:
    databases = sorted(tmp_path_factory.getbasetemp().glob("e2e*/e2e.sqlite3"), key=os.path.getmtime)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_") and k != "TEST_DATABASE_URL"}
    env.update(DATABASE_URL=f"sqlite:///{databases[-1]}", APP_ENV="development", SECRET_KEY="e2e-secret")
    result = subprocess.run([sys.executable, "-c", SEED, uuid.uuid4().hex[:6]], cwd=REPO_ROOT, env=env,
                            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _log_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Log in").click()
    expect(page.locator("nav").get_by_role("link", name="Log in")).to_have_count(0)


def test_both_sides_review_double_blind(new_page, live_server: str, tmp_path_factory):
    world = _completed_engagement(tmp_path_factory)
    engagement_url = f"{live_server}/engagements/{world['engagement']}"
    profile_url = f"{live_server}/freelancers/{world['specialist']}"

    business = new_page()
    _log_in(business, live_server, world["business_email"])
    business.goto(engagement_url)
    panel = business.locator("#reviews")
    expect(panel).to_contain_text("double-blind")
    panel.locator("label[for=stars-5]").click()
    for key, score in (("listening", 5), ("acknowledging", 5), ("patience", 4), ("positive_language", 5),
                       ("follow_through", 4)):
        panel.locator(f"label[for={key}-{score}]").click()
    panel.locator("#public_comment").fill("Ines turned furious holiday returns into thank-you notes.")
    panel.locator("#private_feedback").fill("Would hire again; slightly slow on day one.")
    panel.get_by_role("button", name="Send review").click()
    expect(business.locator("main .alert").first).to_contain_text("your review is sent")
    expect(business.locator("#my-review")).to_contain_text("thank-you notes")
    expect(business.locator("#my-review")).to_contain_text("Hidden from Ines Moreau")

    # The specialist knows a review exists but can't read it, here or on their public profile.
    specialist = new_page()
    _log_in(specialist, live_server, world["specialist_email"])
    specialist.goto(engagement_url)
    expect(specialist.locator("[data-testid=other-review-waiting]")).to_contain_text("Write your review to see theirs")
    expect(specialist.locator("main")).not_to_contain_text("thank-you notes")
    specialist.goto(profile_url)
    expect(specialist.locator("#rating-summary")).to_contain_text("No reviews yet")
    expect(specialist.locator("main")).not_to_contain_text("thank-you notes")

    specialist.goto(engagement_url)
    panel = specialist.locator("#reviews")
    expect(panel.locator("label[for=patience-5]")).to_have_count(0)     # no empathy scores for a business
    panel.locator("label[for=stars-4]").click()
    panel.locator("#public_comment").fill("Clear brief, friendly team, paid promptly.")
    panel.get_by_role("button", name="Send review").click()
    expect(specialist.locator("main .alert").first).to_contain_text("Both reviews are now visible")
    expect(specialist.locator("#their-review")).to_contain_text("thank-you notes")
    expect(specialist.locator("#their-review")).to_contain_text("Patience 4/5")
    expect(specialist.locator("main")).not_to_contain_text("slightly slow on day one")

    business.reload()
    expect(business.locator("#their-review")).to_contain_text("Clear brief, friendly team, paid promptly.")

    # The public profile now shows the rating (Bayesian: (4.5 x 8 + 5) / 9 = 4.6) and the review.
    visitor = new_page()
    visitor.goto(profile_url)
    expect(visitor.locator("[data-testid=profile-rating]")).to_have_text("4.6")
    expect(visitor.locator("#rating-summary")).to_contain_text("1 review")
    expect(visitor.locator("#reviews")).to_contain_text("thank-you notes")
    expect(visitor.locator("#empathy-scores")).to_contain_text("Patience")
    expect(visitor.locator("main")).not_to_contain_text("slightly slow on day one")
