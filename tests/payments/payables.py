"""A payable to charge off-session in tests: an invoice or a bonus under a real hourly hire."""
from __future__ import annotations

from sqlalchemy import func, select

from marketplace.core.money import split_fee
from marketplace.engagements.hiring import hire
from marketplace.engagements.models import Engagement, EngagementStatus, PayableKind
from marketplace.extensions import db
from tests import factories
from tests.tasks.helpers import add_bid


def hourly_hire(business=None, freelancer=None, *, rate: int = 2_550):
    """An hourly contract through the real hiring service (no payable until a week is invoiced)."""
    business = business or factories.create_business()
    freelancer = freelancer or factories.create_freelancer()
    task = factories.create_task(business, pricing="hourly", budget=None, max_rate=4_000, estimated_hours=10)
    return hire(business, add_bid(task, freelancer, amount=rate, estimated_hours=10))


def add_payable(contract, amount: int = 25_500, *, kind: PayableKind = PayableKind.INVOICE,
                title: str = "Week of 23 Nov 2026: 10 h") -> Engagement:
    """A payable awaiting funding, as the weekly close (invoice) or a bonus would create it."""
    position = 1 + (db.session.scalar(select(func.max(Engagement.position))
                                      .where(Engagement.contract_id == contract.id)) or 0)
    fee, payout = split_fee(amount, contract.fee_bps)
    payable = Engagement(contract_id=contract.id, task_id=contract.task_id, business_id=contract.business_id,
                         freelancer_id=contract.freelancer_id, payable_kind=kind, title=title, position=position,
                         amount=amount, currency=contract.currency, fee_bps=contract.fee_bps, fee_amount=fee,
                         payout_amount=payout, status=EngagementStatus.AWAITING_FUNDING)
    db.session.add(payable)
    db.session.flush()
    return payable


def invoice(business=None, freelancer=None, amount: int = 25_500, **kw) -> Engagement:
    return add_payable(hourly_hire(business, freelancer), amount, **kw)
