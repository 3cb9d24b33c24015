"""Contracts: opening one at hiring, reading them, and fixed-price milestones.

A contract's money moves through its payables (`Engagement` rows), each with the
engagement state machine of marketplace/engagements/transitions.py. This module
adds and splits milestones; marketplace/contracts/lifecycle.py ends a contract
when its payables are settled. Functions only flush; the caller commits.
"""
from __future__ import annotations

from marketplace.bidding.models import Bid
from marketplace.contracts.models import MAX_WEEKLY_LIMIT_MINUTES, Contract, ContractKind, ContractStatus
from marketplace.extensions import db
from marketplace.tasks.models import Pricing, Task


def weekly_limit_for(estimated_hours: int | None) -> int:
    """The weekly limit (minutes) an hourly hire starts with: the proposal's estimated hours, capped at
    60 h a week (MAX_WEEKLY_LIMIT_MINUTES). The business can change it from the next week."""
    return max(1, min((estimated_hours or 0) * 60, MAX_WEEKLY_LIMIT_MINUTES))


def open_contract(task: Task, bid: Bid, fee_bps: int) -> Contract:
    """The contract a hire creates (hiring has already claimed the seat and the bid)."""
    hourly = task.pricing == Pricing.HOURLY
    hours = bid.estimated_hours if bid.estimated_hours is not None else task.estimated_hours
    contract = Contract(task_id=task.id, bid_id=bid.id, business_id=task.business_id,
                        freelancer_id=bid.freelancer_id, kind=ContractKind.HOURLY if hourly else ContractKind.FIXED,
                        currency=task.currency, fee_bps=fee_bps, status=ContractStatus.ACTIVE,
                        hourly_rate=bid.amount if hourly else None,
                        weekly_limit_minutes=weekly_limit_for(hours) if hourly else None)
    db.session.add(contract)
    db.session.flush()
    return contract
