"""Payments needing attention in a real browser.

Against the live server's database (test mode), a payout is refused by the gateway (a sandbox
gateway that refuses, passed to the executor) and a card dispute is opened on another engagement
through the webhook's own service. An operator sets up TOTP, sees the count on the queue, opens
the list (Stripe's message, the dispute), and retries the payout, which the sandbox then pays.
"""
from __future__ import annotations

import subprocess
import sys
import uuid

import pyotp
import pytest

from tests.e2e.conftest import REPO_ROOT, SERVER_ENV
from tests.e2e.test_moderation_journey import OPERATOR_PASSWORD, _create_operator, _log_in

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (make install-dev)").expect

pytestmark = pytest.mark.e2e

MESSAGE = "The destination account is closed (browser test)."

_MAKE_EXCEPTIONS = """
import sys
from marketplace import create_app
from marketplace.extensions import db

app = create_app()
with app.app_context():
    from tests import factories
    from tests.payments.helpers import sandbox_fund
    from marketplace.engagements import transitions
    from marketplace.payments import card_disputes, executor, services
    from marketplace.payments.gateway import GatewayError, SandboxGateway

    class RefusingGateway(SandboxGateway):
        def transfer(self, transfer, **kw):
            raise GatewayError(sys.argv[2], retryable=False)

    unique = sys.argv[1]
    def people(tag):
        return dict(business=factories.create_business(email=f"b-{tag}-{unique}@example.com"),
                    freelancer=factories.create_freelancer(email=f"f-{tag}-{unique}@example.com"))
    refused = factories.create_engagement(amount=40_000, **people("payout"))
    services.sandbox_connect(refused.freelancer)
    sandbox_fund(refused)
    transitions.deliver(refused.freelancer, refused, "done")
    transfer = transitions.approve(refused.business, refused)
    db.session.commit()
    assert executor.execute_transfer(transfer.id, gateway=RefusingGateway()).startswith("refused")
    disputed = factories.create_engagement(amount=25_000, **people("dispute"))
    charge = sandbox_fund(disputed)
    db.session.commit()
    card_disputes.record_event({"id": f"dp_e2e_{unique}", "object": "dispute", "charge": charge.external_id,
                                "amount": 25_000, "currency": "usd", "status": "needs_response",
                                "reason": "fraudulent"}, "charge.dispute.created")
    db.session.commit()
    print(transfer.id, disputed.id)
"""


def test_operator_sees_payments_needing_attention_and_retries_a_payout(new_page, live_server: str):
    unique = uuid.uuid4().hex[:6]
    operator_email = f"pay-{unique}@example.com"
    _create_operator(operator_email)
    result = subprocess.run([sys.executable, "-c", _MAKE_EXCEPTIONS, unique, MESSAGE], cwd=REPO_ROOT,
                            env=SERVER_ENV, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-3000:]
    transfer_id, disputed_id = result.stdout.split()[-2:]

    operator = new_page()
    _log_in(operator, live_server, operator_email, OPERATOR_PASSWORD)
    secret = operator.locator("[data-testid=totp-secret]").inner_text().strip()
    operator.locator("#code").fill(pyotp.TOTP(secret).now())
    operator.get_by_role("button", name="Turn on two-factor authentication").click()
    operator.get_by_role("link", name="I've saved them — continue").click()
    expect(operator.get_by_role("heading", name="Moderation queue")).to_be_visible()

    link = operator.get_by_test_id("payments-attention-link")
    expect(link).to_contain_text("Payments needing attention")
    link.click()
    expect(operator.get_by_role("heading", name="Payments needing attention")).to_be_visible()
    payout = operator.get_by_test_id(f"attention-payout-{transfer_id}")
    expect(payout).to_contain_text(MESSAGE)
    expect(payout).to_contain_text("refused")
    dispute = operator.locator("[data-testid^=attention-card_dispute-]", has_text=f"#{disputed_id}")
    expect(dispute).to_contain_text("fraudulent")
    expect(dispute).to_contain_text("Stripe Dashboard")

    operator.get_by_test_id(f"retry-payout-{transfer_id}").click()
    expect(operator.locator("main .alert").first).to_contain_text("Retried: the payout to a specialist is now paid")
    expect(operator.get_by_test_id(f"attention-payout-{transfer_id}")).to_have_count(0)
    expect(operator.locator("[data-testid^=attention-card_dispute-]", has_text=f"#{disputed_id}")).to_be_visible()

    operator.goto(f"{live_server}/moderation/audit?action=retry_payment")
    expect(operator.locator("main")).to_contain_text(MESSAGE)
