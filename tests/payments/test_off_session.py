"""Charging invoices and bonuses to the saved card off-session: success funds exactly as Checkout does;
declines and `authentication_required` mark the payable and send the business to pay on-session."""
from __future__ import annotations

from sqlalchemy import func, select

from marketplace.engagements.models import Engagement, EngagementStatus as S, PayableKind
from marketplace.extensions import db
from marketplace.notifications.models import Notification
from marketplace.outbox.models import OutboxMessage
from marketplace.payments import saved_methods
from marketplace.payments.models import Charge, LedgerTransaction
from marketplace.payments.off_session import charge_off_session, recovery_path
from tests import factories
from tests.payments.conftest import post_event
from tests.payments.helpers import assert_ledger_ok
from tests.payments.payables import invoice


def _fresh(payable) -> Engagement:
    db.session.expire_all()
    return db.session.get(Engagement, payable.id)


def _charges(payable) -> list[Charge]:
    return list(db.session.scalars(select(Charge).where(Charge.engagement_id == payable.id).order_by(Charge.id)))


def _mails(user) -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.to_address == user.email)
                                   .order_by(OutboxMessage.id)))


def _notes(user) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id)
                                   .order_by(Notification.id)))


def _stripe_card(client, login_as, fake, business, **card):
    login_as(business)
    response = client.post("/billing/card")
    session_id = response.location.rsplit("/", 1)[1]
    assert post_event(client, fake.complete_setup(session_id, **card)).json["outcome"] == "card saved"
    client.post("/logout")
    db.session.expire_all()
    return saved_methods.saved_method_for(business.id)


# --- sandbox ------------------------------------------------------------------------------------------

def test_sandbox_success_funds_the_invoice_like_a_checkout_payment_and_a_second_call_does_nothing(business):
    payable = invoice(business)
    saved_methods.save_sandbox_card(business, "succeeds")
    outcome = charge_off_session(payable)
    assert outcome.status == "succeeded"
    payable = _fresh(payable)
    assert payable.status == S.ACTIVE and payable.funded_at is not None and payable.payment_failed_at is None
    [charge] = _charges(payable)
    assert (charge.id, charge.status, charge.off_session, charge.amount) == (outcome.charge_id, "succeeded", True,
                                                                             25_500)
    funding = db.session.scalar(select(LedgerTransaction).where(LedgerTransaction.engagement_id == payable.id,
                                                                LedgerTransaction.kind == "funding"))
    assert funding is not None and sorted(e.amount for e in funding.entries) == [-25_500, 25_500]
    assert_ledger_ok()
    assert "Payment of $255.00 received" in payable.events[-1].note

    again = charge_off_session(payable)
    assert (again.status, again.charge_id) == ("succeeded", charge.id)
    assert len(_charges(payable)) == 1


def test_sandbox_decline_marks_the_payable_and_emails_the_business_a_link_to_pay(business):
    payable = invoice(business, title="Week of 23 Nov 2026: 12 h")
    saved_methods.save_sandbox_card(business, "declined")
    outcome = charge_off_session(payable)
    assert outcome.status == "failed" and "declined" in outcome.message
    payable = _fresh(payable)
    assert payable.status == S.AWAITING_FUNDING and payable.payment_failed_at is not None
    [charge] = _charges(payable)
    assert (charge.status, charge.failure_code) == ("failed", "card_declined")
    mail = _mails(business)[-1]
    assert "Please pay $255.00" in mail.subject
    assert recovery_path(payable) in mail.body and "declined" in mail.body and "ending 0341" in mail.body
    # The specialist hears that payment is pending, never why.
    note = _notes(payable.freelancer)[-1]
    assert note.title.startswith("Payment pending from the business")
    assert "declin" not in (note.title + note.body).lower()
    assert "declin" not in payable.events[-1].note.lower()
    assert_ledger_ok()


def test_no_saved_card_fails_and_asks_the_business_once(business):
    payable = invoice(business)
    before = len(_mails(business))
    assert charge_off_session(payable).status == "failed"
    assert charge_off_session(payable).status == "failed"
    assert _charges(payable) == []
    assert len(_mails(business)) == before + 1
    assert "haven't saved a card" in _mails(business)[-1].body
    assert _fresh(payable).payment_failed_at is not None


def test_a_cancelled_payable_is_not_charged(business):
    payable = invoice(business)
    saved_methods.save_sandbox_card(business, "succeeds")
    payable.status = S.CANCELLED
    db.session.flush()
    assert charge_off_session(payable).status == "pending"
    assert _charges(payable) == []


def test_the_specialist_sees_payment_pending_without_the_reason(client, login_as, business):
    payable = invoice(business)
    saved_methods.save_sandbox_card(business, "authentication_required")
    assert charge_off_session(payable).status == "requires_action"
    login_as(payable.freelancer)
    page = client.get(f"/engagements/{payable.id}").get_data(as_text=True)
    assert "Payment pending from the business." in page
    assert "authentication" not in page.lower() and "declined" not in page.lower()
    client.post("/logout")
    login_as(business)
    page = client.get(f"/engagements/{payable.id}").get_data(as_text=True)
    assert "The charge to your card on file didn" in page and recovery_path(payable) in page


# --- Stripe -------------------------------------------------------------------------------------------

def test_stripe_off_session_success_then_the_webhook_changes_nothing(client, login_as, fake_stripe, business):
    payable = invoice(business)
    card = _stripe_card(client, login_as, fake_stripe, business)
    outcome = charge_off_session(payable)
    assert outcome.status == "succeeded"
    [call] = fake_stripe.calls("POST", "/v1/payment_intents")
    params = call["params"]
    assert (params["off_session"], params["confirm"], params["amount"], params["currency"]) == (
        "true", "true", "25500", "usd")
    assert (params["customer"], params["payment_method"]) == (card.customer_id, card.payment_method_id)
    assert params["transfer_group"] == f"eng_{payable.id}"
    assert params["metadata[charge_id]"] == str(outcome.charge_id)
    assert call["key"].endswith(f"offsession:eng_{payable.id}:1")
    payable = _fresh(payable)
    [charge] = _charges(payable)
    assert payable.status == S.ACTIVE and charge.status == "succeeded"
    intent = fake_stripe.objects[charge.payment_intent_id]
    assert charge.external_id == intent["latest_charge"] and charge.balance_transaction_id is not None
    assert_ledger_ok()
    ledger_rows = db.session.scalar(select(func.count()).select_from(LedgerTransaction))

    # Stripe's payment_intent.succeeded arrives after the synchronous answer: nothing more happens.
    response = post_event(client, fake_stripe.event_for("payment_intent.succeeded", charge.payment_intent_id))
    assert response.json["outcome"] == "already recorded"
    assert db.session.scalar(select(func.count()).select_from(LedgerTransaction)) == ledger_rows
    assert charge_off_session(payable).status == "succeeded"
    assert len(fake_stripe.calls("POST", "/v1/payment_intents")) == 1
    assert_ledger_ok()


def test_a_lost_response_is_resent_under_the_same_key_and_stripe_replays_it(client, login_as, fake_stripe, business):
    payable = invoice(business)
    _stripe_card(client, login_as, fake_stripe, business)
    fake_stripe.network_error_next("/v1/payment_intents", after_processing=True)
    assert charge_off_session(payable).status == "succeeded"
    calls = fake_stripe.calls("POST", "/v1/payment_intents")
    assert len(calls) == 2 and calls[0]["key"] == calls[1]["key"]
    assert len([o for o in fake_stripe.objects.values() if o["object"] == "payment_intent"]) == 1
    assert _fresh(payable).status == S.ACTIVE
    assert_ledger_ok()


def test_the_webhook_funds_a_charge_whose_answer_never_arrived(client, login_as, fake_stripe, business):
    payable = invoice(business)
    _stripe_card(client, login_as, fake_stripe, business)
    # Every try loses the response although Stripe charged the card: we record a gateway failure...
    fake_stripe.network_error_next("/v1/payment_intents", times=3, after_processing=True)
    outcome = charge_off_session(payable)
    assert outcome.status == "failed"
    [charge] = _charges(payable)
    assert (charge.status, charge.failure_code) == ("failed", "gateway_error")
    assert _fresh(payable).payment_failed_at is not None
    # ... and Stripe's event funds it from that charge, clearing the failed mark.
    intent = next(o for o in fake_stripe.objects.values() if o["object"] == "payment_intent")
    assert post_event(client, fake_stripe.event_for("payment_intent.succeeded", intent["id"])).json[
        "outcome"] == "funded"
    payable = _fresh(payable)
    assert payable.status == S.ACTIVE and payable.payment_failed_at is None
    assert _charges(payable)[0].status == "succeeded"
    assert_ledger_ok()


def test_stripe_decline_is_a_failed_charge_with_stripes_reason(client, login_as, fake_stripe, business):
    payable = invoice(business)
    _stripe_card(client, login_as, fake_stripe, business, behaviour="declined", last4="0341")
    outcome = charge_off_session(payable)
    assert (outcome.status, outcome.message) == ("failed", "Your card was declined.")
    [charge] = _charges(payable)
    assert (charge.status, charge.failure_code) == ("failed", "card_declined")
    assert fake_stripe.objects[charge.payment_intent_id]["status"] == "requires_payment_method"
    assert _fresh(payable).payment_failed_at is not None


def test_authentication_required_then_paid_on_session_through_checkout(client, login_as, fake_stripe, business):
    payable = invoice(business, kind=PayableKind.BONUS, title="Bonus for the launch weekend")
    _stripe_card(client, login_as, fake_stripe, business, behaviour="authentication_required", last4="3184")
    outcome = charge_off_session(payable)
    assert outcome.status == "requires_action"
    [failed] = _charges(payable)
    assert (failed.status, failed.failure_code) == ("failed", "authentication_required")
    assert failed.payment_intent_id in fake_stripe.objects
    mail = _mails(business)[-1]
    assert recovery_path(payable) in mail.body and "confirm this payment yourself" in mail.body

    # The payment_intent.payment_failed event for the same intent: already recorded, no second email.
    mails = len(_mails(business))
    event = fake_stripe.event_for("payment_intent.payment_failed", failed.payment_intent_id)
    assert post_event(client, event).json["outcome"] == "ignored: charge not pending"
    assert len(_mails(business)) == mails

    # The business follows the link and pays through the normal Checkout.
    login_as(business)
    page = client.get(recovery_path(payable)).get_data(as_text=True)
    assert "This transaction requires authentication." in page and "Pay $255.00 now" in page
    response = client.post(f"/engagements/{payable.id}/fund")
    assert response.status_code == 303 and "/c/pay/cs_" in response.location
    checkout = _charges(payable)[-1]
    assert not checkout.off_session
    assert post_event(client, fake_stripe.pay_checkout(checkout.checkout_session_id)).json["outcome"] == "funded"
    payable = _fresh(payable)
    assert payable.status == S.ACTIVE and payable.payment_failed_at is None
    assert_ledger_ok()
    page = client.get(recovery_path(payable)).get_data(as_text=True)
    assert "This is paid." in page
    # A later scheduled attempt finds it funded and charges nothing.
    assert charge_off_session(payable).status == "succeeded"
    assert len(fake_stripe.calls("POST", "/v1/payment_intents")) == 1


def test_a_new_attempt_after_a_failure_uses_a_new_key(client, login_as, fake_stripe, business):
    payable = invoice(business)
    _stripe_card(client, login_as, fake_stripe, business, behaviour="declined")
    assert charge_off_session(payable).status == "failed"
    _stripe_card(client, login_as, fake_stripe, business)   # the business replaces the card
    assert charge_off_session(payable).status == "succeeded"
    keys = [c["key"] for c in fake_stripe.calls("POST", "/v1/payment_intents")]
    assert keys[0].endswith(":1") and keys[1].endswith(":2")
    payable = _fresh(payable)
    assert payable.status == S.ACTIVE and payable.payment_failed_at is None
    assert [c.status for c in _charges(payable)] == ["failed", "succeeded"]
    assert_ledger_ok()


def test_the_recovery_page_is_only_for_the_business_of_the_contract(client, login_as, business):
    payable = invoice(business)
    saved_methods.save_sandbox_card(business, "declined")
    charge_off_session(payable)
    login_as(factories.create_business())
    assert client.get(recovery_path(payable)).status_code == 404
    client.post("/logout")
    login_as(payable.freelancer)
    assert client.get(recovery_path(payable)).status_code == 403


def test_a_payable_whose_task_was_taken_down_is_neither_charged_nor_marked(business):
    from marketplace.tasks.models import TaskStatus
    payable = invoice(business)
    saved_methods.save_sandbox_card(business, "succeeds")
    payable.task.status = TaskStatus.REMOVED
    db.session.flush()
    outcome = charge_off_session(payable)
    assert outcome.status == "pending" and "taken down" in outcome.message
    assert _charges(payable) == [] and _fresh(payable).payment_failed_at is None


def _pending_charge(payable, provider):
    from marketplace.payments.off_session import _open_charge
    charge = _open_charge(payable, provider)
    db.session.commit()
    return charge


def test_the_success_webhook_arriving_before_the_synchronous_answer(client, login_as, fake_stripe, business):
    from marketplace.payments.off_session import _record_success
    payable = invoice(business)
    _stripe_card(client, login_as, fake_stripe, business)
    charge = _pending_charge(payable, "stripe")   # the request is in flight...
    fake_stripe.add_charge("ch_test_early", charge.amount, payment_intent="pi_test_early",
                           metadata={"engagement_id": str(payable.id), "charge_id": str(charge.id)})
    # ... when Stripe's event arrives
    assert post_event(client, fake_stripe.event_for("payment_intent.succeeded", "pi_test_early")).json[
        "outcome"] == "funded"
    ledger_rows = db.session.scalar(select(func.count()).select_from(LedgerTransaction))
    assert _record_success(db.session.get(Charge, charge.id), "pi_test_early", "ch_test_early").status == "succeeded"
    assert db.session.scalar(select(func.count()).select_from(LedgerTransaction)) == ledger_rows
    payable = _fresh(payable)
    assert payable.status == S.ACTIVE and [c.status for c in _charges(payable)] == ["succeeded"]
    assert_ledger_ok()


def test_the_failure_webhook_arriving_before_the_synchronous_answer_emails_once(client, business, webhook_secret):
    from marketplace.payments.off_session import record_failure
    payable = invoice(business)
    saved_methods.save_sandbox_card(business, "declined")
    charge = _pending_charge(payable, "sandbox")
    mails = len(_mails(business))
    event = {"id": "evt_early_fail", "object": "event", "type": "payment_intent.payment_failed", "data": {"object": {
        "id": "pi_early", "object": "payment_intent", "status": "requires_payment_method",
        "metadata": {"engagement_id": str(payable.id), "charge_id": str(charge.id)},
        "last_payment_error": {"code": "card_declined", "message": "Your card was declined."}}}}
    assert post_event(client, event).json["outcome"] == "off-session payment failed"
    assert len(_mails(business)) == mails + 1
    outcome = record_failure(db.session.get(Charge, charge.id), "Your card was declined.", "card_declined",
                             payment_intent_id="pi_early")
    assert outcome.status == "failed" and len(_mails(business)) == mails + 1
    assert _charges(payable)[0].payment_intent_id == "pi_early"
    assert _fresh(payable).payment_failed_at is not None


def test_payment_intent_succeeded_for_a_checkout_payment_is_left_to_the_checkout_events(client, login_as,
                                                                                        fake_stripe, business):
    from tests.payments.helpers import stripe_fund
    payable = invoice(business)
    charge = stripe_fund(client, login_as, fake_stripe, payable)
    outcome = post_event(client, fake_stripe.event_for("payment_intent.succeeded", charge.payment_intent_id))
    assert outcome.json["outcome"] == "ignored: not an off-session charge of ours"
