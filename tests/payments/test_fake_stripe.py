"""The fake is only useful if it refuses what Stripe refuses: these pin that down."""
from __future__ import annotations

import pytest
import stripe

from tests.payments.fake_stripe import FakeStripe, ROUTES, params_class


@pytest.fixture()
def stripe_api():
    fake = FakeStripe()
    return fake, stripe.StripeClient("sk_test_fake", http_client=fake, max_network_retries=2)


def test_each_route_is_validated_against_the_sdks_typed_params():
    names = {params_class(r.service, r.service_method).__name__ for r in ROUTES if r.service}
    assert {"SessionCreateParams", "TransferCreateParams", "RefundCreateParams", "AccountCreateParams",
            "TransferReversalCreateParams", "AccountLinkCreateParams"} <= names


def test_unknown_and_missing_parameters_are_refused_and_not_stored(stripe_api):
    fake, client = stripe_api
    fake.add_account("acct_test_v")
    with pytest.raises(stripe.InvalidRequestError, match="Received unknown parameter: source_transactio"):
        client.v1.transfers.create({"amount": 5, "currency": "usd", "destination": "acct_test_v",
                                    "source_transactio": "ch_x"}, {"idempotency_key": "k1"})
    with pytest.raises(stripe.InvalidRequestError, match=r"Missing required param: destination\."):
        client.v1.transfers.create({"amount": 5, "currency": "usd"}, {"idempotency_key": "k2"})
    with pytest.raises(stripe.InvalidRequestError, match=r"Received unknown parameter: line_items\[0\]\[amount\]"):
        client.v1.checkout.sessions.create({"mode": "payment", "success_url": "https://x.test",
                                            "line_items": [{"quantity": 1, "amount": 5}]})
    # A request refused by validation never ran, so its key is free for the corrected request.
    assert client.v1.transfers.create({"amount": 5, "currency": "usd", "destination": "acct_test_v"},
                                      {"idempotency_key": "k1"}).amount == 5


def test_the_first_response_is_replayed_errors_and_500s_included(stripe_api):
    fake, client = stripe_api
    fake.add_account("acct_test_i", transfers="inactive")
    params = {"amount": 5, "currency": "usd", "destination": "acct_test_i"}
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.transfers.create(params, {"idempotency_key": "k"})
    assert refused.value.code == "insufficient_capabilities_for_transfer"
    fake.set_transfers_capability("acct_test_i", "active")
    with pytest.raises(stripe.InvalidRequestError):  # fixed at Stripe, but the key replays the refusal
        client.v1.transfers.create(params, {"idempotency_key": "k"})
    with pytest.raises(stripe.IdempotencyError):
        client.v1.transfers.create({**params, "amount": 6}, {"idempotency_key": "k"})
    assert client.v1.transfers.create(params, {"idempotency_key": "k-new"}).amount == 5

    fake.fail_next("/v1/transfers", 500)
    with pytest.raises(stripe.APIError):
        client.v1.transfers.create(params, {"idempotency_key": "k500"})
    with pytest.raises(stripe.APIError):
        client.v1.transfers.create(params, {"idempotency_key": "k500"})
    assert len(fake.calls("POST", "/v1/transfers")) == 6  # Stripe-Should-Retry: false, so the SDK didn't retry
    fake.expire_idempotency_keys()
    assert client.v1.transfers.create(params, {"idempotency_key": "k500"}).amount == 5


def test_a_lost_response_is_replayed_to_the_retry(stripe_api):
    fake, client = stripe_api
    fake.add_account("acct_test_l")
    fake.network_error_next("/v1/transfers", after_processing=True)
    transfer = client.v1.transfers.create({"amount": 5, "currency": "usd", "destination": "acct_test_l"},
                                          {"idempotency_key": "k"})
    assert len(fake.calls("POST", "/v1/transfers")) == 2
    assert [o["id"] for o in fake.objects.values() if o["object"] == "transfer"] == [transfer.id]


def test_objects_have_the_current_shapes(stripe_api):
    fake, client = stripe_api
    account = client.v1.accounts.create({"type": "express", "capabilities": {"transfers": {"requested": True}}})
    fetched = client.v1.accounts.retrieve(account.id)
    assert fetched["capabilities"]["transfers"] == "inactive" and fetched["requirements"]["currently_due"]
    fake.add_charge("ch_test_s", 10_000)
    intent = client.v1.payment_intents.retrieve("pi_test_s")
    assert intent.latest_charge == "ch_test_s"
    charge = client.v1.charges.retrieve("ch_test_s", {"expand": ["balance_transaction"]})
    assert "refunds" not in charge
    txn = charge.balance_transaction
    assert (txn.amount, txn.fee, txn.net) == (10_000, 320, 9_680)
    refund = client.v1.refunds.create({"payment_intent": "pi_test_s", "amount": 4_000})
    assert refund.status == "pending"
    with pytest.raises(stripe.InvalidRequestError, match="greater than unrefunded"):
        client.v1.refunds.create({"payment_intent": "pi_test_s", "amount": 6_001})
    with pytest.raises(stripe.InvalidRequestError, match="No such payment_intent"):
        client.v1.payment_intents.retrieve("pi_test_unknown")
