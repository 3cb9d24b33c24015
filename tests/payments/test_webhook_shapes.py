"""Correctly signed events the app cannot use: recorded, acknowledged with a 200, never a 500."""
from __future__ import annotations

import stripe
from sqlalchemy import func, select

import pytest

from marketplace.engagements import transitions
from marketplace.extensions import db
from marketplace.payments.models import CardDispute, WebhookEvent
from tests import factories
from tests.payments.conftest import WEBHOOK_SECRET, post_event
from tests.payments.helpers import ledger_counts


def _session(**changes) -> dict:
    obj = {"id": "cs_test_shape", "object": "checkout.session", "payment_status": "paid", "payment_intent": "pi_shape",
           "amount_total": 45_678, "currency": "usd", "metadata": {"engagement_id": "1", "charge_id": "1"}}
    obj.update(changes)
    return obj


def _dispute(**changes) -> dict:
    obj = {"id": "dp_shape", "object": "dispute", "charge": "ch_shape", "amount": 45_678, "currency": "usd",
           "status": "needs_response", "reason": "fraudulent"}
    obj.update(changes)
    return {k: v for k, v in obj.items() if v is not ...}


def _event(kind, obj, **changes) -> dict:
    event = {"id": "evt_shape", "object": "event", "type": kind, "data": {"object": obj}}
    event.update(changes)
    return event


SHAPES = {
    "type a number": _event(7, _session()),
    "type with a NUL": _event("checkout.session.completed\x00", _session()),
    "data.object a string": _event("checkout.session.completed", "cs_test_shape"),
    "data a list": {**_event("checkout.session.completed", {}), "data": [1, 2]},
    "no data": {"id": "evt_shape", "type": "charge.dispute.created"},
    "id an object": _event("checkout.session.completed", _session(), id={"evt": 1}),
    "id of 300 characters": _event("checkout.session.completed", _session(), id="evt_" + "x" * 296),
    "id with a NUL": _event("checkout.session.completed", _session(), id="evt_\x00shape"),
    "account an object": _event("account.updated", {"id": "acct_1", "object": "account"}, account={"id": 1}),
    "metadata a list": _event("checkout.session.completed", _session(metadata=["1", "1"])),
    "metadata.charge_id of 30 digits": _event("checkout.session.completed",
                                              _session(metadata={"engagement_id": "1", "charge_id": "9" * 30})),
    "metadata.engagement_id negative": _event("transfer.created", {"id": "tr_1", "object": "transfer",
                                                                   "amount": 10, "metadata": {"engagement_id": "-1"}}),
    "metadata value a number": _event("transfer.created", {"id": "tr_1", "object": "transfer", "amount": 10,
                                                           "metadata": {"transfer_id": 5}}),
    "dispute without id": _event("charge.dispute.created", _dispute(id=...)),
    "refund without id": _event("refund.updated", {"object": "refund", "status": "succeeded",
                                                   "metadata": {"refund_id": "1"}}),
    "refund failure reason an object": _event("refund.failed", {"id": "re_1", "object": "refund", "status": "failed",
                                                                "failure_reason": {"code": 1}}),
    "refund id a number": _event("refund.failed", {"id": 12, "object": "refund", "status": "failed"}),
    "non-numeric dispute amount": _event("charge.dispute.created", _dispute(amount="12.50")),
    "non-numeric transfer amount": _event("transfer.created", {"id": "tr_1", "object": "transfer", "amount": "ten"}),
    "amount a float": _event("charge.dispute.created", _dispute(amount=12.5)),
    "amount a boolean": _event("checkout.session.completed", _session(amount_total=True)),
    "amount of 30 digits": _event("charge.dispute.created", _dispute(amount=10 ** 30)),
    "dispute reason with a NUL": _event("charge.dispute.created", _dispute(reason="fraud\x00")),
    "dispute status of 300 characters": _event("charge.dispute.created", _dispute(status="s" * 300)),
    "currency a number": _event("charge.dispute.created", _dispute(currency=840)),
    "charge an object": _event("charge.dispute.created", _dispute(charge={"id": "ch_shape"})),
    "balance transactions a string": _event("charge.dispute.funds_withdrawn", _dispute(balance_transactions="txn")),
    "balance transaction without id": _event("charge.dispute.funds_withdrawn",
                                             _dispute(balance_transactions=[{"amount": -100, "fee": 1500}])),
    "balance transaction fee a string": _event("charge.dispute.funds_withdrawn", _dispute(
        balance_transactions=[{"id": "txn_1", "amount": -100, "fee": "15", "net": -115}])),
    "payment error a string": _event("payment_intent.payment_failed", {"id": "pi_1", "object": "payment_intent",
                                                                       "last_payment_error": "declined"}),
    "capabilities a list": _event("account.updated", {"id": "acct_1", "object": "account",
                                                      "capabilities": ["transfers"]}),
    "requirements due a string": _event("account.updated", {"id": "acct_1", "object": "account",
                                                            "requirements": {"currently_due": "everything"}}),
    "refund list item without id": _event("charge.refunded", {"id": "ch_1", "object": "charge",
                                                             "refunds": {"data": [{"status": "succeeded"}]}}),
    "payout failure message an object": _event("payout.failed", {"id": "po_1", "object": "payout",
                                                                 "failure_message": {"x": 1}}, account="acct_1"),
}


@pytest.fixture()
def funded(client, webhook_secret):
    """A funded engagement whose charge has id 1-ish and a real Stripe charge id, so lookups find rows."""
    e = factories.create_engagement()
    charge = transitions.begin_funding(e.business, e, "stripe")
    charge.checkout_session_id = "cs_test_shape"
    db.session.flush()
    transitions.confirm_funding(charge, payment_intent_id="pi_shape", external_id="ch_shape")
    db.session.commit()
    return e


@pytest.mark.parametrize("shape", list(SHAPES), ids=list(SHAPES))
def test_a_signed_event_the_app_cannot_use_is_recorded_and_acknowledged(client, funded, shape):
    before_events = db.session.scalar(select(func.count()).select_from(WebhookEvent))
    before_ledger = ledger_counts()
    response = post_event(client, SHAPES[shape])
    assert response.status_code == 200
    assert response.json["outcome"].startswith("rejected: ")
    [recorded] = db.session.scalars(select(WebhookEvent).order_by(WebhookEvent.id.desc()).limit(1)).all()
    assert recorded.outcome.startswith("rejected: ")
    assert db.session.scalar(select(func.count()).select_from(WebhookEvent)) == before_events + 1
    assert ledger_counts() == before_ledger
    assert db.session.scalar(select(func.count()).select_from(CardDispute)) == 0
    # Stripe resending the same bytes is acknowledged as a duplicate.
    again = post_event(client, SHAPES[shape])
    assert again.status_code == 200 and again.json["outcome"] == "duplicate"


@pytest.mark.parametrize("body", [b"not json", b"\xff\xfe", b"[]", b"null", b"1" * 5000],
                         ids=["text", "bytes", "array", "null", "huge number"])
def test_a_signed_body_that_is_not_an_event_is_recorded(client, webhook_secret, body):
    header = stripe.WebhookSignature.generate_signature_header(body.decode("latin-1"), WEBHOOK_SECRET)
    response = client.post("/payments/stripe/webhook", data=body,
                           headers={"Stripe-Signature": header, "Content-Type": "application/json"})
    if body == b"\xff\xfe":   # not UTF-8: no signature can be checked over it
        assert response.status_code == 400
        return
    assert response.status_code == 200 and response.json["outcome"].startswith("rejected: ")
    assert db.session.scalar(select(func.count()).select_from(WebhookEvent)) == 1


def test_a_well_formed_event_still_works_after_unusable_ones(client, funded):
    for shape in ("metadata.charge_id of 30 digits", "dispute without id"):
        post_event(client, SHAPES[shape])
    good = _event("charge.dispute.created", _dispute(), id="evt_good")
    response = post_event(client, good)
    assert response.status_code == 200 and response.json["outcome"] == "card dispute needs_response"
    [dispute] = db.session.scalars(select(CardDispute)).all()
    assert dispute.engagement_id == funded.id
