"""The business's billing page: every payable of its contracts (invoices, bonuses, milestones), what
each stands at, and the page where a payable whose off-session charge failed is paid on-session.

Reading only; every function takes the acting business and shows it nothing of anyone else's.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from marketplace.accounts.models import User
from marketplace.contracts.models import Contract
from marketplace.core.errors import Forbidden, NotFound
from marketplace.engagements.models import Engagement, EngagementStatus as S
from marketplace.extensions import db
from marketplace.payments.models import Charge

STATUS_LABELS = {
    S.AWAITING_FUNDING: "Awaiting payment",
    S.ACTIVE: "Paid, held by the platform",
    S.DELIVERED: "Paid, delivered for review",
    S.COMPLETED: "Paid, released to the specialist",
    S.CANCELLED: "Cancelled",
    S.DISPUTED: "Paid, in dispute",
    S.RESOLVED: "Dispute resolved",
}
PAYMENT_FAILED = "Payment failed"


@dataclass(frozen=True)
class BillingRow:
    payable: Engagement
    contract: Contract
    kind: str                  # milestone | invoice | bonus
    title: str
    due_on: date | None
    amount: int
    currency: str
    status: str                # what the business reads
    payment_failed: bool       # the last off-session charge failed: "pay now"
    failure_message: str       # why (the business's own card; never shown to the specialist)
    has_receipt: bool
    paid_at: datetime | None


def _require_business(actor: User) -> None:
    if not actor.is_business:
        raise Forbidden("The billing page is for businesses; specialists see their earnings.")


PER_PAGE = 50


def _payables_of(actor: User):
    return (select(Engagement).join(Contract, Contract.id == Engagement.contract_id)
            .where(Contract.business_id == actor.id, Engagement.business_id == actor.id)
            .order_by(Engagement.created_at.desc(), Engagement.id.desc())
            .options(selectinload(Engagement.contract).selectinload(Contract.task),
                     selectinload(Engagement.contract).selectinload(Contract.freelancer)))


def billing_rows(actor: User) -> list[BillingRow]:
    """All payables of the business's contracts, newest first (the CSV)."""
    _require_business(actor)
    return _rows(list(db.session.scalars(_payables_of(actor))))


def billing_page(actor: User, page: int = 1):
    """One page of the billing list: a pagination whose `items` are BillingRows."""
    _require_business(actor)
    pagination = db.paginate(_payables_of(actor), page=page, per_page=PER_PAGE, error_out=False)
    pagination.items = _rows(list(pagination.items))
    return pagination


def _rows(payables: list[Engagement]) -> list[BillingRow]:
    ids = [p.id for p in payables]
    receipts = set(db.session.scalars(select(Charge.engagement_id).where(
        Charge.engagement_id.in_(ids), Charge.status == "succeeded"))) if ids else set()
    failures = _last_failures(ids)
    rows = []
    for p in payables:
        failed = p.payment_failed_at is not None and p.status == S.AWAITING_FUNDING
        rows.append(BillingRow(p, p.contract, p.payable_kind.value, p.title, p.due_on, p.amount, p.currency,
                               PAYMENT_FAILED if failed else STATUS_LABELS[p.status], failed,
                               failures.get(p.id, "") if failed else "", p.id in receipts, p.funded_at))
    return rows


def _last_failures(ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    found: dict[int, str] = {}
    for engagement_id, message in db.session.execute(
            select(Charge.engagement_id, Charge.failure_message)
            .where(Charge.engagement_id.in_(ids), Charge.off_session, Charge.status == "failed")
            .order_by(Charge.id)):
        found[engagement_id] = message  # the latest attempt wins
    return found


def payable_to_pay(actor: User, payable_id: int) -> BillingRow:
    """The payable for the on-session payment page: only its contract's business may open it."""
    _require_business(actor)
    payable = db.session.get(Engagement, payable_id)
    if payable is None or payable.business_id != actor.id or payable.contract.business_id != actor.id:
        raise NotFound("We couldn't find that payment.")
    return _rows([payable])[0]
