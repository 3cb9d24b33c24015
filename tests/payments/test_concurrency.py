"""Exactly-once under real concurrency (PostgreSQL, threads, committed data; cleaned up after)."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from marketplace.engagements import transitions
from marketplace.engagements.models import Engagement, EngagementStatus as S
from marketplace.extensions import db
from marketplace.payments import ledger
from marketplace.payments.models import LedgerTransaction, PayoutAccount, Transfer, WebhookEvent
from tests import factories
from tests.conftest import FreshContextClient
from tests.payments.conftest import session_completed, signed

PARALLEL = 20


def _run_parallel(n, fn):
    barrier = threading.Barrier(n)
    results = [None] * n

    def run(i):
        barrier.wait()
        results[i] = fn(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


@pytest.mark.no_db_transaction
def test_twenty_parallel_approvals_make_one_transfer(app, committed_world, fake_stripe):
    e = factories.create_engagement()
    db.session.add(PayoutAccount(user_id=e.freelancer_id, provider="stripe", external_id="acct_test_par",
                                 status="ready", transfers_enabled=True))
    fake_stripe.add_account("acct_test_par")
    fake_stripe.add_charge("ch_test_par", e.amount)  # and its PaymentIntent pi_test_par
    charge = transitions.begin_funding(e.business, e, "stripe")
    transitions.confirm_funding(charge, payment_intent_id="pi_test_par")
    transitions.deliver(e.freelancer, e, "done")
    db.session.commit()
    engagement_id, business = e.id, e.business
    tabs = []
    for _ in range(PARALLEL):
        tab = FreshContextClient(app, app.response_class, use_cookies=True)
        assert tab.post("/login", data={"email": business.email, "password": factories.PASSWORD}).status_code == 302
        tabs.append(tab)
    codes = _run_parallel(PARALLEL, lambda i: tabs[i].post(f"/engagements/{engagement_id}/approve").status_code)
    assert codes == [302] * PARALLEL
    db.session.expire_all()
    assert db.session.get(Engagement, engagement_id).status == S.COMPLETED
    assert db.session.scalar(select(func.count()).select_from(Transfer)
                             .where(Transfer.engagement_id == engagement_id)) == 1
    assert len(fake_stripe.calls("POST", "/v1/transfers")) == 1
    assert db.session.scalar(select(func.count()).select_from(LedgerTransaction)
                             .where(LedgerTransaction.kind == "release")) == 1
    assert ledger.check() == []


@pytest.mark.no_db_transaction
@pytest.mark.parametrize("deliveries", [10])
def test_the_same_event_delivered_concurrently_has_one_effect(app, committed_world, webhook_secret, deliveries):
    e = factories.create_engagement()
    charge = transitions.begin_funding(e.business, e, "stripe")
    charge.checkout_session_id = "cs_test_conc"
    db.session.commit()
    engagement_id = e.id
    payload, headers = signed(session_completed(charge, event_id="evt_concurrent", pi="pi_conc"))
    clients = [FreshContextClient(app, app.response_class) for _ in range(deliveries)]
    responses = _run_parallel(deliveries, lambda i: clients[i].post("/payments/stripe/webhook", data=payload,
                                                                    headers=headers))
    assert [r.status_code for r in responses] == [200] * deliveries
    assert sorted(r.json["outcome"] for r in responses) == ["duplicate"] * (deliveries - 1) + ["funded"]
    db.session.expire_all()
    assert db.session.get(Engagement, engagement_id).status == S.ACTIVE
    assert db.session.scalar(select(func.count()).select_from(WebhookEvent)) == 1
    assert db.session.scalar(select(func.count()).select_from(LedgerTransaction)) == 1
    assert ledger.check() == []


@pytest.mark.no_db_transaction
@pytest.mark.parametrize("gateway", ["sandbox", "stripe"])
def test_parallel_off_session_charges_of_one_invoice_fund_it_once(app, committed_world, request, gateway):
    """Two job runners (here ten) charging the same invoice at the same moment: one funding charge, one
    PaymentIntent at Stripe (the same idempotency key replays), one funding in the ledger."""
    from marketplace.payments import saved_methods
    from marketplace.payments.models import BillingProfile, Charge
    from marketplace.payments.off_session import charge_off_session
    from tests.payments.payables import invoice

    payable = invoice()
    business = payable.business
    if gateway == "stripe":
        fake = request.getfixturevalue("fake_stripe")
        customer = fake.create_customer({"email": business.email})[0]
        session = fake._create_setup_session({"customer": customer["id"], "allowed_payment_method_types": ["card"]})[0]
        fake.complete_setup(session["id"])
        method = fake.objects[fake.objects[session["id"]]["setup_intent"]]["payment_method"]
        db.session.add(BillingProfile(user_id=business.id, provider="stripe", customer_id=customer["id"],
                                      payment_method_id=method, brand="visa", last4="4242"))
    else:
        saved_methods.save_sandbox_card(business, "succeeds")
    db.session.commit()
    payable_id = payable.id

    def run(i):
        with app.app_context():
            try:
                return charge_off_session(db.session.get(Engagement, payable_id)).status
            finally:
                db.session.remove()

    outcomes = _run_parallel(10, run)
    assert set(outcomes) <= {"succeeded", "pending"} and "succeeded" in outcomes
    db.session.expire_all()
    assert db.session.get(Engagement, payable_id).status == S.ACTIVE
    # One attempt: a runner never starts a second one while the first is in flight or done.
    assert db.session.scalar(select(func.count()).select_from(Charge).where(Charge.engagement_id == payable_id)) == 1
    assert db.session.scalar(select(func.count()).select_from(Charge).where(
        Charge.engagement_id == payable_id, Charge.status == "succeeded")) == 1
    assert db.session.scalar(select(func.count()).select_from(LedgerTransaction).where(
        LedgerTransaction.engagement_id == payable_id, LedgerTransaction.kind == "funding")) == 1
    if gateway == "stripe":
        assert len([o for o in fake.objects.values() if o["object"] == "payment_intent"]) == 1
    assert ledger.check() == []
