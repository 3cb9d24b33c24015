"""Hourly contracts and specialists in a given time zone, for the timesheet tests."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from marketplace.extensions import db
from tests import factories

UTC = timezone.utc
# A Thursday afternoon: the open week is Mon 23 Nov 00:00 - Sun 29 Nov 23:59 UTC.
NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)


def create_hourly_contract(business=None, freelancer=None, *, zone: str = "UTC", rate: int = 2550,
                           limit_minutes: int = 600, retainer: int = 0, status: str = "active",
                           manual_time_allowed: bool = True, fee_bps: int = 1000, kind: str = "hourly",
                           starts_on=None, created_at: datetime = datetime(2026, 11, 2, 9, tzinfo=UTC),
                           card: str | None = "succeeds", **fields):
    """An hourly contract between a business and a specialist whose profile is in `zone`; the business has
    saved a sandbox test card (`card` is its behaviour, None for no card), so the contract has started."""
    from marketplace.bidding.models import Bid, BidStatus
    from marketplace.contracts.models import Contract, ContractKind, ContractStatus
    from marketplace.profiles.models import FreelancerProfile

    business = business or factories.create_business()
    freelancer = freelancer or factories.create_freelancer()
    db.session.get(FreelancerProfile, freelancer.id).timezone = zone
    hourly = kind == "hourly"
    task = (factories.create_task(business, status="in_progress", pricing="hourly", budget=None, max_rate=rate,
                                  estimated_hours=10) if hourly
            else factories.create_task(business, status="in_progress"))
    bid = Bid(task_id=task.id, freelancer_id=freelancer.id, amount=rate if kind == "hourly" else 50_000,
              cover_note="I can help.", status=BidStatus.ACCEPTED)
    db.session.add(bid)
    db.session.flush()
    contract = Contract(task_id=task.id, bid_id=bid.id, business_id=business.id, freelancer_id=freelancer.id,
                        kind=ContractKind(kind), currency="USD", fee_bps=fee_bps, status=ContractStatus(status),
                        hourly_rate=rate if hourly else None, weekly_limit_minutes=limit_minutes if hourly else None,
                        weekly_retainer=retainer, manual_time_allowed=manual_time_allowed, starts_on=starts_on,
                        created_at=created_at,
                        ended_at=created_at if status == "ended" else None,
                        paused_at=created_at if status == "paused" else None, **fields)
    db.session.add(contract)
    db.session.flush()
    if card is not None and kind == "hourly":
        from marketplace.payments.saved_methods import save_sandbox_card
        save_sandbox_card(business, card)
    return contract


@pytest.fixture()
def hourly_contract():
    return create_hourly_contract
