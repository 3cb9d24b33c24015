"""A simulated quarter of hourly billing: 13 weekly cycles over many contracts, through the real services
and jobs (sandbox gateway): time logged (some over the limit, across midnight and the week boundary),
weekly closes, off-session charges (some declined or needing authentication, then paid on-session, some
only after the grace pause), disputes split by an operator, bonuses, contracts ended early. Used by
tests/invoicing/test_quarter.py and bench/hourly_quarter.py."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from marketplace.contracts.models import Contract, ContractStatus
from marketplace.engagements import transitions
from marketplace.engagements.models import EngagementStatus as S
from marketplace.extensions import db
from marketplace.invoicing import services
from marketplace.payments.off_session import charge_off_session
from marketplace.invoicing.charging import (charge_due_invoices, pause_unpaid, remind_review_closing,
                                            settle_funded, settle_funded_payable)
from marketplace.invoicing.closing import close_due_weeks
from marketplace.invoicing.models import WeeklyInvoice
from marketplace.moderation.disputes import decide
from marketplace.payments import saved_methods, services as payments
from marketplace.payments.executor import process_due
from marketplace.timesheets.models import TimeEntry
from marketplace.timesheets.weeks import WEEK, week_start
from tests import factories
from tests.timesheets.conftest import create_hourly_contract

UTC = timezone.utc
START = datetime(2026, 3, 2, tzinfo=UTC)      # a quarter across Europe's and America's DST changes
ZONES = ["Europe/Madrid", "America/New_York", "Asia/Kolkata", "UTC"]


@dataclass
class QuarterStats:
    contracts: int = 0
    invoices: int = 0
    charged_off_session: int = 0
    failed_charges: int = 0
    paused: int = 0
    disputes: int = 0
    bonuses: int = 0
    ended: int = 0
    entries: int = 0
    weeks: int = 0
    notes: list[str] = field(default_factory=list)


def _entry(contract_id: int, start: datetime, minutes: int) -> None:
    db.session.add(TimeEntry(contract_id=contract_id, started_at=start, ended_at=start + timedelta(minutes=minutes),
                             week_start=week_start(start), minutes=minutes, memo="Chat queue shift", channel="chat"))


def _log_week(rng: random.Random, contract: Contract, week: datetime, stats: QuarterStats) -> None:
    """Up to one shift a day from 03:00 UTC (the Sunday one may run past Monday 00:00 into next week)."""
    for day in range(7):
        if rng.random() < 0.35:
            continue
        if day == 6 and rng.random() < 0.3:
            start = week + timedelta(days=6, hours=22)           # crosses midnight and the week boundary
            minutes = rng.randint(150, 240)                      # ends before 03:00 on Monday
        else:
            start = week + timedelta(days=day, hours=rng.randint(3, 12), minutes=rng.choice([0, 15, 30]))
            minutes = rng.randint(30, 9 * 60)
        _entry(contract.id, start, minutes)
        stats.entries += 1


def simulate_quarter(n_contracts: int = 60, weeks: int = 13, seed: int = 11) -> QuarterStats:
    rng = random.Random(seed)
    stats = QuarterStats(contracts=n_contracts, weeks=weeks)
    operator = factories.create_operator()
    contract_ids = []
    for n in range(n_contracts):
        contract = create_hourly_contract(zone=rng.choice(ZONES), rate=rng.randrange(1_500, 6_001, 25),
                                          limit_minutes=rng.choice([600, 1200, 1800, 2400]),
                                          retainer=rng.choice([0, 0, 0, 5_000]), created_at=START)
        card = rng.choices(["succeeds", "declined", "authentication_required"], [85, 10, 5])[0]
        saved_methods.save_sandbox_card(contract.business, card)
        if rng.random() < 0.8:
            payments.sandbox_connect(contract.freelancer)
        contract_ids.append(contract.id)
    db.session.commit()

    for w in range(weeks):
        week = START + w * WEEK
        for contract in db.session.scalars(select(Contract).where(Contract.id.in_(contract_ids),
                                                                  Contract.status == ContractStatus.ACTIVE)).all():
            _log_week(rng, contract, week, stats)
            if w == weeks - 3 and rng.random() < 0.1:            # some contracts end mid-week
                services.end_hourly_contract(contract.business, contract, now=week + timedelta(days=3, hours=20))
                stats.ended += 1
        db.session.commit()
        monday = week + WEEK + timedelta(hours=1)
        stats.invoices += close_due_weeks(monday)
        db.session.commit()
        stats.charged_off_session += charge_due_invoices(monday)
        settle_funded(monday)
        db.session.commit()
        # Tuesday: some businesses with a failed card save a good one and pay on-session.
        failed = db.session.scalars(select(WeeklyInvoice).join(WeeklyInvoice.engagement).where(
            WeeklyInvoice.payment_failed_at.is_not(None), WeeklyInvoice.engagement.has(status=S.AWAITING_FUNDING))).all()
        for invoice in failed:
            if rng.random() < 0.6:
                business = invoice.contract.business
                saved_methods.save_sandbox_card(business, "succeeds")
                charge = transitions.begin_funding(business, invoice.engagement, "sandbox")
                payments.sandbox_pay(business, charge)
        settle_funded(monday + timedelta(days=1))
        db.session.commit()
        # Wednesday: a few businesses dispute an entry of last week's invoice; Thursday an operator splits it.
        in_review = db.session.scalars(select(WeeklyInvoice).where(WeeklyInvoice.week_start == week)
                                       .join(WeeklyInvoice.engagement).where(
                                           WeeklyInvoice.engagement.has(status=S.DELIVERED))).all()
        for invoice in in_review:
            if rng.random() < 0.05 and invoice.lines:
                line = rng.choice(invoice.lines)
                payable = services.dispute_entries(invoice.contract.business, invoice, [line.time_entry_id],
                                                   "This shift was not worked as logged.",
                                                   now=monday + timedelta(days=2))
                refund = rng.randint(0, payable.amount)
                decide(operator, payable, f"{refund / 100:.2f}", f"{(payable.amount - refund) / 100:.2f}",
                       "Split after reading both sides.")
                stats.disputes += 1
        db.session.commit()
        # Any day: a bonus now and then, charged to the saved card (or paid on-session if that fails).
        for contract_id in rng.sample(contract_ids, k=max(1, n_contracts // 30)):
            contract = db.session.get(Contract, contract_id)
            bonus, _ = services.add_bonus(contract.business, contract,
                                          services.BonusData("Great week", rng.randrange(1_000, 20_000, 100)))
            db.session.commit()
            outcome = charge_off_session(bonus)
            db.session.refresh(bonus)
            if outcome.status != "succeeded":
                saved_methods.save_sandbox_card(contract.business, "succeeds")
                payments.sandbox_pay(contract.business, transitions.begin_funding(contract.business, bonus, "sandbox"))
            settle_funded_payable(bonus, monday + timedelta(days=2))
            stats.bonuses += 1
            db.session.commit()
        # Friday: reminders; Saturday 00:01: release what nobody disputed; the grace period pauses the rest.
        remind_review_closing(week + WEEK + timedelta(days=4, hours=12))
        saturday = week + WEEK + timedelta(days=5, minutes=1)
        transitions.auto_approve_due(saturday)
        stats.paused += pause_unpaid(saturday)
        db.session.commit()
        process_due()
        db.session.commit()
    # After the quarter: every business still owing pays on-session; the last invoices are released.
    end = START + (weeks + 2) * WEEK
    stats.invoices += close_due_weeks(end)
    charge_due_invoices(end)
    for invoice in db.session.scalars(select(WeeklyInvoice).where(WeeklyInvoice.engagement.has(
            status=S.AWAITING_FUNDING))).all():
        business = invoice.contract.business
        payments.sandbox_pay(business, transitions.begin_funding(business, invoice.engagement, "sandbox"))
    settle_funded(end)
    transitions.auto_approve_due(end + WEEK)
    db.session.commit()
    process_due()
    db.session.commit()
    stats.failed_charges = db.session.scalar(select(func.count()).select_from(WeeklyInvoice)
                                             .where(WeeklyInvoice.payment_failed_at.is_not(None)))
    return stats
