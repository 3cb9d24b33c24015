"""Money settles whatever Stripe answers and in whatever order its events arrive (fake Stripe, real SDK)."""
from __future__ import annotations

from datetime import timedelta, timezone

import pytest
import stripe
from sqlalchemy import select

from marketplace.core.time import utcnow
from marketplace.engagements import transitions
from marketplace.engagements.models import EngagementStatus as S
from marketplace.extensions import db
from marketplace.notifications.models import Notification
from marketplace.payments import executor, ledger, services
from marketplace.payments.gateway import STRIPE_API_VERSION, account_state_of, get_gateway
from marketplace.payments.models import Charge, PayoutAccount, Refund, Transfer
from tests import factories
from tests.payments.conftest import post_event
from tests.payments.helpers import assert_ledger_ok, stripe_fund


def _ready_account(fake, user, acct="acct_test_ready"):
    fake.add_account(acct)
    db.session.add(PayoutAccount(user_id=user.id, provider="stripe", external_id=acct, status="ready",
                                 transfers_enabled=True))
    db.session.flush()


def _delivered(client, login_as, fake, e):
    charge = stripe_fund(client, login_as, fake, e)
    transitions.deliver(e.freelancer, e, "done")
    db.session.commit()
    return charge


def _aware(moment):
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)  # SQLite drops the offset


def _notified(user, kind) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id,
                                                              Notification.kind == kind)))


# --- the API version -------------------------------------------------------------------------------------

def test_every_request_is_pinned_to_the_api_version_the_app_is_written_for(client, login_as, fake_stripe):
    # Upgrading stripe-python changes the objects' shapes: this fails until the pin is reviewed with it.
    assert STRIPE_API_VERSION == stripe.api_version
    stripe_fund(client, login_as, fake_stripe, factories.create_engagement())
    assert {r["stripe_version"] for r in fake_stripe.requests} == {STRIPE_API_VERSION}


# --- defect 1: a ready account stays ready when the specialist returns from onboarding ---------------------

def test_account_state_reads_stripe_objects_and_event_payloads():
    payload = {"id": "acct_x", "object": "account", "capabilities": {"transfers": "active"},
               "requirements": {"currently_due": []}}
    assert account_state_of(stripe.StripeObject.construct_from(payload, "sk_test_x")).ready
    assert account_state_of(payload).ready
    pending = {**payload, "capabilities": {"transfers": "inactive"},
               "requirements": {"currently_due": ["external_account"]}}
    state = account_state_of(stripe.StripeObject.construct_from(pending, "sk_test_x"))
    assert not state.ready and state.requirements == "external_account"


def test_returning_from_onboarding_keeps_a_ready_account_ready(client, login_as, fake_stripe):
    e = factories.create_engagement()
    _delivered(client, login_as, fake_stripe, e)
    client.post("/logout")
    login_as(e.freelancer)
    assert client.post("/payments/payout-account/connect").status_code == 303
    account = db.session.scalar(select(PayoutAccount).where(PayoutAccount.user_id == e.freelancer_id))
    assert post_event(client, fake_stripe.set_transfers_capability(account.external_id, "active")).status_code == 200
    db.session.refresh(account)
    assert account.status == "ready"
    assert client.get("/payments/payout-account/return").status_code == 302
    assert fake_stripe.calls("GET", f"/v1/accounts/{account.external_id}")  # it asked Stripe
    db.session.refresh(account)
    assert account.status == "ready" and account.transfers_enabled
    # So the next approval pays at once instead of waiting for another account.updated.
    transfer = transitions.approve(e.business, e)
    assert transfer.status == "pending" and transfer.destination == account.external_id


# --- defect 2: a refusal ends the attempt; the next one is a new operation when the cause is fixed -----------

def test_a_transfer_refused_for_the_missing_capability_is_paid_after_account_updated(client, login_as, fake_stripe):
    e = factories.create_engagement()
    _ready_account(fake_stripe, e.freelancer, "acct_test_cap")
    _delivered(client, login_as, fake_stripe, e)
    fake_stripe.set_transfers_capability("acct_test_cap", "inactive")  # Stripe disabled it; we don't know yet
    client.post("/logout")
    login_as(e.business)
    assert client.post(f"/engagements/{e.id}/approve").status_code == 302
    transfer = db.session.scalar(select(Transfer).where(Transfer.engagement_id == e.id))
    assert transfer.status == "awaiting_account" and transfer.destination is None
    assert "capabilities" in transfer.failure_message
    account = db.session.scalar(select(PayoutAccount).where(PayoutAccount.user_id == e.freelancer_id))
    assert account.status == "pending"  # new approvals wait too, and the specialist is told what's missing
    assert _notified(e.freelancer, "payout_account")
    executor.process_due()
    assert len(fake_stripe.calls("POST", "/v1/transfers")) == 1  # nothing to resend: the refusal is final

    assert post_event(client, fake_stripe.set_transfers_capability("acct_test_cap", "active")).status_code == 200
    executor.process_due()  # one job run, no operator
    db.session.refresh(transfer)
    assert transfer.status == "paid" and transfer.destination == "acct_test_cap"
    first, second = fake_stripe.calls("POST", "/v1/transfers")
    assert second["key"] != first["key"] and second["key"].startswith(first["key"])
    assert ledger.balance("freelancer_payable", "USD", engagement_id=e.id) == 0
    assert_ledger_ok()


def test_retryable_failures_back_off_exponentially_then_stop_and_an_operator_restarts(client, login_as,
                                                                                      fake_stripe):
    assert [executor.backoff(n) for n in (1, 2, 3, 7, 30)] == [
        timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4), timedelta(hours=1), timedelta(hours=1)]
    e = factories.create_engagement()
    _ready_account(fake_stripe, e.freelancer)
    _delivered(client, login_as, fake_stripe, e)
    transfer = transitions.approve(e.business, e)
    db.session.commit()
    # An operator may resend a payment that is waiting for its backoff: same key, since it may have gone through.
    fake_stripe.network_error_next("/v1/transfers", times=3)
    executor.execute_transfer(transfer.id)
    services.retry_payment(factories.create_operator(), transfer)
    db.session.commit()
    fake_stripe.network_error_next("/v1/transfers", times=3)
    executor.execute_for_engagement(e.id)
    db.session.refresh(transfer)
    assert transfer.attempts == 2 and {c["key"] for c in fake_stripe.calls("POST", "/v1/transfers")} == {
        transfer.idempotency_key}
    transfer.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    for attempt in range(3, executor.MAX_ATTEMPTS + 1):
        fake_stripe.network_error_next("/v1/transfers", times=3)  # longer than the SDK's own retries
        before = utcnow()
        executor.execute_transfer(transfer.id)
        db.session.refresh(transfer)
        assert transfer.attempts == attempt
        if attempt < executor.MAX_ATTEMPTS:
            assert transfer.status == "retrying"
            assert _aware(transfer.next_attempt_at) >= before + executor.backoff(attempt) - timedelta(seconds=1)
            assert executor.execute_transfer(transfer.id) == "not due"  # not before its time
            transfer.next_attempt_at = utcnow() - timedelta(seconds=1)
            db.session.commit()
    assert transfer.status == "stuck"
    sent = len(fake_stripe.calls("POST", "/v1/transfers"))
    assert executor.process_due() == 0 and len(fake_stripe.calls("POST", "/v1/transfers")) == sent
    keys = {c["key"] for c in fake_stripe.calls("POST", "/v1/transfers")}
    assert keys == {transfer.idempotency_key}  # every retry of a network error used the same key

    with pytest.raises(Exception):
        services.retry_payment(e.business, transfer)  # operators only
    services.retry_payment(factories.create_operator(), transfer)
    db.session.commit()
    executor.execute_for_engagement(e.id)
    db.session.refresh(transfer)
    assert transfer.status == "paid" and transfer.idempotency_key.endswith(":try2")
    assert_ledger_ok()


# --- defect 3: a refund Stripe fails is visible, the business is told, an operator can act -----------------

def test_a_failed_refund_stays_failed_is_told_and_an_operator_retry_repays(client, login_as, fake_stripe):
    e = factories.create_engagement(amount=30_000)
    charge = stripe_fund(client, login_as, fake_stripe, e)
    client.post("/logout")
    login_as(e.freelancer)
    assert client.post(f"/engagements/{e.id}/cancel", data={"note": "ill"}).status_code == 302
    refund = db.session.scalar(select(Refund).where(Refund.engagement_id == e.id))
    assert refund.status == "processing"
    cash = ledger.balance("platform_cash", "USD")

    failed = fake_stripe.settle_refund(refund.external_id, "failed", "expired_or_canceled_card")
    assert post_event(client, failed).json["outcome"] == "refund failed"
    db.session.refresh(refund)
    assert refund.status == "failed" and "expired or canceled card" in refund.failure_message
    [told] = _notified(e.business, "refund_failed")
    assert "30" in told.title and "Our team has been alerted" in told.body
    client.post("/logout")
    login_as(e.business)
    page = client.get(f"/engagements/{e.id}").get_data(as_text=True)
    assert "go through: Stripe failed the refund (expired or canceled card)." in page
    # The job never resends the old key (Stripe would replay the original `pending`).
    executor.process_due()
    db.session.refresh(refund)
    assert refund.status == "failed" and len(fake_stripe.calls("POST", "/v1/refunds")) == 1
    # A replayed refund.updated of the failed refund doesn't bring it back either.
    post_event(client, fake_stripe.event_for("refund.updated", refund.external_id))
    db.session.refresh(refund)
    assert refund.status == "failed" and ledger.balance("platform_cash", "USD") == cash

    services.retry_payment(factories.create_operator(), refund)
    db.session.commit()
    executor.execute_for_engagement(e.id)
    db.session.refresh(refund)
    first, second = fake_stripe.calls("POST", "/v1/refunds")
    assert second["key"] == first["key"] + ":try2" and second["params"]["payment_intent"] == charge.payment_intent_id
    assert refund.status == "processing" and refund.external_id != failed["data"]["object"]["id"]
    # A late event about the first (failed) refund is not about the retried one.
    post_event(client, fake_stripe.event_for("refund.updated", failed["data"]["object"]["id"]))
    db.session.refresh(refund)
    assert refund.status == "processing"
    post_event(client, fake_stripe.settle_refund(refund.external_id))
    db.session.refresh(refund)
    assert refund.status == "succeeded" and ledger.balance("platform_cash", "USD") == cash - 30_000
    assert ledger.balance("refunds_payable", "USD", engagement_id=e.id) == 0
    assert_ledger_ok()


def test_refund_state_follows_refund_events_fetched_from_stripe(client, login_as, fake_stripe):
    e = factories.create_engagement(amount=20_000)
    stripe_fund(client, login_as, fake_stripe, e)
    refund = transitions.cancel(e.freelancer, e, "ill")
    db.session.commit()
    # The process died after Stripe created the refund but before we stored its id.
    fake_stripe.network_error_next("/v1/refunds", times=3, after_processing=True)
    executor.execute_refund(refund.id)
    db.session.refresh(refund)
    assert refund.status == "retrying" and refund.external_id is None
    [stripe_refund] = [o for o in fake_stripe.objects.values() if o["object"] == "refund"]
    assert post_event(client, fake_stripe.event_for("refund.created", stripe_refund["id"])).status_code == 200
    db.session.refresh(refund)
    assert refund.status == "processing" and refund.external_id == stripe_refund["id"]
    # A stale `refund.updated` saying pending arrives after Stripe's refund succeeded: the app asks Stripe.
    stale = fake_stripe.event_for("refund.updated", stripe_refund["id"])
    fake_stripe.settle_refund(stripe_refund["id"])
    assert post_event(client, stale).json["outcome"] == "refund succeeded"
    db.session.refresh(refund)
    assert refund.status == "succeeded"
    assert_ledger_ok()


def test_a_refund_whose_event_was_lost_is_checked_by_the_job(client, login_as, fake_stripe):
    e = factories.create_engagement(amount=20_000)
    stripe_fund(client, login_as, fake_stripe, e)
    refund = transitions.cancel(e.freelancer, e, "ill")
    db.session.commit()
    executor.execute_refund(refund.id)
    fake_stripe.settle_refund(refund.external_id)  # its event never arrives
    refund.updated_at = utcnow() - executor.REFUND_CHECK_AFTER - timedelta(minutes=1)
    db.session.commit()
    executor.process_due()
    db.session.refresh(refund)
    assert refund.status == "succeeded"
    assert_ledger_ok()


# --- defect 4: one funding charge per engagement, whatever the order of payments ---------------------------

def _paid_twice(client, login_as, fake, e):
    """Card declined in the first tab, a second Fund click, then both Checkout sessions complete, the
    second tab's first."""
    client.post("/logout")
    login_as(e.business)
    client.post(f"/engagements/{e.id}/fund")
    first = db.session.scalar(select(Charge).where(Charge.engagement_id == e.id))
    declined = {"id": "evt_declined_1", "type": "payment_intent.payment_failed", "data": {"object": {
        "id": "pi_test_declined", "object": "payment_intent",
        "metadata": {"engagement_id": str(e.id), "charge_id": str(first.id)},
        "last_payment_error": {"type": "card_error", "message": "Your card was declined."}}}}
    assert post_event(client, declined).json["outcome"] == "funding failed"
    client.post(f"/engagements/{e.id}/fund")
    second = db.session.scalar(select(Charge).where(Charge.engagement_id == e.id, Charge.id != first.id))
    assert post_event(client, fake.pay_checkout(second.checkout_session_id)).json["outcome"] == "funded"
    late = post_event(client, fake.pay_checkout(first.checkout_session_id))
    assert late.json["outcome"].startswith("refunded")
    for charge in (first, second):
        db.session.refresh(charge)
    db.session.refresh(e)
    return first, second


def test_a_double_payment_refunds_the_duplicate_and_cancel_refunds_the_real_one(client, login_as, fake_stripe):
    e = factories.create_engagement(amount=30_000)
    duplicate, real = _paid_twice(client, login_as, fake_stripe, e)
    assert e.status == S.ACTIVE
    assert (duplicate.status, real.status) == ("duplicate", "succeeded")
    assert "Paid twice" in duplicate.failure_message
    assert transitions.funded_charge(e).id == real.id
    [auto_refund] = fake_stripe.calls("POST", "/v1/refunds")
    assert auto_refund["params"]["payment_intent"] == duplicate.payment_intent_id

    client.post("/logout")
    login_as(e.freelancer)
    assert client.post(f"/engagements/{e.id}/cancel", data={"note": "ill"}).status_code == 302
    _, cancel_refund = fake_stripe.calls("POST", "/v1/refunds")
    assert cancel_refund["params"]["payment_intent"] == real.payment_intent_id
    refunds = db.session.scalars(select(Refund).where(Refund.engagement_id == e.id).order_by(Refund.id)).all()
    assert [(r.charge_id, r.status) for r in refunds] == [(duplicate.id, "processing"), (real.id, "processing")]
    for r in refunds:
        post_event(client, fake_stripe.settle_refund(r.external_id))
    # Everything went back; what remains is what Stripe kept in processing fees on both payments.
    assert ledger.balance("platform_cash", "USD") == -ledger.balance("stripe_fees", "USD") < 0
    assert_ledger_ok()
    # The business's payments page counts both payments and both refunds.
    row = services.money_row(e)
    assert (row.paid, row.refunded) == (60_000, 60_000)


def test_a_double_payment_releases_from_the_real_charge(client, login_as, fake_stripe):
    e = factories.create_engagement(amount=30_000)
    _ready_account(fake_stripe, e.freelancer)
    duplicate, real = _paid_twice(client, login_as, fake_stripe, e)
    transitions.deliver(e.freelancer, e, "done")
    transitions.approve(e.business, e)
    db.session.commit()
    executor.execute_for_engagement(e.id)
    [transfer] = fake_stripe.calls("POST", "/v1/transfers")
    assert transfer["params"]["source_transaction"] == fake_stripe.objects[real.payment_intent_id]["latest_charge"]
    assert db.session.scalar(select(Transfer).where(Transfer.engagement_id == e.id)).status == "paid"


def test_the_database_allows_one_funding_charge_per_engagement(app):
    from sqlalchemy.exc import IntegrityError
    e = factories.create_engagement()
    for n in (1, 2):
        db.session.add(Charge(engagement_id=e.id, provider="sandbox", amount=e.amount, currency="USD",
                              status="succeeded", idempotency_key=f"t:one:{n}"))
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            db.session.flush()


# --- gaps --------------------------------------------------------------------------------------------------

def test_an_account_updated_before_the_account_id_is_stored_is_not_lost(client, fake_stripe):
    freelancer = factories.create_freelancer()
    account = services.ensure_payout_account(freelancer, "stripe", None)  # written before Stripe is called
    db.session.commit()
    acct_id = get_gateway().create_payout_account(freelancer)
    # Stripe's event is delivered before our request returns and stores the id.
    outcome = post_event(client, fake_stripe.set_transfers_capability(acct_id, "active")).json["outcome"]
    assert outcome.startswith("account ready")
    services.attach_account_id(account, acct_id)
    db.session.commit()
    db.session.refresh(account)
    assert (account.external_id, account.status) == (acct_id, "ready")


def test_an_engagement_in_another_currency_than_settlement_is_refused_at_funding(client, login_as, fake_stripe):
    e = factories.create_engagement(currency="EUR")
    login_as(e.business)
    page = client.post(f"/engagements/{e.id}/fund", follow_redirects=True).get_data(as_text=True)
    assert "settled in USD" in page and "priced in EUR" in page
    assert fake_stripe.calls("POST", "/v1/checkout/sessions") == []
    assert db.session.scalar(select(Charge).where(Charge.engagement_id == e.id)) is None


def test_a_transfer_uses_the_currency_of_the_charges_balance_transaction(client, login_as, fake_stripe):
    e = factories.create_engagement()
    _ready_account(fake_stripe, e.freelancer)
    stripe_fund(client, login_as, fake_stripe, e, settlement_currency="eur")  # converted by Stripe
    transitions.deliver(e.freelancer, e, "done")
    transfer = transitions.approve(e.business, e)
    db.session.commit()
    assert executor.execute_transfer(transfer.id).startswith("refused")
    db.session.refresh(transfer)
    assert transfer.status == "refused" and "settled in EUR" in transfer.failure_message
    assert fake_stripe.calls("POST", "/v1/transfers") == []
    charge_lookups = fake_stripe.calls("GET", "/v1/charges/")   # at funding (its fee) and before the transfer
    assert charge_lookups and all(c["params"] == {"expand[0]": "balance_transaction"} for c in charge_lookups)


def test_idempotency_keys_start_with_the_install_id(app, client, login_as, fake_stripe):
    e = factories.create_engagement()
    charge = stripe_fund(client, login_as, fake_stripe, e)
    assert charge.idempotency_key == f"test:checkout:eng_{e.id}:1"
    saved = app.config["PAYMENTS_INSTALL_ID"]
    app.config["PAYMENTS_INSTALL_ID"] = "staging"
    try:
        other = factories.create_engagement()
        charge = stripe_fund(client, login_as, fake_stripe, other)
        assert charge.idempotency_key == f"staging:checkout:eng_{other.id}:1"
    finally:
        app.config["PAYMENTS_INSTALL_ID"] = saved
    assert [c["key"] for c in fake_stripe.calls("POST", "/v1/checkout/sessions")] == [
        f"test:checkout:eng_{e.id}:1", f"staging:checkout:eng_{other.id}:1"]
