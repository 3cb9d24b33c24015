"""Stripe through the real SDK (stripe-python 16) against FakeStripe: no network."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from marketplace.core.time import utcnow
from marketplace.engagements import transitions
from marketplace.engagements.models import EngagementStatus as S
from marketplace.extensions import db
from marketplace.payments import executor, ledger
from marketplace.payments.models import Charge, PayoutAccount, Refund
from tests import factories
from tests.payments.conftest import post_event, session_completed
from tests.payments.helpers import assert_ledger_ok, stripe_fund


def _ready_account(user, acct="acct_test_ready", fake=None):
    if fake is not None:
        fake.add_account(acct)
    db.session.add(PayoutAccount(user_id=user.id, provider="stripe", external_id=acct, status="ready",
                                 transfers_enabled=True))
    db.session.flush()


def _fund(client, login_as, fake_stripe, e, pi=None):
    """Pay through (fake) Stripe Checkout; `checkout.session.completed` funds the engagement."""
    return stripe_fund(client, login_as, fake_stripe, e)


def test_funding_uses_hosted_checkout_with_a_transfer_group(client, login_as, fake_stripe):
    e = factories.create_engagement(amount=45_678)
    charge = _fund(client, login_as, fake_stripe, e)
    [call] = fake_stripe.calls("POST", "/v1/checkout/sessions")
    assert call["params"]["payment_intent_data[transfer_group]"] == f"eng_{e.id}"
    assert call["params"]["line_items[0][price_data][unit_amount]"] == "45678"
    assert call["params"]["mode"] == "payment"
    assert call["key"] == charge.idempotency_key
    assert "{CHECKOUT_SESSION_ID}" in call["params"]["success_url"]
    assert e.status == S.ACTIVE and ledger.held_for(e) == 45_678
    # The success page never fulfils: only the webhook did.
    assert client.get(f"/engagements/{e.id}/funded?session_id=cs_x").status_code == 302
    assert_ledger_ok()


def test_release_transfers_with_source_transaction_and_idempotency_key(client, login_as, fake_stripe):
    e = factories.create_engagement(amount=45_678)
    _ready_account(e.freelancer, fake=fake_stripe)
    charge = _fund(client, login_as, fake_stripe, e)
    transitions.deliver(e.freelancer, e, "done")
    db.session.commit()
    login_as(e.business)
    assert client.post(f"/engagements/{e.id}/approve").status_code == 302
    [call] = fake_stripe.calls("POST", "/v1/transfers")
    assert call["key"] == f"test:transfer:eng_{e.id}"  # PAYMENTS_INSTALL_ID is "test"
    assert call["params"]["source_transaction"] == fake_stripe.objects[charge.payment_intent_id]["latest_charge"]
    assert call["params"]["destination"] == "acct_test_ready"
    assert call["params"]["amount"] == str(45_678 - 4_568)
    assert call["params"]["transfer_group"] == f"eng_{e.id}"
    assert ledger.balance("freelancer_payable", "USD", engagement_id=e.id) == 0
    assert_ledger_ok()


def test_a_network_error_then_success_retries_with_the_same_idempotency_key(client, login_as, fake_stripe):
    e = factories.create_engagement()
    _ready_account(e.freelancer, fake=fake_stripe)
    _fund(client, login_as, fake_stripe, e)
    transitions.deliver(e.freelancer, e, "done")
    transfer = transitions.approve(e.business, e)
    db.session.commit()
    fake_stripe.network_error_next("/v1/transfers")
    assert executor.execute_transfer(transfer.id) == "paid"
    calls = fake_stripe.calls("POST", "/v1/transfers")
    assert len(calls) == 2 and {c["key"] for c in calls} == {f"test:transfer:eng_{e.id}"}

    # Down for longer than the SDK's retries: retrying, and the job resends the same key after the backoff.
    e2 = factories.create_engagement(business=e.business, freelancer=e.freelancer)
    _fund(client, login_as, fake_stripe, e2)
    transitions.deliver(e2.freelancer, e2, "done")
    t2 = transitions.approve(e2.business, e2)
    db.session.commit()
    fake_stripe.network_error_next("/v1/transfers", times=3)
    assert executor.execute_transfer(t2.id).startswith("retrying")
    db.session.refresh(t2)
    assert t2.status == "retrying" and ledger.balance("freelancer_payable", "USD", engagement_id=e2.id) < 0
    assert executor.process_due() == 0  # not before its backoff
    t2.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert executor.process_due() == 1
    db.session.refresh(t2)
    assert t2.status == "paid"
    keys = [c["key"] for c in fake_stripe.calls("POST", "/v1/transfers")]
    assert keys.count(f"test:transfer:eng_{e2.id}") == 4
    assert_ledger_ok()


def test_refund_on_cancellation(client, login_as, fake_stripe):
    e = factories.create_engagement(amount=30_000)
    charge = _fund(client, login_as, fake_stripe, e)
    client.post("/logout")
    login_as(e.freelancer)
    assert client.post(f"/engagements/{e.id}/cancel", data={"note": "ill"}).status_code == 302
    [call] = fake_stripe.calls("POST", "/v1/refunds")
    assert call["params"]["payment_intent"] == charge.payment_intent_id and call["params"]["amount"] == "30000"
    refund = db.session.scalar(select(Refund).where(Refund.engagement_id == e.id))
    # Card refunds start pending at Stripe; the money leaves the ledger once Stripe says it succeeded.
    assert refund.status == "processing" and call["key"] == refund.idempotency_key
    before = ledger.balance("platform_cash", "USD")
    assert post_event(client, fake_stripe.settle_refund(refund.external_id)).status_code == 200
    db.session.refresh(refund)
    assert refund.status == "succeeded" and ledger.balance("platform_cash", "USD") == before - 30_000
    # A replay of Stripe's refund.updated changes nothing.
    assert post_event(client, fake_stripe.event_for("refund.updated", refund.external_id)).status_code == 200
    assert ledger.balance("platform_cash", "USD") == before - 30_000
    assert_ledger_ok()


def test_reversal_goes_through_the_transfer_reversals_api(client, login_as, fake_stripe):
    from marketplace.payments import services
    e = factories.create_engagement()
    _ready_account(e.freelancer, fake=fake_stripe)
    _fund(client, login_as, fake_stripe, e)
    transitions.deliver(e.freelancer, e, "done")
    transfer = transitions.approve(e.business, e)
    db.session.commit()
    executor.execute_transfer(transfer.id)
    reversal = services.reverse_transfer(factories.create_operator(), e, 2_000, "lost card dispute")
    db.session.commit()
    assert executor.execute_reversal(reversal.id) == "succeeded"
    [call] = fake_stripe.calls("POST", f"/v1/transfers/{transfer.external_id}/reversals")
    assert call["params"]["amount"] == "2000" and call["key"] == reversal.idempotency_key
    assert_ledger_ok()


def test_a_failed_reversal_is_recorded_not_raised(client, login_as, fake_stripe):
    from marketplace.payments import services
    e = factories.create_engagement()
    _ready_account(e.freelancer, fake=fake_stripe)
    _fund(client, login_as, fake_stripe, e)
    transitions.deliver(e.freelancer, e, "done")
    transfer = transitions.approve(e.business, e)
    db.session.commit()
    executor.execute_transfer(transfer.id)
    reversal = services.reverse_transfer(factories.create_operator(), e, 2_000)
    db.session.commit()
    fake_stripe.fail_next("/v1/transfers/", 400, {"type": "invalid_request_error",
                                                   "message": "Insufficient funds in the connected account."})
    assert "Insufficient funds" in executor.execute_reversal(reversal.id)
    db.session.refresh(reversal)
    assert reversal.status == "refused" and "Insufficient funds" in reversal.failure_message
    # A refusal is final for its key: the job doesn't resend it (Stripe would only replay the refusal) ...
    assert executor.process_due() == 0
    assert len(fake_stripe.calls("POST", f"/v1/transfers/{transfer.external_id}/reversals")) == 1
    # ... an operator retries once the specialist's balance is back: a new operation, a new key.
    services.retry_payment(factories.create_operator(), reversal)
    db.session.commit()
    assert executor.execute_reversal(reversal.id) == "succeeded"
    first, second = fake_stripe.calls("POST", f"/v1/transfers/{transfer.external_id}/reversals")
    assert second["key"] == first["key"] + ":try2"
    assert_ledger_ok()


def test_declined_card_shows_a_clear_message(client, login_as, fake_stripe):
    e = factories.create_engagement()
    login_as(e.business)
    client.post(f"/engagements/{e.id}/fund")
    charge = db.session.scalar(select(Charge).where(Charge.engagement_id == e.id))
    event = {"id": "evt_declined", "type": "payment_intent.payment_failed", "data": {"object": {
        "id": "pi_test_declined", "object": "payment_intent",
        "metadata": {"engagement_id": str(e.id), "charge_id": str(charge.id)},
        "last_payment_error": {"type": "card_error", "code": "card_declined",
                               "message": "Your card was declined."}}}}
    assert post_event(client, event).status_code == 200
    page = client.get(f"/engagements/{e.id}").get_data(as_text=True)
    assert "Payment failed: Your card was declined." in page
    db.session.refresh(e)
    assert e.status == S.AWAITING_FUNDING and ledger.held_for(e) == 0


def test_card_error_from_the_api_becomes_a_flash_not_a_500(client, login_as, fake_stripe):
    e = factories.create_engagement()
    login_as(e.business)
    fake_stripe.fail_next("/v1/checkout/sessions", 402, {"type": "card_error", "code": "card_declined",
                                                         "message": "Your card was declined."})
    response = client.post(f"/engagements/{e.id}/fund", follow_redirects=True)
    assert response.status_code == 200 and "Your card was declined." in response.get_data(as_text=True)


def test_connect_onboarding_and_account_updated_release_waiting_earnings(client, login_as, fake_stripe):
    e = factories.create_engagement()
    _fund(client, login_as, fake_stripe, e)
    transitions.deliver(e.freelancer, e, "done")
    transfer = transitions.approve(e.business, e)
    assert transfer.status == "awaiting_account"
    db.session.commit()
    client.post("/logout")
    login_as(e.freelancer)
    page = client.get("/earnings").get_data(as_text=True)
    assert "Connect your payout account" in page
    response = client.post("/payments/payout-account/connect")
    assert response.status_code == 303 and response.location.startswith("https://connect.stripe.test/setup/acct_")
    account = db.session.scalar(select(PayoutAccount).where(PayoutAccount.user_id == e.freelancer_id))
    assert fake_stripe.calls("POST", "/v1/accounts")[0]["params"]["type"] == "express"
    event = fake_stripe.set_transfers_capability(account.external_id, "active")
    assert post_event(client, event).status_code == 200
    db.session.refresh(transfer)
    assert transfer.status == "paid" and transfer.destination == account.external_id
    assert_ledger_ok()


def test_reconcile_matches_stripe_balance_transactions(client, login_as, fake_stripe):
    from marketplace.payments.cli import reconcile
    from marketplace.payments.gateway import get_gateway
    e = factories.create_engagement()
    _ready_account(e.freelancer, fake=fake_stripe)
    _fund(client, login_as, fake_stripe, e)
    transitions.deliver(e.freelancer, e, "done")
    transfer = transitions.approve(e.business, e)
    db.session.commit()
    executor.execute_transfer(transfer.id)
    assert reconcile(get_gateway()) == []
    fake_stripe.add_charge("ch_test_unknown", 999)
    assert reconcile(get_gateway()) == ["Stripe charge ch_test_unknown (999 usd) is not in the ledger"]
