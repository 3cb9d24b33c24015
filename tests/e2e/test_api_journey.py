"""A business works from its own tools, end to end against the real server.

Settings -> create an API token (shown once) -> post and publish a task with curl-like calls ->
register a webhook endpoint on its page -> a specialist proposes through the API -> `jobs run-due`
delivers the signed event to a local receiver -> the delivery log shows it. The interactive docs
page renders from local assets under the site's CSP.
"""
from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from datetime import date, timedelta

import pytest

from tests.e2e.conftest import REPO_ROOT, SERVER_ENV
from tests.e2e.test_core_loop import _sign_up   # signs up and confirms the address through the outbox
from tests.webhooks.receiver import Receiver

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (make install-dev)").expect

pytestmark = pytest.mark.e2e

def _create_token(page, base: str, name: str) -> str:
    page.goto(f"{base}/account")
    page.get_by_role("link", name="API tokens").click()
    page.locator("#name").fill(name)
    page.get_by_label("Read and write").check()
    page.get_by_role("button", name="Create token").click()
    secret = page.locator("#new-token").inner_text().strip()
    assert secret.startswith("ht_")
    return secret


def _api(base: str, secret: str, method: str, path: str, body: dict | None = None, key: str | None = None):
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
    if key:
        headers["Idempotency-Key"] = key
    request = urllib.request.Request(base + path, method=method, headers=headers,
                                     data=json.dumps(body).encode() if body is not None else None)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def test_token_task_webhook_journey(new_page, live_server: str, approve_held_task):
    unique = uuid.uuid4().hex[:6]
    title = f"Chat cover for our spring sale {unique}"
    business = new_page()
    _sign_up(business, live_server, "Hire support specialists", "Ines Moreau")
    secret = _create_token(business, live_server, "Helpdesk sync")
    expect(business.locator("table")).to_contain_text("Helpdesk sync")
    business.goto(f"{live_server}/account/tokens")
    expect(business.locator("#new-token")).to_have_count(0)      # shown once only
    expect(business.locator("table")).to_contain_text(secret[:10])

    status, skills = _api(live_server, secret, "GET", "/api/v1/skills")
    assert status == 200
    zendesk = next(s["id"] for s in skills if s["slug"] == "zendesk")
    start = date.today() + timedelta(days=6)
    body = {"title": title, "description": "Answer shoppers kindly on chat during the sale.", "channel": "chat",
            "languages": ["en"], "start_date": start.isoformat(), "end_date": (start + timedelta(days=2)).isoformat(),
            "pricing": "fixed", "budget": 70_000, "required_skills": [{"skill_id": zendesk, "min_level": 2}]}
    status, task = _api(live_server, secret, "POST", "/api/v1/tasks", body, key=f"task-{unique}")
    assert status == 201 and task["status"] == "draft"
    assert _api(live_server, secret, "POST", "/api/v1/tasks", body, key=f"task-{unique}") == (201, task)  # replayed
    status, published = _api(live_server, secret, "POST", f"/api/v1/tasks/{task['id']}/publish")
    assert status == 200 and published["moderation_status"] == "pending_review"   # a first task waits for review
    approve_held_task(title)

    with Receiver([500, 200]) as receiver:
        business.goto(f"{live_server}/account")
        business.get_by_role("link", name="Webhooks").click()
        business.locator("#url").fill(receiver.url)
        business.locator("input[name=event_types][value='proposal.received']").check()
        business.get_by_role("button", name="Add endpoint").click()
        expect(business.locator("main .alert").first).to_contain_text("Endpoint added")
        endpoint_secret = business.locator("#endpoint-secret").inner_text().strip()
        assert endpoint_secret.startswith("whsec_")

        specialist = new_page()
        _sign_up(specialist, live_server, "Work as a support specialist", "Tomas Berg")
        specialist_secret = _create_token(specialist, live_server, "Agency dashboard")
        status, proposal = _api(live_server, specialist_secret, "POST", f"/api/v1/tasks/{task['id']}/proposals",
                                {"amount": 65_000, "cover_note": "Five years of retail chat support."})
        assert status == 201, proposal

        for minutes in ("1", "10"):   # the receiver fails once; the job's clock moves on so the retry is due
            result = subprocess.run([sys.executable, "-c", _DELIVER_NOW, minutes], cwd=REPO_ROOT, env=SERVER_ENV,
                                    stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
            assert result.returncode == 0, result.stderr[-2000:]
        assert len(receiver.received) == 2
        headers, raw = receiver.received[-1]
        from marketplace.webhooks.signing import SIGNATURE_HEADER, verify
        verify(raw, headers[SIGNATURE_HEADER], endpoint_secret, tolerance=3600)   # the job ran 10 min ahead
        assert json.loads(raw)["data"]["proposal_id"] == proposal["id"]

    business.reload()
    log = business.locator("#delivery-log")
    expect(log).to_contain_text("proposal.received")
    expect(log).to_contain_text("delivered")
    expect(log).to_contain_text("200")

    # The docs page renders Swagger UI from local assets, allowed by its own CSP.
    business.goto(f"{live_server}/api/v1/docs")
    expect(business.locator(".swagger-ui .information-container")).to_contain_text("Human Touch API")
    expect(business.locator(".swagger-ui").get_by_text("/api/v1/tasks/{task_id}/publish")).to_be_visible()


# Runs the delivery job as cron would, with its clock some minutes ahead (argv) so a retry is due.
_DELIVER_NOW = """
import sys
from datetime import timedelta
from marketplace import create_app
from marketplace.core.time import utcnow
from marketplace.webhooks.services import deliver_due
app = create_app()
with app.app_context():
    deliver_due(now=utcnow() + timedelta(minutes=int(sys.argv[1])))
"""
