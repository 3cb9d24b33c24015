"""The engagement state machine on the sandbox gateway: every transition, its money, and bad input."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marketplace.core.errors import Conflict, Forbidden, ValidationFailed
from marketplace.core.time import utcnow
from marketplace.engagements import transitions
from marketplace.engagements.models import EngagementStatus as S
from marketplace.extensions import db
from marketplace.notifications.models import Notification
from marketplace.payments import executor, ledger, services
from marketplace.payments.ledger import CASH, FEES, PAYABLE
from marketplace.payments.models import Refund, Transfer
from tests import factories
from tests.payments.helpers import assert_ledger_ok, ledger_counts, sandbox_fund


def kinds(user_id):
    return set(db.session.scalars(select(Notification.kind).where(Notification.user_id == user_id)))


def test_fund_deliver_approve_pays_the_specialist_once_connected():
    e = factories.create_engagement(amount=45_678)
    sandbox_fund(e)
    assert e.status == S.ACTIVE and e.funded_at is not None
    assert ledger.held_for(e) == 45_678 and ledger.balance(CASH, "USD") >= 45_678
    assert "funded" in kinds(e.freelancer_id)
    assert_ledger_ok()

    transitions.deliver(e.freelancer, e, "Answered 412 chats; report attached.")
    assert e.status == S.DELIVERED and e.auto_approve_at is not None
    assert "delivered" in kinds(e.business_id)

    transfer = transitions.approve(e.business, e)
    assert e.status == S.COMPLETED and ledger.held_for(e) == 0
    assert transfer.amount == e.payout_amount == 45_678 - 4_568
    assert transfer.status == "awaiting_account"  # no payout account yet: kept for the specialist
    assert ledger.balance(FEES, "USD", engagement_id=e.id) == -4_568
    assert ledger.balance(PAYABLE, "USD", engagement_id=e.id) == -41_110
    assert_ledger_ok()
    db.session.commit()

    promoted = services.sandbox_connect(e.freelancer)
    assert promoted == [transfer.id]
    db.session.commit()
    assert executor.execute_transfer(transfer.id) == "paid"
    assert executor.execute_transfer(transfer.id) == "not due"  # a second run moves nothing
    db.session.refresh(transfer)
    assert transfer.status == "paid" and transfer.external_id == f"sbx_tr_{transfer.id}"
    assert ledger.balance(PAYABLE, "USD", engagement_id=e.id) == 0
    assert "payout" in kinds(e.freelancer_id)
    assert_ledger_ok()
    assert [ev.to_status for ev in e.events] == ["awaiting_funding", "active", "delivered", "completed"]


def test_each_transition_checks_actor_and_state():
    e = factories.create_engagement()
    stranger = factories.create_business()
    before = ledger_counts()
    with pytest.raises(Forbidden):
        transitions.begin_funding(stranger, e, "sandbox")
    with pytest.raises(Forbidden):
        transitions.begin_funding(e.freelancer, e, "sandbox")
    with pytest.raises(Conflict, match="hasn't delivered"):
        transitions.approve(e.business, e)
    with pytest.raises(Conflict, match="active"):
        transitions.deliver(e.freelancer, e, "done")
    sandbox_fund(e)
    after_funding = ledger_counts()
    assert after_funding != before
    with pytest.raises(Forbidden):
        transitions.deliver(e.business, e, "I did it myself")
    with pytest.raises(ValidationFailed):
        transitions.deliver(e.freelancer, e, "   ")
    with pytest.raises(Conflict, match="no delivery"):
        transitions.approve(e.business, e)
    with pytest.raises(Forbidden):
        transitions.resolve_dispute(e.business, e, 0, e.amount)
    transitions.deliver(e.freelancer, e, "done")
    with pytest.raises(Forbidden):
        transitions.approve(e.freelancer, e)
    transitions.approve(e.business, e)
    with pytest.raises(Conflict, match="already approved"):
        transitions.approve(e.business, e)
    assert db.session.scalar(select(func.count()).select_from(Transfer).where(Transfer.engagement_id == e.id)) == 1
    assert_ledger_ok()


def test_stale_object_loses_the_conditional_update():
    """A second tab whose copy still says 'delivered' passes the pre-check but loses the UPDATE."""
    from sqlalchemy.orm.attributes import set_committed_value
    e = factories.create_engagement()
    sandbox_fund(e)
    transitions.deliver(e.freelancer, e, "done")
    transitions.approve(e.business, e)
    before = ledger_counts()
    set_committed_value(e, "status", S.DELIVERED)  # what the stale tab believes
    with pytest.raises(Conflict, match="just changed"):
        transitions.approve(e.business, e)
    assert e.status == S.COMPLETED and ledger_counts() == before
    assert db.session.scalar(select(func.count()).select_from(Transfer).where(Transfer.engagement_id == e.id)) == 1


def test_request_changes_then_deliver_again():
    e = factories.create_engagement()
    sandbox_fund(e)
    transitions.deliver(e.freelancer, e, "first draft")
    transitions.request_changes(e.business, e, "Please add the weekend numbers.")
    assert e.status == S.ACTIVE and e.auto_approve_at is None
    assert "delivery_changes" in kinds(e.freelancer_id)
    transitions.deliver(e.freelancer, e, "with weekend numbers")
    assert e.status == S.DELIVERED
    assert_ledger_ok()


def test_cancel_before_funding_moves_nothing():
    e = factories.create_engagement()
    before = ledger_counts()
    transitions.cancel(e.freelancer, e, "Can't make those dates")
    assert e.status == S.CANCELLED and ledger_counts() == before
    assert "engagement_cancelled" in kinds(e.business_id)


def test_cancel_after_funding_refunds_in_full():
    e = factories.create_engagement(amount=10_001)
    sandbox_fund(e)
    with pytest.raises(Forbidden, match="open a dispute"):
        transitions.cancel(e.business, e, "changed my mind")
    refund = transitions.cancel(e.freelancer, e, "I'm ill")
    assert refund.amount == 10_001 and e.status == S.CANCELLED and ledger.held_for(e) == 0
    assert_ledger_ok()
    db.session.commit()
    assert executor.execute_refund(refund.id) == "succeeded"
    assert ledger.balance("refunds_payable", "USD", engagement_id=e.id) == 0
    assert_ledger_ok()


def test_payment_after_cancellation_is_refunded():
    e = factories.create_engagement()
    charge = transitions.begin_funding(e.business, e, "sandbox")
    transitions.cancel(e.business, e, "")
    assert transitions.confirm_funding(charge, payment_intent_id="sbx_pi_late").startswith("refunded")
    assert e.status == S.CANCELLED and ledger.held_for(e) == 0
    assert db.session.scalar(select(Refund.amount).where(Refund.engagement_id == e.id)) == e.amount
    assert_ledger_ok()


def test_declined_card_keeps_awaiting_funding_with_a_clear_message(client, login_as):
    e = factories.create_engagement()
    charge = transitions.begin_funding(e.business, e, "sandbox")
    login_as(e.business)
    page = client.post(f"/payments/sandbox/checkout/{charge.id}/decline", follow_redirects=True).get_data(as_text=True)
    assert "Your card was declined (test mode: simulated decline)." in page
    db.session.refresh(e)
    assert e.status == S.AWAITING_FUNDING and ledger_counts() == (0, 0)
    assert "funding_failed" in kinds(e.business_id)


@pytest.mark.parametrize("refund,release", [(0, 45_678), (45_678, 0), (20_000, 25_678), (1, 45_677)])
def test_resolve_dispute_splits_exactly(refund, release):
    e = factories.create_engagement(amount=45_678)
    operator = factories.create_operator()
    sandbox_fund(e)
    transitions.open_dispute(e.business, e, "Half the shifts were missed.")
    assert e.status == S.DISPUTED and "dispute" in kinds(e.freelancer_id)
    r, t = transitions.resolve_dispute(operator, e, refund, release)
    assert e.status == S.RESOLVED and ledger.held_for(e) == 0
    assert (r.amount if r else 0) == refund
    fee = ledger.balance(FEES, "USD", engagement_id=e.id)
    assert (t.amount if t else 0) - fee == release  # fee (a credit) + payout == released
    assert_ledger_ok()


@pytest.mark.parametrize("refund,release,message", [
    (45_678, 1, "add up to exactly"), (-1, 45_679, "zero or more"), (0, 0, "add up to exactly"),
    (10.5, 45_667, "zero or more")])
def test_resolve_dispute_refuses_bad_splits_without_ledger_entries(refund, release, message):
    e = factories.create_engagement(amount=45_678)
    operator = factories.create_operator()
    sandbox_fund(e)
    transitions.open_dispute(e.freelancer, e, "The business stopped answering.")
    before = ledger_counts()
    with pytest.raises(ValidationFailed, match=message):
        transitions.resolve_dispute(operator, e, refund, release)
    assert ledger_counts() == before and e.status == S.DISPUTED


def test_auto_approval_job_is_idempotent():
    e = factories.create_engagement()
    sandbox_fund(e)
    transitions.deliver(e.freelancer, e, "done")
    assert transitions.auto_approve_due() == 0  # not due yet
    assert transitions.auto_approve_due(utcnow() + timedelta(days=15)) == 1
    assert e.status == S.COMPLETED and e.events[-1].actor_id is None
    assert transitions.auto_approve_due(utcnow() + timedelta(days=15)) == 0
    assert_ledger_ok()


def test_jobs_run_due_sends_waiting_transfers(app):
    e = factories.create_engagement()
    sandbox_fund(e)
    transitions.deliver(e.freelancer, e, "done")
    transfer = transitions.approve(e.business, e)
    services.sandbox_connect(e.freelancer)  # ready, but nobody ran the transfer yet
    db.session.commit()
    assert executor.process_due() == 1
    db.session.refresh(transfer)
    assert transfer.status == "paid"
    assert executor.process_due() == 0


def test_reversal_needs_a_paid_transfer_and_positive_bounded_amount():
    e = factories.create_engagement()
    operator = factories.create_operator()
    sandbox_fund(e)
    with pytest.raises(Conflict):
        services.reverse_transfer(operator, e, 100)
    services.sandbox_connect(e.freelancer)
    transitions.deliver(e.freelancer, e, "done")
    transfer = transitions.approve(e.business, e)
    db.session.commit()
    executor.execute_transfer(transfer.id)
    with pytest.raises(ValidationFailed):
        services.reverse_transfer(operator, e, -5)
    with pytest.raises(ValidationFailed):
        services.reverse_transfer(operator, e, transfer.amount + 1)
    with pytest.raises(Forbidden):
        services.reverse_transfer(e.business, e, 100)
    reversal = services.reverse_transfer(operator, e, 1_000)
    db.session.commit()
    assert executor.execute_reversal(reversal.id) == "succeeded"
    db.session.refresh(transfer)
    assert transfer.amount_reversed == 1_000
    assert_ledger_ok()
