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


# --- a card on file: customers, setup mode, payment methods, off-session PaymentIntents -----------------

def _saved_card(fake, client, behaviour="succeeds"):
    customer = client.v1.customers.create({"email": "b@example.com", "metadata": {"user_id": "7"}})
    session = client.v1.checkout.sessions.create({
        "mode": "setup", "customer": customer.id, "allowed_payment_method_types": ["card"],
        "setup_intent_data": {"metadata": {"user_id": "7"}}, "success_url": "https://x.test"})
    event = fake.complete_setup(session.id, behaviour=behaviour)
    intent = client.v1.setup_intents.retrieve(event["data"]["object"]["setup_intent"], {"expand": ["payment_method"]})
    return customer.id, intent.payment_method


def test_the_card_on_file_routes_are_validated_too():
    names = {params_class(r.service, r.service_method).__name__ for r in ROUTES if r.service}
    assert {"CustomerCreateParams", "CustomerUpdateParams", "PaymentIntentCreateParams", "SetupIntentRetrieveParams",
            "PaymentMethodRetrieveParams", "PaymentMethodDetachParams"} <= names


def test_setup_mode_sessions_refuse_what_stripe_refuses(stripe_api):
    fake, client = stripe_api
    with pytest.raises(stripe.InvalidRequestError, match="currency"):
        client.v1.checkout.sessions.create({"mode": "setup", "success_url": "https://x.test"})
    with pytest.raises(stripe.InvalidRequestError, match="line_items"):
        client.v1.checkout.sessions.create({"mode": "setup", "currency": "usd", "success_url": "https://x.test",
                                            "line_items": [{"quantity": 1, "price": "price_x"}]})
    with pytest.raises(stripe.InvalidRequestError, match="Received unknown parameter: setup_intent_data\\[metdata\\]"):
        client.v1.checkout.sessions.create({"mode": "setup", "currency": "usd", "success_url": "https://x.test",
                                            "setup_intent_data": {"metdata": {"a": "b"}}})


def test_a_saved_card_has_stripes_shapes_and_the_setup_event_names_its_setup_intent(stripe_api):
    fake, client = stripe_api
    customer_id, method = _saved_card(fake, client)
    assert method.object == "payment_method" and method.customer == customer_id
    assert (method.card.brand, method.card.last4) == ("visa", "4242")
    updated = client.v1.customers.update(customer_id, {"invoice_settings": {"default_payment_method": method.id}})
    assert updated.invoice_settings.default_payment_method == method.id
    assert client.v1.payment_methods.detach(method.id).customer is None
    assert client.v1.customers.retrieve(customer_id).invoice_settings.default_payment_method is None
    with pytest.raises(stripe.InvalidRequestError, match="not attached to a customer"):
        client.v1.payment_methods.detach(method.id)
    with pytest.raises(stripe.InvalidRequestError, match="must be attached to the customer"):
        client.v1.customers.update(customer_id, {"invoice_settings": {"default_payment_method": method.id}})


def test_off_session_payment_intents_succeed_or_fail_with_real_card_errors(stripe_api):
    fake, client = stripe_api
    base = {"amount": 2500, "currency": "usd", "off_session": True, "confirm": True,
            "allowed_payment_method_types": ["card"]}
    customer_id, method = _saved_card(fake, client)
    intent = client.v1.payment_intents.create({**base, "customer": customer_id, "payment_method": method.id},
                                              {"idempotency_key": "ok"})
    assert intent.status == "succeeded" and intent.latest_charge.startswith("ch_")

    customer_id, method = _saved_card(fake, client, "authentication_required")
    with pytest.raises(stripe.CardError) as sca:
        client.v1.payment_intents.create({**base, "customer": customer_id, "payment_method": method.id},
                                         {"idempotency_key": "sca"})
    assert sca.value.code == "authentication_required" and sca.value.http_status == 402
    body = sca.value.json_body["error"]
    assert body["payment_intent"]["status"] == "requires_payment_method"
    assert body["payment_intent"]["last_payment_error"]["code"] == "authentication_required"
    with pytest.raises(stripe.CardError):  # the error is the stored answer to that key
        client.v1.payment_intents.create({**base, "customer": customer_id, "payment_method": method.id},
                                         {"idempotency_key": "sca"})
    assert len([o for o in fake.objects.values() if o["object"] == "payment_intent"]) == 2

    customer_id, method = _saved_card(fake, client, "declined")
    with pytest.raises(stripe.CardError) as declined:
        client.v1.payment_intents.create({**base, "customer": customer_id, "payment_method": method.id})
    assert (declined.value.code, declined.value.json_body["error"]["decline_code"]) == ("card_declined",
                                                                                        "generic_decline")


def test_off_session_payment_intents_refuse_what_stripe_refuses(stripe_api):
    fake, client = stripe_api
    customer_id, method = _saved_card(fake, client)
    other, _ = _saved_card(fake, client)
    params = {"amount": 2500, "currency": "usd", "customer": customer_id, "payment_method": method.id}
    with pytest.raises(stripe.InvalidRequestError, match="off_session"):
        client.v1.payment_intents.create({**params, "off_session": True})
    with pytest.raises(stripe.InvalidRequestError, match="return_url"):
        client.v1.payment_intents.create({**params, "off_session": True, "confirm": True})
    with pytest.raises(stripe.InvalidRequestError, match="belongs to a Customer"):
        client.v1.payment_intents.create({**params, "customer": other, "off_session": True, "confirm": True,
                                          "allowed_payment_method_types": ["card"]})
    with pytest.raises(stripe.InvalidRequestError, match="Missing required param: currency"):
        client.v1.payment_intents.create({"amount": 5})
