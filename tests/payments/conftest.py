from __future__ import annotations

import json
import time

import pytest
import stripe

from marketplace.payments.gateway import build_stripe_client
from tests.payments.fake_stripe import FakeStripe

WEBHOOK_SECRET = "whsec_test_secret"


@pytest.fixture()
def fake_stripe(app):
    """The app talks to Stripe (through FakeStripe) for the duration of the test."""
    fake = FakeStripe()
    saved = {k: app.config.get(k) for k in ("PAYMENTS_GATEWAY", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET")}
    app.config.update(PAYMENTS_GATEWAY="stripe", STRIPE_SECRET_KEY="sk_test_fake", STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET)
    app.extensions["stripe_client"] = build_stripe_client("sk_test_fake", http_client=fake, max_network_retries=2)
    yield fake
    app.extensions.pop("stripe_client", None)
    app.config.update(saved)


@pytest.fixture()
def webhook_secret(app):
    saved = app.config.get("STRIPE_WEBHOOK_SECRET")
    app.config["STRIPE_WEBHOOK_SECRET"] = WEBHOOK_SECRET
    yield WEBHOOK_SECRET
    app.config["STRIPE_WEBHOOK_SECRET"] = saved


def signed(event: dict, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> tuple[str, dict]:
    payload = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=timestamp or int(time.time()))
    return payload, {"Stripe-Signature": header, "Content-Type": "application/json"}


def post_event(client, event: dict, **kw):
    payload, headers = signed(event, **kw)
    return client.post("/payments/stripe/webhook", data=payload, headers=headers)


def session_completed(charge, *, event_id: str, pi: str, amount: int | None = None) -> dict:
    return {"id": event_id, "object": "event", "type": "checkout.session.completed", "data": {"object": {
        "id": charge.checkout_session_id or f"cs_{charge.id}", "object": "checkout.session",
        "payment_status": "paid", "payment_intent": pi, "amount_total": charge.amount if amount is None else amount,
        "currency": charge.currency.lower(),
        "metadata": {"engagement_id": str(charge.engagement_id), "charge_id": str(charge.id)}}}}
