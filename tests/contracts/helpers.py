"""Shared helpers for the contract tests: a real hire, milestones, and the money moves through the sandbox."""
from __future__ import annotations

from datetime import date

from marketplace.contracts import services
from marketplace.contracts.models import Contract
from marketplace.engagements.hiring import accept_bid
from marketplace.extensions import db
from marketplace.payments import services as payments
from marketplace.engagements import transitions
from tests import factories
from tests.tasks.helpers import add_bid


def hire(business=None, freelancer=None, *, amount: int = 60_000, seats: int = 1, task=None, **task_fields):
    """A fixed-price hire through the real hiring service: the contract and its milestone 1."""
    business = business or factories.create_business()
    freelancer = freelancer or factories.create_freelancer()
    task = task or factories.create_task(business, seats=seats, budget=max(amount, 60_000), **task_fields)
    first = accept_bid(business, add_bid(task, freelancer, amount=amount))
    return first.contract, first


def milestone(contract: Contract, title: str, amount: int, due_on: date | None = None):
    return services.add_milestone(contract.business, contract, services.MilestoneData(title, amount, due_on))


def fund(milestone):
    charge = transitions.begin_funding(milestone.business, milestone, "sandbox")
    assert payments.sandbox_pay(milestone.business, charge) == "funded"
    return charge


def approve(milestone):
    fund(milestone)
    transitions.deliver(milestone.freelancer, milestone, "Done: every ticket answered.")
    return transitions.approve(milestone.business, milestone)


def refund(milestone):
    """Funded, then the specialist steps back: a full refund to the business."""
    fund(milestone)
    return transitions.cancel(milestone.freelancer, milestone, "Can't take this part on after all.")


def fresh(model, id_):
    db.session.expire_all()
    return db.session.get(model, id_)
