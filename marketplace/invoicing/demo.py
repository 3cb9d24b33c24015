"""Demo data: an hourly coverage contract with several past weeks, through the real services.

Weeks (oldest first): paid and released; disputed (one entry) and split by the operator; the
charge failed, then the business paid on-session and it was released; last week's invoice paid
and in its review window; this week's time logged so far.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.extensions import db
from marketplace.timesheets.models import TimeEntry
from marketplace.timesheets.weeks import WEEK, week_start

# (day of week, hour UTC, minutes, memo) logged each past week; 20 h limit, a little over it one week.
WEEKLY_SHIFTS = [(0, 7, 240, "Morning chat queue: 31 conversations, 2 escalations to Tier 2"),
                 (1, 7, 240, "Chat queue and callbacks: router resets walked through by phone"),
                 (2, 7, 300, "Outage day: 48 chats, status updates posted every 30 minutes"),
                 (3, 7, 180, "Chat queue; wrote 3 new macros for billing questions"),
                 (4, 7, 240, "Chat queue and the weekly handover notes")]


def _log_week(contract, week: datetime, extra_minutes: int = 0) -> None:
    for day, hour, minutes, memo in WEEKLY_SHIFTS:
        start = week + timedelta(days=day, hours=hour)
        if day == 4:
            minutes += extra_minutes
        db.session.add(TimeEntry(contract_id=contract.id, started_at=start, ended_at=start + timedelta(minutes=minutes),
                                 week_start=week, minutes=minutes, memo=memo, channel="chat"))
    db.session.flush()


def _pay_on_session(business: User, invoice, paid_at: datetime) -> None:
    from marketplace.engagements import transitions
    from marketplace.invoicing.charging import settle_funded_payable
    from marketplace.payments import services as payments
    payable = invoice.engagement
    charge = transitions.begin_funding(business, payable, "sandbox")
    payments.sandbox_pay(business, charge)
    settle_funded_payable(payable, paid_at)


def demo_hourly_contract(business: User, specialist: User, operator: User | None, task_fields: dict) -> None:
    from marketplace.bidding.models import Bid
    from marketplace.engagements.hiring import hire
    from marketplace.engagements.transitions import auto_approve_due
    from marketplace.invoicing.charging import record_failed_charge
    from marketplace.invoicing.closing import close_week, lock_contract
    from marketplace.invoicing.services import dispute_entries
    from marketplace.moderation.disputes import decide
    from marketplace.core.time import utcnow
    from marketplace.tasks.models import Task

    now = utcnow()
    this_week = week_start(now)
    first_week = this_week - 4 * WEEK
    task = Task(business_id=business.id, **task_fields, start_date=(first_week - timedelta(days=2)).date(),
                end_date=(this_week + 8 * WEEK).date(), created_at=first_week - timedelta(days=5),
                updated_at=first_week - timedelta(days=5), published_at=first_week - timedelta(days=5))
    db.session.add(task)
    db.session.flush()
    bid = Bid(task_id=task.id, freelancer_id=specialist.id, amount=3_200, estimated_hours=20,
              cover_note="Native Spanish, eight years on chat queues; I can cover mornings CET.", status="pending")
    db.session.add(bid)
    db.session.flush()
    contract = hire(business, bid)
    contract.created_at = first_week - timedelta(days=2)
    from marketplace.payments.saved_methods import has_saved_method, save_sandbox_card
    if not has_saved_method(business.id):
        save_sandbox_card(business, "succeeds")     # the card the weekly invoices are charged to
    db.session.flush()
    invoices = []
    for n in range(4):
        week = first_week + n * WEEK
        _log_week(contract, week, extra_minutes=90 if n == 3 else 0)
        contract = lock_contract(contract.id)
        invoices.append(close_week(contract, week, now=week + WEEK + timedelta(hours=1)))
    paid, disputed, failed, in_review = invoices
    _pay_on_session(business, paid, paid.week + WEEK + timedelta(hours=1))
    _pay_on_session(business, disputed, disputed.week + WEEK + timedelta(hours=1))
    entry = disputed.lines[2]
    dispute_entries(business, disputed, [entry.time_entry_id],
                    "The outage day was 3 hours of waiting for the status page, not 5 hours of chats.",
                    now=disputed.week + WEEK + timedelta(days=2))
    if operator is not None:
        held = disputed.amount
        refund = 2 * 3_200   # two of the five hours
        decide(operator, disputed.engagement, f"{refund / 100:.2f}", f"{(held - refund) / 100:.2f}",
               "Two hours of the outage shift were idle time; the rest stands.")
    record_failed_charge(failed, failed.week + WEEK + timedelta(hours=1), "Your card was declined.")
    _pay_on_session(business, failed, failed.week + WEEK + timedelta(days=1))
    _pay_on_session(business, in_review, in_review.week + WEEK + timedelta(hours=1))
    auto_approve_due(now)        # releases the weeks whose review window has closed
    # This week so far: one shift logged (the grid is not empty on the demo).
    start = this_week + timedelta(hours=7)
    if start + timedelta(hours=3) <= now:
        db.session.add(TimeEntry(contract_id=contract.id, started_at=start, ended_at=start + timedelta(hours=3),
                                 week_start=this_week, minutes=180, memo="Monday chat queue", channel="chat"))
    db.session.flush()
