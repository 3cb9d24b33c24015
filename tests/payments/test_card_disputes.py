"""Card disputes (chargebacks) through fake Stripe: the engagement freezes, the outcome reaches the ledger."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from marketplace.core.errors import Conflict
from marketplace.core.time import utcnow
from marketplace.engagements import transitions
from marketplace.engagements.models import EngagementStatus as S
from marketplace.extensions import db
from marketplace.notifications.models import Notification
from marketplace.payments import executor, ledger
from marketplace.payments.cli import reconcile
from marketplace.payments.gateway import get_gateway
from marketplace.payments.models import CardDispute, PayoutAccount
from tests import factories
from tests.payments.conftest import post_event
from tests.payments.fake_stripe import DISPUTE_FEE, close_dispute, open_dispute
from tests.payments.helpers import assert_ledger_ok, stripe_fund


def _ready(fake, user, acct):
    fake.add_account(acct)
    db.session.add(PayoutAccount(user_id=user.id, provider="stripe", external_id=acct, status="ready",
                                 transfers_enabled=True))
    db.session.flush()


def _post_all(client, events):
    for event in events:
        response = post_event(client, event)
        assert response.status_code == 200, response.get_data(as_text=True)
    return response.json["outcome"]


def _delivered(client, login_as, fake, amount=40_000):
    e = factories.create_engagement(amount=amount)
    charge = stripe_fund(client, login_as, fake, e)
    transitions.deliver(e.freelancer, e, "done")
    db.session.commit()
    return e, charge


def test_a_card_dispute_freezes_release_auto_approval_refund_and_resolution(client, login_as, fake_stripe):
    operator = factories.create_operator()
    e, charge = _delivered(client, login_as, fake_stripe)
    assert _post_all(client, open_dispute(fake_stripe, charge.external_id)) == "card dispute needs_response"
    dispute = db.session.scalar(select(CardDispute))
    assert dispute.engagement_id == e.id
    # The business can't release it, and the auto-approval job passes it by.
    with pytest.raises(Conflict, match="card dispute"):
        transitions.approve(e.business, e)
    db.session.rollback()
    e.auto_approve_at = utcnow() - timedelta(days=1)
    db.session.commit()
    assert transitions.auto_approve_due() == 0
    db.session.refresh(e)
    assert e.status == S.DELIVERED and ledger.held_for(e) == e.amount
    # Through the page, the business gets the reason, not a release.
    login_as(e.business)
    page = client.post(f"/engagements/{e.id}/approve", follow_redirects=True).get_data(as_text=True)
    assert "card dispute" in page
    # Neither a platform dispute resolution nor a cancellation moves the frozen money.
    transitions.open_dispute(e.freelancer, e, "They won't answer")
    with pytest.raises(Conflict, match="card dispute"):
        transitions.resolve_dispute(operator, e, e.amount, 0)
    db.session.rollback()
    # Operators were told, and the timeline says why nothing moves.
    assert db.session.scalar(select(Notification).where(Notification.user_id == operator.id,
                                                        Notification.kind == "payment_attention")) is not None
    assert any("Card dispute opened" in ev.note for ev in e.events)
    # Withdrawn money waits in disputed_funds, not yet a loss.
    assert ledger.balance("disputed_funds", "USD") == e.amount + DISPUTE_FEE
    assert ledger.balance("dispute_losses", "USD") == 0
    assert_ledger_ok()
    assert reconcile(get_gateway()) == []


def test_a_won_dispute_unfreezes_and_books_the_fee_stripe_kept(client, login_as, fake_stripe):
    e, charge = _delivered(client, login_as, fake_stripe)
    _post_all(client, open_dispute(fake_stripe, charge.external_id))
    dispute = db.session.scalar(select(CardDispute))
    fees_before = ledger.balance("stripe_fees", "USD")
    assert _post_all(client, close_dispute(fake_stripe, dispute.external_id, "won")) == "card dispute won"
    assert ledger.balance("disputed_funds", "USD") == 0
    assert ledger.balance("stripe_fees", "USD") == fees_before + DISPUTE_FEE
    assert ledger.balance("dispute_losses", "USD") == 0
    transitions.approve(e.business, e)   # no longer frozen
    db.session.commit()
    assert e.status == S.COMPLETED
    assert_ledger_ok()
    assert reconcile(get_gateway()) == []


def test_a_won_dispute_whose_fee_is_returned_costs_nothing(client, login_as, fake_stripe):
    e, charge = _delivered(client, login_as, fake_stripe)
    _post_all(client, open_dispute(fake_stripe, charge.external_id))
    dispute = db.session.scalar(select(CardDispute))
    fees_before = ledger.balance("stripe_fees", "USD")
    _post_all(client, close_dispute(fake_stripe, dispute.external_id, "won", fee_returned=True))
    assert ledger.balance("disputed_funds", "USD") == 0 and ledger.balance("stripe_fees", "USD") == fees_before
    assert_ledger_ok()
    assert reconcile(get_gateway()) == []


def test_a_lost_dispute_on_held_money_cancels_the_engagement(client, login_as, fake_stripe):
    e, charge = _delivered(client, login_as, fake_stripe)
    _post_all(client, open_dispute(fake_stripe, charge.external_id))
    dispute = db.session.scalar(select(CardDispute))
    assert _post_all(client, close_dispute(fake_stripe, dispute.external_id, "lost")) == "card dispute lost"
    db.session.refresh(e)
    # The bank gave the business its money back: nothing is held, nobody else is paid.
    assert e.status == S.CANCELLED and ledger.held_for(e) == 0
    assert ledger.balance("disputed_funds", "USD") == 0
    # The amount and the fee went to dispute_losses; the held money covered the amount.
    assert ledger.balance("dispute_losses", "USD") == DISPUTE_FEE
    kinds = set(db.session.scalars(select(ledger.LedgerTransaction.kind)))
    assert {"card_dispute_funds", "card_dispute_fee", "card_dispute_lost", "card_dispute_settlement"} <= kinds
    assert_ledger_ok()
    assert reconcile(get_gateway()) == []


def test_a_lost_dispute_after_the_payout_is_a_loss_for_the_platform(client, login_as, fake_stripe):
    e = factories.create_engagement(amount=40_000)
    _ready(fake_stripe, e.freelancer, "acct_test_paid")
    charge = stripe_fund(client, login_as, fake_stripe, e)
    transitions.deliver(e.freelancer, e, "done")
    transfer = transitions.approve(e.business, e)
    db.session.commit()
    assert executor.execute_transfer(transfer.id) == "paid"
    events = open_dispute(fake_stripe, charge.external_id)
    dispute_id = events[0]["data"]["object"]["id"]
    # Out of order: the closing arrives before the creation and the withdrawal.
    late = close_dispute(fake_stripe, dispute_id, "lost")
    _post_all(client, late + events)
    db.session.refresh(e)
    assert e.status == S.COMPLETED
    assert ledger.balance("dispute_losses", "USD") == 40_000 + DISPUTE_FEE
    assert ledger.balance("disputed_funds", "USD") == 0
    assert db.session.scalar(select(CardDispute)).status == "lost"
    assert_ledger_ok()
    assert reconcile(get_gateway()) == []


def test_replayed_dispute_events_post_once(client, login_as, fake_stripe):
    e, charge = _delivered(client, login_as, fake_stripe)
    events = open_dispute(fake_stripe, charge.external_id)
    for event in events:
        event_copy = {**event, "id": event["id"] + "_again"}   # a new event id, the same dispute state
        _post_all(client, [event, event, event_copy])
    assert ledger.balance("disputed_funds", "USD") == e.amount + DISPUTE_FEE
    assert len(db.session.scalars(select(CardDispute)).all()) == 1


def test_a_card_dispute_on_a_refunded_duplicate_payment_does_not_freeze_the_engagement(client, login_as,
                                                                                     fake_stripe):
    from tests.payments.test_settlement import _paid_twice
    e = factories.create_engagement(amount=30_000)
    duplicate, real = _paid_twice(client, login_as, fake_stripe, e)
    assert duplicate.external_id and duplicate.status == "duplicate"
    _post_all(client, open_dispute(fake_stripe, duplicate.external_id))
    dispute = db.session.scalar(select(CardDispute))
    assert dispute.engagement_id == e.id and dispute.status == "needs_response"
    # The engagement was paid by the other charge: the business can still approve it.
    transitions.deliver(e.freelancer, e, "done")
    transitions.approve(e.business, e)
    db.session.commit()
    assert e.status == S.COMPLETED
    assert not any("Card dispute opened" in ev.note for ev in e.events)
