"""A contract ends when its payables are settled, and its task follows its contracts.

Called by the engagement state machine (engagements/transitions.py) in the transaction
that moves a payable to completed, cancelled or resolved. Race safety: the contract row
is locked before its payables are counted, so two payables settling at the same moment
(an approval and an auto-approval, a cancellation and a resolution) queue up on the lock
and the second one sees the first, and exactly one of them ends the contract. The end
itself is a conditional UPDATE (status <> 'ended'), like every other transition.
"""
from __future__ import annotations

from sqlalchemy import func, select, update

from marketplace.contracts.models import Contract, ContractStatus
from marketplace.core.time import utcnow
from marketplace.extensions import db
from marketplace.tasks.models import Task, TaskStatus

SETTLED = ("completed", "cancelled", "resolved")


def running_contracts(task_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Contract)
                             .where(Contract.task_id == task_id, Contract.status != ContractStatus.ENDED))


def ended_contracts(task_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Contract)
                             .where(Contract.task_id == task_id, Contract.status == ContractStatus.ENDED))


def closing_status(task_id: int) -> TaskStatus:
    """The one rule for how a task with no running contract closes: completed when some work was
    paid for (a payable completed, or a dispute resolved), cancelled when every hire was called off."""
    from marketplace.engagements.models import Engagement
    worked = db.session.scalar(select(func.count()).select_from(Engagement)
                               .where(Engagement.task_id == task_id,
                                      Engagement.status.in_(("completed", "resolved"))))
    return TaskStatus.COMPLETED if worked else TaskStatus.CANCELLED


def ends_when_payables_settle(contract: Contract) -> bool:
    """Whether settling the last payable ends the contract: a fixed one is done when its milestones are;
    an hourly one runs until a side ends it (its invoices and bonuses settle along the way)."""
    return contract.is_fixed


def unsettled_payables(contract_id: int) -> int:
    from marketplace.engagements.models import Engagement
    return db.session.scalar(select(func.count()).select_from(Engagement)
                             .where(Engagement.contract_id == contract_id, Engagement.status.not_in(SETTLED)))


def payable_settled(contract_id: int) -> bool:
    """A payable of the contract reached a final state: end the contract if nothing is left to pay.
    Returns whether this call ended it."""
    db.session.execute(select(Contract.id).where(Contract.id == contract_id).with_for_update())
    contract = db.session.get(Contract, contract_id)
    db.session.refresh(contract)
    if contract.status == ContractStatus.ENDED or not ends_when_payables_settle(contract):
        return False
    if unsettled_payables(contract_id):
        return False
    return end_contract(contract)


def end_contract(contract: Contract) -> bool:
    """Mark the contract ended, free its seat on the task and let the task follow. Idempotent."""
    now = utcnow()
    ended = db.session.execute(update(Contract).where(Contract.id == contract.id,
                                                      Contract.status != ContractStatus.ENDED)
                               .values(status=ContractStatus.ENDED, ended_at=now, updated_at=now)
                               .execution_options(synchronize_session=False))
    if ended.rowcount != 1:
        return False
    db.session.refresh(contract)
    _task_follows(contract.task_id, now)
    return True


def _task_follows(task_id: int, now) -> None:
    """A task's seats count its contracts that haven't ended; a task that stopped hiring (in progress)
    closes once all its contracts have ended (see `closing_status`)."""
    db.session.execute(update(Task).where(Task.id == task_id, Task.filled_seats > 0)
                       .values(filled_seats=Task.filled_seats - 1, updated_at=now)
                       .execution_options(synchronize_session=False))
    if not running_contracts(task_id):
        db.session.execute(update(Task).where(Task.id == task_id, Task.status == TaskStatus.IN_PROGRESS)
                           .values(status=closing_status(task_id), closed_at=func.coalesce(Task.closed_at, now),
                                   updated_at=now)
                           .execution_options(synchronize_session=False))
    task = db.session.get(Task, task_id)
    if task is not None:
        db.session.refresh(task)
