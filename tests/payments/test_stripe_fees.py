"""The funding charge id and Stripe's fees in the ledger, and `ledger reconcile` against Stripe's balance."""
from __future__ import annotations

from sqlalchemy import select

from marketplace.engagements import transitions
from marketplace.extensions import db
from marketplace.payments import ledger, settlement
from marketplace.payments.cli import ledger_cli, reconcile
from marketplace.payments.gateway import get_gateway
from marketplace.payments.ledger import CASH, Line
from marketplace.payments.models import LedgerTransaction
from tests import factories
from tests.payments.fake_stripe import STRIPE_FEE_BPS, STRIPE_FEE_FIXED, plant_fee_difference
from tests.payments.helpers import assert_ledger_ok, stripe_fund


def _fee(amount: int) -> int:
    return amount * STRIPE_FEE_BPS // 10_000 + STRIPE_FEE_FIXED


def test_funding_stores_the_charge_id_so_an_unreleased_charge_reconciles(client, login_as, fake_stripe):
    e = factories.create_engagement(amount=45_678)
    charge = stripe_fund(client, login_as, fake_stripe, e)
    latest = fake_stripe.objects[charge.payment_intent_id]["latest_charge"]
    assert e.status.value == "active"
    assert charge.external_id == latest   # known before any transfer is sent
    assert reconcile(get_gateway()) == []
    assert_ledger_ok()


def test_the_processing_fee_is_posted_from_the_balance_transaction(client, login_as, fake_stripe):
    e = factories.create_engagement(amount=45_678)
    charge = stripe_fund(client, login_as, fake_stripe, e)
    bt = fake_stripe.objects[fake_stripe.objects[charge.external_id]["balance_transaction"]]
    assert bt["fee"] == _fee(45_678)
    assert charge.balance_transaction_id == bt["id"]
    assert ledger.balance("stripe_fees", "USD") == bt["fee"]
    assert ledger.balance("platform_cash", "USD") == bt["net"]
    txn = db.session.scalar(select(LedgerTransaction).where(LedgerTransaction.kind == "stripe_fee"))
    assert txn.stripe_source == charge.external_id and txn.engagement_id == e.id
    # A second delivery of the same payment posts nothing more.
    event = fake_stripe.event_for("checkout.session.completed", charge.checkout_session_id)
    event["data"]["object"]["payment_intent"] = charge.payment_intent_id
    event["data"]["object"]["payment_status"] = "paid"
    from tests.payments.conftest import post_event
    assert post_event(client, event).json["outcome"] == "already recorded"
    assert ledger.balance("stripe_fees", "USD") == bt["fee"]
    assert_ledger_ok()


def test_reconcile_reports_a_one_cent_fee_difference(client, login_as, fake_stripe):
    e = factories.create_engagement(amount=30_000)
    charge = stripe_fund(client, login_as, fake_stripe, e)
    assert reconcile(get_gateway()) == []
    plant_fee_difference(fake_stripe, charge.external_id, 1)
    fee = _fee(30_000)
    assert reconcile(get_gateway()) == [
        f"Stripe charge {charge.external_id}: fee {fee + 1} usd, ledger {fee} usd",
        f"Stripe charge {charge.external_id}: net {30_000 - fee - 1} usd, ledger {30_000 - fee} usd",
    ]


def test_reconcile_reports_a_different_amount_and_a_ledger_only_source(client, login_as, fake_stripe):
    e = factories.create_engagement(amount=30_000)
    charge = stripe_fund(client, login_as, fake_stripe, e)
    bt = fake_stripe.objects[fake_stripe.objects[charge.external_id]["balance_transaction"]]
    bt["amount"] += 100
    bt["net"] += 100
    ledger.post("tr_test_only_here", "transfer", [Line("freelancer_payable", 5), Line(CASH, -5)], currency="USD")
    db.session.commit()
    problems = reconcile(get_gateway())
    assert f"Stripe charge {charge.external_id}: amount 30100 usd, ledger 30000 usd" in problems
    assert "ledger source tr_test_only_here has no Stripe balance transaction" in problems


def test_stripe_unreachable_at_confirmation_the_job_fills_in_the_charge_and_fee(client, login_as, fake_stripe):
    e = factories.create_engagement(amount=20_000)
    fake_stripe.network_error_next("/v1/payment_intents/", times=3)   # more than the SDK's retries
    charge = stripe_fund(client, login_as, fake_stripe, e)
    assert e.status.value == "active" and charge.external_id is None
    assert ledger.balance("stripe_fees", "USD") == 0
    assert settlement.settle_due() == 1
    db.session.refresh(charge)
    assert charge.external_id == fake_stripe.objects[charge.payment_intent_id]["latest_charge"]
    assert ledger.balance("stripe_fees", "USD") == _fee(20_000)
    assert settlement.settle_due() == 0    # nothing left to do
    assert reconcile(get_gateway()) == []
    assert_ledger_ok()


def test_ledger_check_holds_every_kind_to_its_accounts(app):
    ledger.post("odd:1", "bonus", [Line(CASH, 5), Line("fee_revenue", -5)], currency="USD")
    ledger.post("odd:2", "stripe_fee", [Line("stripe_fees", 5), Line("fee_revenue", -5)], currency="USD")
    problems = ledger.check()
    assert any("kind 'bonus' has no rule in ledger check" in p for p in problems)
    assert any("a stripe_fee may not touch fee_revenue" in p for p in problems)


def test_ledger_check_prints_a_line_per_transaction_kind(app, client, login_as, fake_stripe):
    e = factories.create_engagement(amount=20_000)
    stripe_fund(client, login_as, fake_stripe, e)
    result = app.test_cli_runner().invoke(ledger_cli, ["check"])
    assert result.exit_code == 0, result.output
    for kind in ledger.KIND_ACCOUNTS:
        assert f"  {kind}: " in result.output
    assert "  stripe_fee: 1 transaction(s)" in result.output and "ledger check: OK" in result.output


def test_a_refund_that_fails_after_succeeding_checks_and_reconciles(client, login_as, fake_stripe):
    from marketplace.payments.models import Refund
    from tests.payments.conftest import post_event
    e = factories.create_engagement(amount=30_000)
    stripe_fund(client, login_as, fake_stripe, e)
    client.post("/logout")
    login_as(e.freelancer)
    client.post(f"/engagements/{e.id}/cancel", data={"note": "ill"})
    refund = db.session.scalar(select(Refund).where(Refund.engagement_id == e.id))
    post_event(client, fake_stripe.settle_refund(refund.external_id))
    assert reconcile(get_gateway()) == []
    post_event(client, fake_stripe.settle_refund(refund.external_id, "failed"))
    db.session.refresh(refund)
    assert refund.status == "failed"
    kinds = set(db.session.scalars(select(LedgerTransaction.kind)))
    assert "refund_failed" in kinds
    assert_ledger_ok()
    assert reconcile(get_gateway()) == []
