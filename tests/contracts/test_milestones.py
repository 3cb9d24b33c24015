"""Fixed-price contracts and their milestones: hiring, totals, authorization, ending, the task following."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marketplace.contracts import services
from marketplace.contracts.models import Contract, ContractKind, ContractStatus
from marketplace.contracts.services import MilestoneData
from marketplace.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from marketplace.core.money import split_fee
from marketplace.core.time import utcnow
from marketplace.engagements import transitions
from marketplace.engagements.hiring import accept_bid
from marketplace.engagements.models import Engagement, EngagementStatus, PayableKind
from marketplace.extensions import db
from marketplace.payments import ledger
from marketplace.payments import services as payments
from marketplace.payments.models import Refund
from marketplace.tasks.models import Task, TaskStatus
from tests import factories
from tests.contracts.helpers import approve, fresh, fund, hire, milestone, refund
from tests.tasks.helpers import add_bid


def amounts(contract) -> list[int]:
    db.session.expire(contract, ["payables"])
    return [p.amount for p in contract.payables]


# --- hiring ----------------------------------------------------------------------------------------

def test_a_fixed_hire_is_a_contract_with_one_milestone_of_the_agreed_total():
    contract, first = hire(amount=45_000, title="Weekend inbox")
    assert (contract.kind, contract.status, contract.currency, contract.fee_bps) == (
        ContractKind.FIXED, ContractStatus.ACTIVE, "USD", 1000)
    assert (contract.hourly_rate, contract.weekly_limit_minutes) == (None, None)
    assert (first.payable_kind, first.position, first.title, first.amount, first.status) == (
        PayableKind.MILESTONE, 1, "Weekend inbox", 45_000, EngagementStatus.AWAITING_FUNDING)
    assert first.contract_id == contract.id and contract.bid_id == first.bid_id
    assert services.total_of(contract) == 45_000


@pytest.mark.parametrize("hours, limit", [(30, 30 * 60), (80, 60 * 60)])
def test_an_hourly_hire_is_an_hourly_contract_with_the_rate_and_a_capped_weekly_limit(business, hours, limit):
    task = factories.create_task(business, pricing="hourly", budget=None, max_rate=4_000, estimated_hours=hours)
    from marketplace.engagements.hiring import hire as hire_on
    contract = hire_on(business, add_bid(task, factories.create_freelancer(), amount=3_500, estimated_hours=hours))
    assert (contract.kind, contract.hourly_rate, contract.weekly_limit_minutes) == (ContractKind.HOURLY, 3_500, limit)
    assert (contract.weekly_retainer, contract.manual_time_allowed) == (0, True)
    assert contract.next_weekly_limit_minutes is None
    assert contract.payables == []   # nothing paid up front: each week is invoiced


def test_one_contract_per_bid_is_enforced_by_the_database(business):
    contract, _first = hire(business)
    from sqlalchemy.exc import IntegrityError
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add(Contract(task_id=contract.task_id, bid_id=contract.bid_id, business_id=contract.business_id,
                                freelancer_id=contract.freelancer_id, kind="fixed", currency="USD", fee_bps=1000))


# --- adding and splitting -------------------------------------------------------------------------------

def test_the_business_adds_a_milestone_which_raises_the_total_and_tells_the_specialist():
    contract, _first = hire(amount=60_000)
    due = utcnow().date() + timedelta(days=14)
    second = milestone(contract, "  Macros\nreview ", 15_000, due)
    assert (second.position, second.title, second.due_on, second.amount) == (2, "Macros review", due, 15_000)
    assert (second.fee_amount, second.payout_amount) == split_fee(15_000, contract.fee_bps)
    assert (second.business_id, second.freelancer_id, second.task_id) == (
        contract.business_id, contract.freelancer_id, contract.task_id)
    assert second.events[0].to_status == "awaiting_funding"
    assert services.total_of(contract) == 75_000 and services.unfunded_of(contract) == 75_000
    from marketplace.notifications.models import Notification
    assert db.session.scalar(select(Notification.link).where(Notification.user_id == contract.freelancer_id,
                                                             Notification.kind == "milestone_added")) == \
        f"/contracts/{contract.id}"


def test_splitting_an_unfunded_milestone_keeps_the_total_and_the_fee_split_exact():
    contract, first = hire(amount=60_001)
    second = services.split_milestone(contract.business, first, MilestoneData("Second half", 30_000))
    third = services.split_milestone(contract.business, first, MilestoneData("Third part", 10_000))
    assert amounts(contract) == [20_001, 30_000, 10_000]
    assert [p.position for p in contract.payables] == [1, 2, 3]
    assert services.total_of(contract) == 60_001
    for part in (first, second, third):
        db.session.refresh(part)
        assert part.fee_amount + part.payout_amount == part.amount
        assert (part.fee_amount, part.payout_amount) == split_fee(part.amount, 1000)
    assert "split off into milestone 3" in first.events[-1].note


@pytest.mark.parametrize("data, field", [
    (MilestoneData("", 1_000), "title"),
    (MilestoneData("x" * 121, 1_000), "title"),
    (MilestoneData("Ok", 0), "amount"),
    (MilestoneData("Ok", -5), "amount"),
    (MilestoneData("Ok", None), "amount"),
    (MilestoneData("Ok", 10_000_001), "amount"),
    (MilestoneData("Ok", 1_000, utcnow().date() - timedelta(days=1)), "due_on"),
])
def test_bad_milestones_are_refused_and_change_nothing(data, field):
    contract, _first = hire()
    with pytest.raises(ValidationFailed) as refused:
        services.add_milestone(contract.business, contract, data)
    assert refused.value.field == field
    assert amounts(contract) == [60_000]


def test_a_split_must_leave_something_and_only_an_unfunded_milestone_splits():
    contract, first = hire(amount=60_000)
    with pytest.raises(ValidationFailed):
        services.split_milestone(contract.business, first, MilestoneData("All of it", 60_000))
    fund(first)
    with pytest.raises(Conflict, match="isn't funded yet"):
        services.split_milestone(contract.business, first, MilestoneData("Part", 10_000))
    assert amounts(contract) == [60_000]


def test_only_the_contracts_business_changes_milestones_and_only_its_parties_see_it():
    contract, first = hire()
    stranger_business = factories.create_business()
    operator = factories.create_operator()
    with pytest.raises(Forbidden):
        services.add_milestone(contract.freelancer, contract, MilestoneData("Mine", 1_000))
    with pytest.raises(Forbidden):
        services.split_milestone(contract.freelancer, first, MilestoneData("Mine", 1_000))
    with pytest.raises(Forbidden):
        services.add_milestone(operator, contract, MilestoneData("Ops", 1_000))
    with pytest.raises(NotFound):
        services.add_milestone(stranger_business, contract, MilestoneData("Theirs", 1_000))
    with pytest.raises(NotFound):
        services.get_contract_for(stranger_business, contract.id)
    with pytest.raises(NotFound):
        services.get_contract_for(factories.create_freelancer(), contract.id)
    for viewer in (contract.business, contract.freelancer, operator):
        assert services.get_contract_for(viewer, contract.id).id == contract.id
    assert amounts(contract) == [60_000]


def test_a_suspended_business_cannot_add_milestones():
    contract, _first = hire()
    from marketplace.accounts.models import AccountStatus
    contract.business.status = AccountStatus.SUSPENDED
    with pytest.raises(Forbidden):
        services.add_milestone(contract.business, contract, MilestoneData("Late", 1_000))


def test_an_hourly_contract_has_no_milestones_to_add(business):
    task = factories.create_task(business, pricing="hourly", budget=None, max_rate=4_000, estimated_hours=10)
    from marketplace.engagements.hiring import hire as hire_on
    contract = hire_on(business, add_bid(task, factories.create_freelancer(), amount=3_000, estimated_hours=10))
    with pytest.raises(Conflict, match="fixed-price"):
        services.add_milestone(business, contract, MilestoneData("Extra", 1_000))


# --- each milestone's money, and the contract ending ---------------------------------------------------------

def test_two_milestones_one_approved_one_refunded_end_the_contract_and_complete_the_task():
    contract, first = hire(amount=60_000)
    second = services.split_milestone(contract.business, first, MilestoneData("Second half", 25_000))
    approve(first)
    contract = fresh(Contract, contract.id)
    assert contract.status == ContractStatus.ACTIVE          # milestone 2 is still unfunded
    assert fresh(Task, contract.task_id).status == TaskStatus.IN_PROGRESS

    refund(db.session.get(Engagement, second.id))
    contract = fresh(Contract, contract.id)
    assert contract.status == ContractStatus.ENDED and contract.ended_at is not None
    task = fresh(Task, contract.task_id)
    assert (task.status, task.filled_seats) == (TaskStatus.COMPLETED, 0) and task.closed_at is not None
    assert services.paid_out_of(contract) == 35_000
    assert [p.status for p in contract.payables] == [EngagementStatus.COMPLETED, EngagementStatus.CANCELLED]
    # Each milestone had its own charge and ledger transactions; the books balance per milestone.
    assert ledger.held_for(first) == 0 and ledger.held_for(second) == 0
    assert db.session.scalar(select(func.sum(Refund.amount)).where(Refund.engagement_id == second.id)) == 25_000
    assert ledger.check() == []


def test_a_contract_with_an_unfunded_milestone_left_does_not_end():
    contract, first = hire(amount=60_000)
    milestone(contract, "Follow-up week", 10_000)
    approve(first)
    assert fresh(Contract, contract.id).status == ContractStatus.ACTIVE
    # Cancelling what is left (nothing paid) ends it.
    rest = db.session.scalars(select(Engagement).where(Engagement.contract_id == contract.id,
                                                       Engagement.position == 2)).one()
    transitions.cancel(contract.business, rest, "Not needed after all.")
    assert fresh(Contract, contract.id).status == ContractStatus.ENDED


def test_a_milestone_can_be_added_after_some_are_done_but_not_once_the_contract_ended():
    contract, first = hire(amount=60_000)
    milestone(contract, "Second", 5_000)
    approve(first)
    third = milestone(contract, "Third", 7_000)
    assert third.position == 3 and services.total_of(fresh(Contract, contract.id)) == 72_000
    for m in db.session.scalars(select(Engagement).where(Engagement.contract_id == contract.id,
                                                         Engagement.status == EngagementStatus.AWAITING_FUNDING)):
        transitions.cancel(contract.business, m, "")
    contract = fresh(Contract, contract.id)
    assert contract.status == ContractStatus.ENDED
    with pytest.raises(Conflict, match="has ended"):
        milestone(contract, "Too late", 1_000)


def test_a_disputed_milestone_keeps_the_contract_running_until_an_operator_resolves_it():
    contract, first = hire(amount=40_000)
    fund(first)
    transitions.open_dispute(contract.business, first, "Half the shifts were missed.")
    assert fresh(Contract, contract.id).status == ContractStatus.ACTIVE
    transitions.resolve_dispute(factories.create_operator(), db.session.get(Engagement, first.id), 20_000, 20_000)
    assert fresh(Contract, contract.id).status == ContractStatus.ENDED
    assert fresh(Task, contract.task_id).status == TaskStatus.COMPLETED
    assert ledger.check() == []


def test_a_seat_frees_when_a_contract_ends_and_a_task_still_hiring_stays_open(business):
    task = factories.create_task(business, seats=2, budget=60_000)
    contract, first = hire(business, task=task, amount=30_000)
    assert fresh(Task, task.id).filled_seats == 1
    transitions.cancel(business, first, "Hired the wrong person.")
    task = fresh(Task, task.id)
    assert (task.status, task.filled_seats) == (TaskStatus.OPEN, 0)
    # Both seats can be filled again; then the task stops hiring.
    for _ in range(2):
        hire(business, task=fresh(Task, task.id), amount=30_000)
    task = fresh(Task, task.id)
    assert (task.status, task.filled_seats) == (TaskStatus.IN_PROGRESS, 2)


def test_a_task_completes_only_when_all_its_contracts_have_ended(business):
    task = factories.create_task(business, seats=2, budget=60_000)
    _c1, first = hire(business, task=task, amount=30_000)
    _c2, second = hire(business, task=fresh(Task, task.id), amount=30_000)
    approve(db.session.get(Engagement, first.id))
    assert fresh(Task, task.id).status == TaskStatus.IN_PROGRESS
    approve(db.session.get(Engagement, second.id))
    assert fresh(Task, task.id).status == TaskStatus.COMPLETED


def test_a_payment_for_a_milestones_earlier_amount_is_refunded_not_held():
    """A checkout started before the business split the milestone pays the old amount: it goes back."""
    contract, first = hire(amount=60_000)
    charge = transitions.begin_funding(contract.business, first, "sandbox")
    services.split_milestone(contract.business, first, MilestoneData("Later part", 20_000))
    db.session.refresh(first)
    assert payments.sandbox_pay(contract.business, charge) == "refunded: the amount changed since the checkout started"
    db.session.refresh(first)
    db.session.refresh(charge)
    assert charge.status == "late"   # paid and refunded; not the milestone's funding charge
    assert first.status == EngagementStatus.AWAITING_FUNDING and ledger.held_for(first) == 0
    assert db.session.scalar(select(Refund.amount).where(Refund.engagement_id == first.id)) == 60_000
    fund(first)   # the new amount funds normally
    assert ledger.held_for(first) == 40_000 and ledger.check() == []
