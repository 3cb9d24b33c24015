"""A contract ends exactly once when its milestones settle at the same moment (PostgreSQL, threads, committed data)."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from marketplace.contracts import services
from marketplace.contracts.models import Contract, ContractStatus
from marketplace.engagements import transitions
from marketplace.engagements.models import Engagement, EngagementStatus
from marketplace.extensions import db
from marketplace.payments import ledger
from marketplace.payments.models import LedgerTransaction
from marketplace.tasks.models import Task, TaskStatus
from tests import factories
from tests.conftest import FreshContextClient
from tests.contracts.helpers import fund, hire

MILESTONES = 8


@pytest.mark.no_db_transaction
def test_milestones_approved_in_parallel_end_the_contract_once(app, committed_world):
    contract, first = hire(amount=80_000)
    for n in range(2, MILESTONES + 1):
        services.split_milestone(contract.business, first, services.MilestoneData(f"Part {n}", 10_000))
    milestones = list(db.session.scalars(select(Engagement).where(Engagement.contract_id == contract.id)))
    assert len(milestones) == MILESTONES
    for milestone in milestones:
        fund(milestone)
        transitions.deliver(contract.freelancer, milestone, "Done.")
    db.session.commit()
    contract_id, task_id, business = contract.id, contract.task_id, contract.business
    ids = [m.id for m in milestones]
    tabs = []
    for _ in ids:
        tab = FreshContextClient(app, app.response_class, use_cookies=True)
        assert tab.post("/login", data={"email": business.email, "password": factories.PASSWORD}).status_code == 302
        tabs.append(tab)

    barrier = threading.Barrier(len(ids))
    codes = [None] * len(ids)

    def approve(i: int) -> None:
        barrier.wait()
        codes[i] = tabs[i].post(f"/engagements/{ids[i]}/approve").status_code

    threads = [threading.Thread(target=approve, args=(i,)) for i in range(len(ids))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert codes == [302] * len(ids)

    db.session.expire_all()
    assert set(db.session.scalars(select(Engagement.status).where(Engagement.contract_id == contract_id))) == {
        EngagementStatus.COMPLETED}
    contract = db.session.get(Contract, contract_id)
    assert contract.status == ContractStatus.ENDED and contract.ended_at is not None
    task = db.session.get(Task, task_id)
    assert (task.status, task.filled_seats) == (TaskStatus.COMPLETED, 0)
    assert db.session.scalar(select(func.count()).select_from(LedgerTransaction)
                             .where(LedgerTransaction.kind == "release")) == MILESTONES
    assert ledger.check() == []
