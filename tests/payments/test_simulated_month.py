"""`ledger check` and `ledger reconcile` agree with Stripe after a month of activity, and on the demo data."""
from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from marketplace.core.time import utcnow
from marketplace.engagements import transitions
from marketplace.engagements.models import EngagementStatus as S
from marketplace.extensions import db
from marketplace.jobs import _due_jobs
from marketplace.payments import executor, ledger, services
from marketplace.payments.models import CardDispute, PayoutAccount, Refund, Transfer
from tests import factories
from tests.payments.conftest import post_event
from tests.payments.fake_stripe import DISPUTE_FEE, close_dispute, open_dispute, plant_fee_difference
from tests.payments.helpers import stripe_fund


def _run_jobs():
    for _, job in _due_jobs():
        job()
        db.session.commit()


def _specialist(fake, n):
    user = factories.create_freelancer()
    fake.add_account(f"acct_test_month_{n}")
    db.session.add(PayoutAccount(user_id=user.id, provider="stripe", external_id=f"acct_test_month_{n}",
                                 status="ready", transfers_enabled=True))
    db.session.flush()
    return user


def _settle_refunds(client, fake):
    for refund in db.session.scalars(select(Refund).where(Refund.status == "processing")).all():
        assert post_event(client, fake.settle_refund(refund.external_id)).status_code == 200


def test_a_month_of_stripe_activity_checks_and_reconciles(app, client, login_as, fake_stripe):
    rng = random.Random(11)
    operator = factories.create_operator()
    businesses = [factories.create_business() for _ in range(3)]
    specialists = [_specialist(fake_stripe, n) for n in range(4)]
    engagements = []
    for n in range(12):
        e = factories.create_engagement(business=businesses[n % 3], freelancer=specialists[n % 4],
                                        amount=rng.randrange(5_000, 90_000))
        charges = stripe_fund(client, login_as, fake_stripe, e)
        assert e.status == S.ACTIVE and charges.external_id
        engagements.append(e)
        client.post("/logout")
    approved, auto, cancelled, resolved, failed_payout, lost_after, won, lost_held = (
        engagements[:4], engagements[4], engagements[5], engagements[6], engagements[7], engagements[8],
        engagements[9], engagements[10])
    for e in engagements[:11]:
        if e is not cancelled:
            transitions.deliver(e.freelancer, e, "done")
    db.session.commit()
    # Approvals by the businesses, one approval by the job after the review window.
    for e in approved + [lost_after]:
        transitions.approve(e.business, e)
    auto.auto_approve_at = utcnow() - timedelta(minutes=1)
    # A specialist steps back: full refund. A platform dispute: the operator splits the money.
    transitions.cancel(cancelled.freelancer, cancelled, "ill")
    transitions.open_dispute(resolved.business, resolved, "Half of it was missing")
    half = resolved.amount // 2
    transitions.resolve_dispute(operator, resolved, half, resolved.amount - half)
    db.session.commit()
    # A payout Stripe refuses; fixed and retried by an operator.
    transitions.approve(failed_payout.business, failed_payout)
    db.session.commit()
    payout = db.session.scalar(select(Transfer).where(Transfer.engagement_id == failed_payout.id))
    fake_stripe.fail_next("/v1/transfers", 400, {"type": "invalid_request_error",
                                                 "message": "The destination account is closed (fake)."})
    assert executor.execute_transfer(payout.id).startswith("refused")
    _run_jobs()
    _settle_refunds(client, fake_stripe)
    assert db.session.get(Transfer, payout.id).status == "refused"
    services.retry_payment(operator, db.session.get(Transfer, payout.id))
    db.session.commit()
    executor.execute_for_engagement(failed_payout.id)
    # Chargebacks: lost after the payout (part recovered from the specialist), won, lost on held money.
    for e in (lost_after, won, lost_held):
        charge = transitions.funded_charge(e)
        for event in open_dispute(fake_stripe, charge.external_id, reason="fraudulent"):
            assert post_event(client, event).status_code == 200
    disputes = {d.engagement_id: d for d in db.session.scalars(select(CardDispute))}
    for e, outcome in ((lost_after, "lost"), (won, "won"), (lost_held, "lost")):
        for event in close_dispute(fake_stripe, disputes[e.id].external_id, outcome):
            assert post_event(client, event).status_code == 200
    reversal = services.reverse_transfer(operator, lost_after, 1_000, "lost card dispute")
    db.session.commit()
    assert executor.execute_reversal(reversal.id) == "succeeded"
    transitions.approve(won.business, won)
    db.session.commit()
    _run_jobs()
    _settle_refunds(client, fake_stripe)
    _run_jobs()

    for e in engagements:
        db.session.refresh(e)
    assert [e.status for e in engagements[:5]] == [S.COMPLETED] * 5
    assert (cancelled.status, resolved.status, lost_held.status, engagements[11].status) == (
        S.CANCELLED, S.RESOLVED, S.CANCELLED, S.ACTIVE)
    assert all(t.status == "paid" for t in db.session.scalars(select(Transfer)))
    assert all(r.status == "succeeded" for r in db.session.scalars(select(Refund)))
    assert ledger.balance("stripe_fees", "USD") > 0
    assert ledger.balance("dispute_losses", "USD") == (lost_after.amount - 1_000) + 2 * DISPUTE_FEE
    assert ledger.balance("disputed_funds", "USD") == 0
    assert ledger.check() == []

    runner = app.test_cli_runner()
    check = runner.invoke(args=["ledger", "check"])
    assert check.exit_code == 0 and "ledger check: OK" in check.output, check.output
    assert "  card_dispute_lost: 2 transaction(s)" in check.output
    reconcile = runner.invoke(args=["ledger", "reconcile"])
    assert reconcile.exit_code == 0 and "ledger reconcile: OK" in reconcile.output, reconcile.output

    # One cent of fee that the ledger doesn't know about is found.
    charge = transitions.funded_charge(engagements[11])
    plant_fee_difference(fake_stripe, charge.external_id, 1)
    reconcile = runner.invoke(args=["ledger", "reconcile"])
    assert reconcile.exit_code == 1
    assert f"Stripe charge {charge.external_id}: fee" in reconcile.output
    assert "ledger reconcile: 2 difference(s)" in reconcile.output


def test_ledger_check_and_reconcile_pass_on_the_demo_data(app):
    from marketplace.demo import seed_activity, seed_demo
    seed_demo(freelancers=12, businesses=4, seed=5, echo=lambda *a, **k: None)
    seed_activity(random.Random(5), 300, echo=lambda *a, **k: None, days=60)
    db.session.commit()
    runner = app.test_cli_runner()
    check = runner.invoke(args=["ledger", "check"])
    assert check.exit_code == 0 and "ledger check: OK" in check.output, check.output
    reconcile = runner.invoke(args=["ledger", "reconcile"])
    assert reconcile.exit_code == 0 and "sandbox" in reconcile.output
