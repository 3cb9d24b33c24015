"""Payments needing attention: operators see money exceptions, are emailed once, and retry from the console."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from marketplace.core.time import utcnow
from marketplace.engagements import transitions
from marketplace.extensions import db
from marketplace.moderation.models import AuditEntry
from marketplace.outbox.models import OutboxMessage
from marketplace.payments import attention, executor
from marketplace.payments.models import PayoutAccount, Refund, Transfer
from tests import factories
from tests.payments.conftest import post_event
from tests.payments.fake_stripe import open_dispute
from tests.payments.helpers import assert_ledger_ok, stripe_fund

CLOSED = "The destination account is closed (fake)."


def _mails_to(user) -> list[OutboxMessage]:
    return db.session.scalars(select(OutboxMessage).where(OutboxMessage.to_address == user.email)
                              .order_by(OutboxMessage.id)).all()


def _refused_payout(client, login_as, fake):
    e = factories.create_engagement(amount=40_000)
    fake.add_account("acct_test_att")
    db.session.add(PayoutAccount(user_id=e.freelancer_id, provider="stripe", external_id="acct_test_att",
                                 status="ready", transfers_enabled=True))
    db.session.flush()
    stripe_fund(client, login_as, fake, e)
    transitions.deliver(e.freelancer, e, "done")
    transfer = transitions.approve(e.business, e)
    db.session.commit()
    fake.fail_next("/v1/transfers", 400, {"type": "invalid_request_error", "message": CLOSED})
    executor.execute_transfer(transfer.id)
    db.session.refresh(transfer)
    return e, transfer


def test_a_refused_payout_is_listed_with_stripes_message_and_operators_are_emailed_once(
        client, login_as, login_operator, fake_stripe):
    operator = factories.create_operator()
    e, transfer = _refused_payout(client, login_as, fake_stripe)
    assert transfer.status == "refused"
    [mail] = [m for m in _mails_to(operator) if "needing attention" in m.subject]
    assert CLOSED in mail.body and "/moderation/payments" in mail.body
    assert attention.alert_operators() == 0       # already told: the job doesn't repeat it
    client.post("/logout")
    login_operator(operator)
    page = client.get("/moderation/payments").get_data(as_text=True)
    assert f'data-testid="attention-payout-{transfer.id}"' in page and CLOSED in page
    assert f'data-testid="retry-payout-{transfer.id}"' in page
    assert "Payments needing attention" in client.get("/moderation/").get_data(as_text=True)


def test_retry_from_the_console_pays_and_is_audited(client, login_as, login_operator, fake_stripe):
    operator = factories.create_operator()
    e, transfer = _refused_payout(client, login_as, fake_stripe)
    client.post("/logout")
    login_operator(operator)
    first_key = transfer.idempotency_key
    response = client.post(f"/moderation/payments/payout/{transfer.id}/retry", data={"retry-reason": "fixed"},
                           follow_redirects=True)
    assert response.status_code == 200 and "Retried" in response.get_data(as_text=True)
    db.session.refresh(transfer)
    assert transfer.status == "paid" and transfer.idempotency_key != first_key
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "retry_payment"))
    assert entry.actor_id == operator.id and entry.target_type == "payout" and entry.target_id == transfer.id
    assert entry.subject_user_id == e.freelancer_id and CLOSED in entry.details and entry.reason == "fixed"
    assert f"attention-payout-{transfer.id}" not in client.get("/moderation/payments").get_data(as_text=True)
    # A second click finds nothing to retry: a clear message, nothing sent again.
    again = client.post(f"/moderation/payments/payout/{transfer.id}/retry", follow_redirects=True)
    assert "not waiting for a retry" in again.get_data(as_text=True)
    assert len(fake_stripe.calls("POST", "/v1/transfers")) == 2
    assert_ledger_ok()


def test_failed_refunds_late_movements_and_card_disputes_are_listed(client, login_as, login_operator, fake_stripe):
    operator = factories.create_operator()
    # A refund Stripe failed.
    e1 = factories.create_engagement(amount=30_000)
    stripe_fund(client, login_as, fake_stripe, e1)
    client.post("/logout")
    login_as(e1.freelancer)
    client.post(f"/engagements/{e1.id}/cancel", data={"note": "ill"})
    refund = db.session.scalar(select(Refund).where(Refund.engagement_id == e1.id))
    post_event(client, fake_stripe.settle_refund(refund.external_id, "failed"))
    db.session.refresh(refund)
    assert refund.status == "failed"
    # A payout still pending a day and a half later (the job isn't running).
    e2 = factories.create_engagement(amount=20_000)
    db.session.add(PayoutAccount(user_id=e2.freelancer_id, provider="stripe", external_id="acct_test_late",
                                 status="ready", transfers_enabled=True))
    stripe_fund(client, login_as, fake_stripe, e2)
    transitions.deliver(e2.freelancer, e2, "done")
    late = transitions.approve(e2.business, e2)
    db.session.execute(update(Transfer).where(Transfer.id == late.id)
                       .values(updated_at=utcnow() - timedelta(hours=36)))
    # A card dispute.
    e3 = factories.create_engagement(amount=25_000)
    charge3 = stripe_fund(client, login_as, fake_stripe, e3)
    for event in open_dispute(fake_stripe, charge3.external_id):
        post_event(client, event)
    db.session.commit()
    items = {(item.kind, item.id): item for item in attention.collect()}
    assert ("refund", refund.id) in items and ("payout", late.id) in items
    assert items[("payout", late.id)].late and not items[("payout", late.id)].retryable
    [dispute_item] = [i for i in items.values() if i.kind == "card_dispute"]
    assert dispute_item.engagement_id == e3.id
    attention.alert_operators()
    subjects = [m.subject for m in _mails_to(operator) if "needing attention" in m.subject]
    assert sorted(subjects) == sorted(["Payment needing attention: refund to a business",
                                       "Payment needing attention: payout to a specialist",
                                       "Payment needing attention: card dispute"])
    assert attention.alert_operators() == 0
    client.post("/logout")
    login_operator(operator)
    page = client.get("/moderation/payments").get_data(as_text=True)
    for testid in (f"attention-refund-{refund.id}", f"attention-payout-{late.id}",
                   f"attention-card_dispute-{dispute_item.id}"):
        assert testid in page
    assert "in flight too long" in page and "Stripe Dashboard" in page


def test_only_operators_see_the_list(client, login_as):
    business = factories.create_business()
    login_as(business)
    assert client.get("/moderation/payments").status_code == 403
    assert client.post("/moderation/payments/payout/1/retry").status_code in (400, 403)
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0
