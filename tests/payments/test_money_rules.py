"""Money rules that one-line slips used to break unnoticed: one test per rule, each seen failing under the slip."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from marketplace.bidding.models import Bid, BidStatus
from marketplace.core.time import utcnow
from marketplace.core.errors import Conflict, ValidationFailed
from marketplace.engagements import transitions
from marketplace.engagements.hiring import accept_bid
from marketplace.extensions import db
from marketplace.payments import executor, ledger, services
from marketplace.payments.ledger import CASH, HELD, Line
from marketplace.payments.models import PayoutAccount, Transfer, TransferReversal
from tests import factories
from tests.payments.conftest import post_event
from tests.payments.helpers import ledger_counts, sandbox_fund


def _approved(e):
    sandbox_fund(e)
    transitions.deliver(e.freelancer, e, "done")
    return transitions.approve(e.business, e)


def test_approving_for_a_pending_payout_account_waits_with_no_destination():
    e = factories.create_engagement()
    db.session.add(PayoutAccount(user_id=e.freelancer_id, provider="stripe", external_id="acct_test_pending",
                                 status="pending"))
    db.session.flush()
    transfer = _approved(e)
    assert (transfer.status, transfer.destination) == ("awaiting_account", None)
    db.session.commit()
    assert executor.process_due() == 0  # nothing is sent to an account that can't receive it


def test_a_second_reversal_is_refused_while_a_full_one_is_pending():
    e = factories.create_engagement()
    services.sandbox_connect(e.freelancer)
    transfer = _approved(e)
    db.session.commit()
    assert executor.execute_transfer(transfer.id) == "paid"
    operator = factories.create_operator()
    services.reverse_transfer(operator, e, transfer.amount, "lost card dispute")  # pending, not sent yet
    with pytest.raises(ValidationFailed, match="At most 0"):
        services.reverse_transfer(operator, e, 1)
    assert len(db.session.scalars(select(TransferReversal)).all()) == 1


def test_a_signed_transfer_created_with_another_amount_is_ignored(client, webhook_secret):
    e = factories.create_engagement()
    transfer = _approved(e)  # awaiting the specialist's account: not sent
    db.session.commit()
    before = ledger_counts()
    event = {"id": "evt_tr_amount", "type": "transfer.created", "data": {"object": {
        "id": "tr_test_forged", "object": "transfer", "amount": transfer.amount + 1, "currency": "usd",
        "metadata": {"engagement_id": str(e.id), "transfer_id": str(transfer.id)}}}}
    assert post_event(client, event).json["outcome"] == "ignored: unknown transfer"
    db.session.refresh(transfer)
    assert (transfer.status, transfer.external_id) == ("awaiting_account", None)
    assert ledger_counts() == before


def test_accepting_a_bid_withdrawn_since_it_was_loaded_is_a_conflict():
    business = factories.create_business()
    task = factories.create_task(business)
    bids = [Bid(task_id=task.id, freelancer_id=factories.create_freelancer().id, amount=40_000,
                cover_note="I can help.", status=BidStatus.PENDING) for _ in range(2)]
    db.session.add_all(bids)
    db.session.flush()
    for bid, status in zip(bids, (BidStatus.WITHDRAWN, BidStatus.DECLINED)):
        # Another request changed the bid after this one loaded it (the loaded object still says pending).
        db.session.execute(update(Bid).where(Bid.id == bid.id).values(status=status)
                           .execution_options(synchronize_session=False))
        assert bid.status == BidStatus.PENDING
        with pytest.raises(Conflict):
            with db.session.begin_nested():
                accept_bid(business, bid)
        db.session.expire(bid)
        assert bid.status == status


def test_ledger_post_refuses_lines_that_do_not_sum_to_zero():
    before = ledger_counts()
    with pytest.raises(ValidationFailed):
        ledger.post("test:unbalanced", "funding", [Line(CASH, 100), Line(HELD, -99)], currency="USD")
    assert ledger_counts() == before


def test_a_payment_row_at_the_attempt_limit_is_never_sent_again():
    e = factories.create_engagement()
    services.sandbox_connect(e.freelancer)
    transfer = _approved(e)
    for status in ("pending", "retrying", "submitting"):
        transfer.status, transfer.attempts = status, executor.MAX_ATTEMPTS
        transfer.next_attempt_at = utcnow() - timedelta(minutes=5)  # its backoff is over
        db.session.commit()
        if status == "submitting":  # even a claim abandoned long ago
            db.session.execute(update(Transfer).where(Transfer.id == transfer.id)
                               .values(updated_at=transfer.created_at.replace(year=2000)))
            db.session.commit()
        assert executor.process_due() == 0
        assert executor.execute_transfer(transfer.id) == "not due"
        db.session.refresh(transfer)
        assert transfer.status == status and transfer.external_id is None
