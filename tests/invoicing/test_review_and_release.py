"""After the close: review window, disputes of entries, release, reminders, ending and pausing."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from marketplace.contracts.models import ContractStatus
from marketplace.core.errors import Conflict, Forbidden, ValidationFailed
from marketplace.engagements import transitions
from marketplace.engagements.models import EngagementStatus as S
from marketplace.extensions import db
from marketplace.invoicing import services
from marketplace.invoicing.charging import remind_review_closing, settle_funded
from marketplace.invoicing.closing import close_due_weeks
from marketplace.invoicing.models import WeeklyInvoice
from marketplace.moderation.disputes import decide
from marketplace.notifications.models import Notification
from marketplace.payments import ledger, services as payments
from marketplace.payments.models import Transfer
from tests import factories
from tests.invoicing.conftest import AFTER_WINDOW, CLOSED, IN_WINDOW, WEEK, add_time, create_hourly_contract, day


def closed_invoice(**terms):
    contract = create_hourly_contract(created_at=WEEK, **terms)
    entries = [add_time(contract, day(0), 240, "Tier-1 chat"), add_time(contract, day(2), 180, "Email backlog")]
    close_due_weeks(CLOSED)
    invoice = db.session.scalar(select(WeeklyInvoice).where(WeeklyInvoice.contract_id == contract.id))
    return contract, invoice, entries


def pay_on_session(invoice, now=CLOSED):
    """The business pays the invoice itself (sandbox checkout), then the job puts it into review."""
    payable = invoice.engagement
    charge = transitions.begin_funding(payable.business, payable, "sandbox")
    assert payments.sandbox_pay(payable.business, charge) == "funded"
    settle_funded(now)
    db.session.refresh(payable)
    return payable


def notices(user, kind):
    return db.session.scalars(select(Notification).where(Notification.user_id == user.id,
                                                         Notification.kind == kind)).all()


def test_a_paid_invoice_is_released_after_the_window_minus_the_fee():
    contract, invoice, _ = closed_invoice(rate=3_000, fee_bps=1000)
    payable = pay_on_session(invoice)
    assert payable.status == S.DELIVERED and invoice.paid_at is not None
    assert transitions.auto_approve_due(IN_WINDOW) == 0          # still in review on Friday
    assert payable.status == S.DELIVERED
    assert transitions.auto_approve_due(AFTER_WINDOW) == 1
    db.session.refresh(payable)
    assert payable.status == S.COMPLETED
    transfer = db.session.scalar(select(Transfer).where(Transfer.engagement_id == payable.id))
    assert transfer.amount == 18_900                               # 7 h x $30 = $210, minus 10 %
    assert ledger.balance(ledger.FEES, "USD", engagement_id=payable.id) == -2_100
    assert ledger.check() == []
    assert contract.status == ContractStatus.ACTIVE                 # an hourly contract runs on


def test_the_business_disputes_one_entry_and_an_operator_splits_it():
    contract, invoice, entries = closed_invoice(rate=3_000)
    payable = pay_on_session(invoice)
    services.dispute_entries(contract.business, invoice, [entries[1].id], "Nobody answered those emails.",
                             now=IN_WINDOW)
    db.session.refresh(payable)
    assert payable.status == S.DISPUTED
    assert [line.time_entry_id for line in services.disputed_lines(payable.id)] == [entries[1].id]
    assert "Disputed entries" in payable.dispute_reason
    operator = factories.create_operator()
    decide(operator, payable, "90.00", "120.00", "The email hours were not worked.")
    db.session.refresh(payable)
    assert (payable.status, payable.resolution_refund, payable.resolution_release) == (S.RESOLVED, 9_000, 12_000)
    assert ledger.check() == []
    assert transitions.auto_approve_due(AFTER_WINDOW) == 0


@pytest.mark.parametrize("who, when, entry_ids, reason, error", [
    ("freelancer", IN_WINDOW, None, "x", Forbidden),
    ("business", AFTER_WINDOW, None, "Too late", Conflict),
    ("business", IN_WINDOW, [], "Nothing chosen", ValidationFailed),
    ("business", IN_WINDOW, [999_999], "Not on the invoice", ValidationFailed),
    ("business", IN_WINDOW, None, "   ", ValidationFailed),
])
def test_bad_disputes_change_nothing(who, when, entry_ids, reason, error):
    contract, invoice, entries = closed_invoice()
    payable = pay_on_session(invoice)
    actor = contract.business if who == "business" else contract.freelancer
    with pytest.raises(error):
        services.dispute_entries(actor, invoice, [entries[0].id] if entry_ids is None else entry_ids, reason,
                                 now=when)
    db.session.refresh(payable)
    assert payable.status == S.DELIVERED
    assert services.disputed_lines(payable.id) == []


def test_an_unpaid_invoice_cannot_be_disputed_yet():
    contract, invoice, entries = closed_invoice()
    with pytest.raises(Conflict):
        services.dispute_entries(contract.business, invoice, [entries[0].id], "Wrong", now=IN_WINDOW)


def test_the_business_is_reminded_once_before_the_window_closes():
    contract, invoice, _ = closed_invoice()
    pay_on_session(invoice)
    assert remind_review_closing(IN_WINDOW - timedelta(days=2)) == 0     # too early
    assert remind_review_closing(IN_WINDOW) == 1
    assert remind_review_closing(IN_WINDOW + timedelta(hours=1)) == 0
    assert len(notices(contract.business, "invoice_review_closing")) == 1


def test_an_invoice_paid_after_the_window_is_released_at_the_next_run():
    contract, invoice, _ = closed_invoice()
    late = AFTER_WINDOW + timedelta(days=2)
    payable = pay_on_session(invoice, now=late)
    assert payable.auto_approve_at is not None
    assert transitions.auto_approve_due(late) == 1


def test_ending_closes_the_current_week_early_and_the_contract_stays_ended():
    contract = create_hourly_contract(created_at=WEEK)
    add_time(contract, day(0), 120)
    add_time(contract, day(1), 60)
    now = day(2, 15)
    early = services.end_hourly_contract(contract.freelancer, contract, now=now)
    assert contract.status == ContractStatus.ENDED
    assert (early.billable_minutes, early.closed_early) == (180, True)
    assert close_due_weeks(CLOSED) == 0                          # nothing more to close
    payable = pay_on_session(early, now=now)
    assert transitions.auto_approve_due(AFTER_WINDOW) == 1       # the normal cycle, then reviews open
    db.session.refresh(payable)
    assert payable.status == S.COMPLETED
    db.session.refresh(contract)
    assert contract.status == ContractStatus.ENDED
    from marketplace.reviews.services import review_milestone
    assert review_milestone(contract).id == payable.id


def test_an_hourly_contract_does_not_end_when_its_invoices_settle():
    contract, invoice, _ = closed_invoice()
    pay_on_session(invoice)
    transitions.auto_approve_due(AFTER_WINDOW)
    db.session.refresh(contract)
    assert contract.status == ContractStatus.ACTIVE


def test_pause_and_resume_by_either_side():
    contract = create_hourly_contract(created_at=WEEK)
    services.pause_contract(contract.business, contract, now=day(1))
    assert contract.status == ContractStatus.PAUSED
    with pytest.raises(Conflict):
        services.pause_contract(contract.freelancer, contract, now=day(1))
    services.resume_contract(contract.freelancer, contract, now=day(2))
    assert contract.status == ContractStatus.ACTIVE
    stranger = factories.create_business()
    with pytest.raises(Exception):
        services.pause_contract(stranger, contract, now=day(2))


def test_a_bonus_is_released_as_soon_as_it_is_funded():
    contract = create_hourly_contract(created_at=WEEK)
    bonus, created = services.add_bonus(contract.business, contract, services.BonusData("Great weekend cover", 5_000))
    assert created
    charge = transitions.begin_funding(contract.business, bonus, "sandbox")
    payments.sandbox_pay(contract.business, charge)
    assert settle_funded(day(3)) == 1
    db.session.refresh(bonus)
    assert bonus.status == S.COMPLETED
    transfer = db.session.scalar(select(Transfer).where(Transfer.engagement_id == bonus.id))
    assert transfer.amount == 4_500
    assert ledger.check() == []


def _bonus_notes(contract):
    return db.session.scalars(select(Notification).where(Notification.user_id == contract.freelancer_id,
                                                         Notification.kind == "bonus_added")).all()


def test_the_same_bonus_form_sent_twice_adds_one_bonus():
    contract = create_hourly_contract(created_at=WEEK)
    first, created = services.add_bonus(contract.business, contract,
                                        services.BonusData("Great weekend cover", 5_000, key="k-1"))
    again, created_again = services.add_bonus(contract.business, contract,
                                              services.BonusData("Great weekend cover", 5_000, key="k-1"))
    assert created and not created_again and again.id == first.id
    assert [b.id for b in services.bonuses_of(contract)] == [first.id]
    assert len(_bonus_notes(contract)) == 1                          # the specialist is told once
    # A different form (a new key) is a new bonus; so is the same key on another contract.
    second, created = services.add_bonus(contract.business, contract,
                                         services.BonusData("Great weekend cover", 5_000, key="k-2"))
    assert created and second.id != first.id
    assert len(services.bonuses_of(contract)) == 2
    other = create_hourly_contract(created_at=WEEK)
    elsewhere, created = services.add_bonus(other.business, other, services.BonusData("Thanks", 1_000, key="k-1"))
    assert created and elsewhere.contract_id == other.id


def test_bonuses_without_a_key_are_never_merged():
    contract = create_hourly_contract(created_at=WEEK)
    for _ in range(2):
        services.add_bonus(contract.business, contract, services.BonusData("Thanks", 1_000))
    assert len(services.bonuses_of(contract)) == 2


def test_a_key_taken_by_a_parallel_submit_returns_that_bonus(monkeypatch):
    """The race the contract lock prevents on PostgreSQL: the first look finds nothing, the insert hits the
    unique (contract, key), and the bonus the other submit added is returned instead of an error."""
    contract = create_hourly_contract(created_at=WEEK)
    first, _ = services.add_bonus(contract.business, contract, services.BonusData("Thanks", 1_000, key="k-race"))
    real, looks = services.bonus_with_key, []

    def first_look_misses(contract_id, key):
        looks.append(key)
        return None if len(looks) == 1 else real(contract_id, key)
    monkeypatch.setattr(services, "bonus_with_key", first_look_misses)
    again, created = services.add_bonus(contract.business, contract, services.BonusData("Thanks", 1_000, key="k-race"))
    assert (again.id, created, len(looks)) == (first.id, False, 2)
    assert len(services.bonuses_of(contract)) == 1 and len(_bonus_notes(contract)) == 1


@pytest.mark.parametrize("title, amount", [("", 5_000), ("Thanks", 0), ("Thanks", -5), ("x" * 200, 100)])
def test_bad_bonuses_are_refused(title, amount):
    contract = create_hourly_contract(created_at=WEEK)
    with pytest.raises(ValidationFailed):
        services.add_bonus(contract.business, contract, services.BonusData(title, amount))
    assert services.bonuses_of(contract) == []


def test_only_the_business_pays_a_bonus():
    contract = create_hourly_contract(created_at=WEEK)
    with pytest.raises(Forbidden):
        services.add_bonus(contract.freelancer, contract, services.BonusData("Self-bonus", 5_000))


def test_over_limit_hours_are_offered_as_a_bonus():
    contract = create_hourly_contract(created_at=WEEK, rate=2_000, limit_minutes=60)
    add_time(contract, day(0), 90)
    close_due_weeks(CLOSED)
    invoice = db.session.scalar(select(WeeklyInvoice).where(WeeklyInvoice.contract_id == contract.id))
    offer = services.over_limit_bonus(invoice)
    assert offer.amount == 1_000 and "0:30 h over the limit" in offer.title


def test_an_invoice_is_disputed_only_through_its_entries():
    contract, invoice, _ = closed_invoice()
    payable = pay_on_session(invoice)
    with pytest.raises(Conflict, match="invoice page"):
        transitions.open_dispute(contract.business, payable, "The whole week is wrong.")
    db.session.refresh(payable)
    assert payable.status == S.DELIVERED
