"""The Stripe webhook endpoint: signatures, replays, order, unknown objects."""
from __future__ import annotations

import time

from sqlalchemy import func, select

from marketplace.engagements import transitions
from marketplace.engagements.models import EngagementStatus as S
from marketplace.extensions import db
from marketplace.payments import ledger
from marketplace.payments.models import CardDispute, WebhookEvent
from tests import factories
from tests.payments.conftest import WEBHOOK_SECRET, post_event, session_completed, signed
from tests.payments.helpers import assert_ledger_ok, ledger_counts


def _charge(e):
    charge = transitions.begin_funding(e.business, e, "stripe")
    charge.checkout_session_id = f"cs_test_{charge.id}"
    db.session.flush()
    return charge


def test_bad_signature_and_stale_timestamp_are_refused(client, webhook_secret):
    e = factories.create_engagement()
    event = session_completed(_charge(e), event_id="evt_sig", pi="pi_sig")
    assert post_event(client, event, secret="whsec_wrong").status_code == 400
    assert post_event(client, event, timestamp=int(time.time()) - 3600).status_code == 400
    payload, headers = signed(event)
    assert client.post("/payments/stripe/webhook", data=payload.replace("paid", "PAID"),
                       headers=headers).status_code == 400  # body changed after signing
    assert client.post("/payments/stripe/webhook", data=payload).status_code == 400  # no header
    db.session.refresh(e)
    assert e.status == S.AWAITING_FUNDING and ledger_counts() == (0, 0)
    assert db.session.scalar(select(func.count()).select_from(WebhookEvent)) == 0


def test_the_same_event_ten_times_has_one_effect(client, webhook_secret):
    e = factories.create_engagement()
    event = session_completed(_charge(e), event_id="evt_once", pi="pi_once")
    outcomes = [post_event(client, event) for _ in range(10)]
    assert [r.status_code for r in outcomes] == [200] * 10
    assert outcomes[0].json["outcome"] == "funded"
    assert {r.json["outcome"] for r in outcomes[1:]} == {"duplicate"}
    assert ledger_counts() == (1, 2)
    db.session.refresh(e)
    assert e.status == S.ACTIVE and [ev.to_status for ev in e.events].count("active") == 1


def test_a_new_event_for_a_state_already_passed_is_a_no_op(client, webhook_secret):
    e = factories.create_engagement()
    charge = _charge(e)
    post_event(client, session_completed(charge, event_id="evt_a", pi="pi_x"))
    again = post_event(client, {**session_completed(charge, event_id="evt_b", pi="pi_x"),
                                "type": "checkout.session.async_payment_succeeded"})
    assert again.status_code == 200 and again.json["outcome"] == "already recorded"
    # An expiry that arrives after the payment changes nothing either.
    expired = post_event(client, {**session_completed(charge, event_id="evt_c", pi="pi_x"),
                                  "type": "checkout.session.expired"})
    assert expired.json["outcome"] == "ignored: charge not pending"
    assert ledger_counts() == (1, 2)
    assert_ledger_ok()


def test_unknown_engagement_and_mismatched_amounts_are_logged_no_ops(client, webhook_secret):
    e = factories.create_engagement()
    charge = _charge(e)
    unknown = session_completed(charge, event_id="evt_unknown", pi="pi_u")
    unknown["data"]["object"]["metadata"] = {"engagement_id": "999999", "charge_id": "999999"}
    unknown["data"]["object"]["id"] = "cs_nobody"
    response = post_event(client, unknown)
    assert response.status_code == 200 and response.json["outcome"] == "ignored: unknown engagement"
    wrong_amount = session_completed(charge, event_id="evt_amount", pi="pi_a", amount=1)
    assert post_event(client, wrong_amount).json["outcome"].startswith("ignored: paid 1")
    other = factories.create_engagement()
    forged = session_completed(charge, event_id="evt_forged", pi="pi_f")
    forged["data"]["object"]["metadata"]["engagement_id"] = str(other.id)
    assert post_event(client, forged).json["outcome"] == "ignored: unknown engagement"
    for garbage in ({"id": "evt_g", "type": "checkout.session.completed", "data": {"object": {}}},
                    {"id": "evt_h", "type": "charge.refunded", "data": None},
                    {"type": "x"}, {"id": "evt_i", "type": "something.else"}):
        assert post_event(client, garbage).status_code == 200
    # Signed but not an event: recorded and acknowledged, so Stripe stops resending it.
    answer = client.post("/payments/stripe/webhook", data="[]", headers=signed([])[1])
    assert answer.status_code == 200 and answer.json["outcome"].startswith("rejected:")
    db.session.refresh(e)
    assert e.status == S.AWAITING_FUNDING and ledger_counts() == (0, 0)


def test_card_dispute_is_recorded_and_debited_once(client, webhook_secret, login_operator):
    e = factories.create_engagement()
    charge = _charge(e)
    post_event(client, session_completed(charge, event_id="evt_f", pi="pi_d"))
    db.session.refresh(charge)
    charge.external_id = "ch_d"
    db.session.flush()
    dispute = {"id": "dp_1", "object": "dispute", "charge": "ch_d", "amount": charge.amount, "currency": "usd",
               "status": "needs_response", "reason": "fraudulent"}
    for n, kind in enumerate(["charge.dispute.created", "charge.dispute.funds_withdrawn",
                              "charge.dispute.funds_withdrawn"]):
        assert post_event(client, {"id": f"evt_dp_{n}", "type": kind, "data": {"object": dispute}}).status_code == 200
    [row] = db.session.scalars(select(CardDispute)).all()
    assert row.engagement_id == e.id and row.reason == "fraudulent"
    # Withdrawn while the dispute is open: not a loss until it is lost.
    assert ledger.balance("disputed_funds", "USD") == charge.amount
    assert ledger.balance("dispute_losses", "USD") == 0
    assert_ledger_ok()
    operator = factories.create_operator()
    login_operator(operator)
    assert "dp_1" in client.get("/payments/disputes").get_data(as_text=True)


def test_webhooks_unconfigured_answer_400(client, app):
    saved = app.config.get("STRIPE_WEBHOOK_SECRET")
    app.config["STRIPE_WEBHOOK_SECRET"] = None
    try:
        payload, headers = signed({"id": "evt", "type": "x"}, WEBHOOK_SECRET)
        assert client.post("/payments/stripe/webhook", data=payload, headers=headers).status_code == 400
    finally:
        app.config["STRIPE_WEBHOOK_SECRET"] = saved
