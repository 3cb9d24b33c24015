"""The weekly close: one invoice per hourly contract per finished billing week.

Rules (the amounts come from timesheets.week_summary, so the page and the invoice agree):
- a billing week runs Monday 00:00 to Sunday 23:59 UTC and closes at the next Monday 00:00;
  ending a contract closes its current week early;
- the invoice bills the week's billable minutes (the first `limit` minutes logged, in order)
  x the hourly rate / 60, rounded half up to the minor unit ONCE per week, plus the weekly
  retainer when it is due, as one payable (the retainer is a line of the same invoice);
- minutes over the limit are not billed (the business may pay them as a bonus);
- the invoice records its period, limit, minutes, rate, retainer and one line per time entry,
  and the entries it covers can no longer change;
- a week with nothing to bill gets a row with amount 0 and no payable.

Race safety: the contract row is locked (SELECT ... FOR UPDATE) before the week is checked,
and UNIQUE (contract_id, week_start) backs it up, so two job runners on PostgreSQL, or a job
and a contract ending at the same moment, create exactly one invoice. Functions only flush.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from marketplace.contracts.models import Contract, ContractKind, ContractStatus
from marketplace.contracts.services import _new_payable
from marketplace.core.errors import Conflict
from marketplace.core.money import format_money
from marketplace.core.time import as_utc
from marketplace.engagements.models import PayableKind
from marketplace.extensions import db
from marketplace.invoicing.models import InvoiceLine, WeeklyInvoice
from marketplace.notifications.services import notify
from marketplace.timesheets.models import TimeEntry
from marketplace.timesheets.services import contract_start, ensure_week, week_summary
from marketplace.timesheets.weeks import WEEK, format_minutes, week_start

# The business may dispute entries until Friday 23:59:59 UTC after the week, i.e. until Saturday 00:00.
REVIEW_AFTER_WEEK = timedelta(days=5)


def review_window_end(week: datetime) -> datetime:
    """The first instant after the review window of the week starting at `week`."""
    return week_start(week) + WEEK + REVIEW_AFTER_WEEK


def invoice_link(invoice: WeeklyInvoice) -> str:
    return f"/contracts/{invoice.contract_id}/invoices/{invoice.id}"


def invoice_of_week(contract_id: int, week: datetime) -> WeeklyInvoice | None:
    return db.session.scalar(select(WeeklyInvoice).where(WeeklyInvoice.contract_id == contract_id,
                                                         WeeklyInvoice.week_start == week))


def lock_contract(contract_id: int) -> Contract:
    contract = db.session.scalar(select(Contract).where(Contract.id == contract_id).with_for_update()
                                 .execution_options(populate_existing=True))
    if contract is None:
        raise Conflict("We couldn't find that contract.")
    return contract


def close_week(contract: Contract, week: datetime, *, now: datetime, early: bool = False) -> WeeklyInvoice | None:
    """Close one week of a contract whose row the caller has locked. Returns the new invoice row, or None
    if the week was already closed."""
    week = week_start(week)
    if invoice_of_week(contract.id, week) is not None:
        return None
    ensure_week(contract, week)     # the week's limit is fixed for good
    summary = week_summary(contract, week, now=now)
    currency = contract.currency
    period_end = now if early else week + WEEK
    try:
        with db.session.begin_nested():
            payable = None
            if summary.amount > 0:
                hours = format_minutes(summary.billable)
                title = f"Week of {week:%d %b %Y}: {hours} h"
                note = (f"Week of {week:%d %b %Y} closed{' early' if early else ''}: {hours} h x "
                        f"{format_money(summary.hourly_rate, currency)}/h = {format_money(summary.hours_amount, currency)}"
                        + (f" + retainer {format_money(summary.retainer, currency)}" if summary.retainer else ""))
                payable = _new_payable(None, contract, title, summary.amount, None, note, kind=PayableKind.INVOICE)
            invoice = WeeklyInvoice(
                contract_id=contract.id, engagement_id=payable.id if payable else None, week_start=week,
                period_end=period_end, limit_minutes=summary.limit_minutes, logged_minutes=summary.logged,
                billable_minutes=summary.billable, over_limit_minutes=summary.over_limit,
                hourly_rate=summary.hourly_rate, hours_amount=summary.hours_amount, retainer=summary.retainer,
                amount=summary.amount, currency=currency, closed_early=early, closed_at=now,
                review_ends_at=review_window_end(week))
            db.session.add(invoice)
            db.session.flush()
            memos = {e.id: e.memo for e in summary.entries}
            for part in summary.allocation.parts:
                db.session.add(InvoiceLine(invoice_id=invoice.id, time_entry_id=part.key, started_at=part.span.start,
                                           ended_at=part.span.end, minutes=part.minutes,
                                           billable_minutes=part.billable, memo=memos.get(part.key, "")))
            db.session.flush()
    except (IntegrityError, Conflict):
        return None   # another runner closed this week a moment earlier
    if invoice.amount:
        _tell_invoice_created(contract, invoice)
    return invoice


def _tell_invoice_created(contract: Contract, invoice: WeeklyInvoice) -> None:
    cur = contract.currency
    hours = format_minutes(invoice.billable_minutes)
    over = (f" {format_minutes(invoice.over_limit_minutes)} h over the weekly limit were not billed; you can "
            "pay them as a bonus." if invoice.over_limit_minutes else "")
    review_until = invoice.review_ends - timedelta(minutes=1)
    notify(contract.business_id, "invoice_created", f"Invoice for the week of {invoice.week:%d %b}: "
           f"{format_money(invoice.amount, cur)}",
           f"{hours} h of “{contract.task.title}” at {format_money(invoice.hourly_rate, cur)}/h"
           + (f" plus the {format_money(invoice.retainer, cur)} weekly retainer" if invoice.retainer else "")
           + f". It is charged to your saved card; you can dispute entries until {review_until:%a %d %b %H:%M} UTC."
           + over, invoice_link(invoice))
    notify(contract.freelancer_id, "invoice_created", f"Week of {invoice.week:%d %b} invoiced: {hours} h",
           f"{format_money(invoice.amount, cur)} is being charged to the business. It is released to you after "
           f"the review window ({review_until:%a %d %b %H:%M} UTC) unless they dispute entries.", invoice_link(invoice))


def _last_week_to_close(contract: Contract, now: datetime) -> datetime:
    """The last week due for closing: the last finished one, or for an ended contract the week it ended in."""
    last_finished = week_start(now) - WEEK
    if contract.status == ContractStatus.ENDED and contract.ended_at is not None:
        return min(week_start(as_utc(contract.ended_at)), week_start(now))
    return last_finished


def close_due_weeks(now: datetime | None = None) -> int:
    """Scheduled job: close every finished, not yet closed week of every hourly contract. Idempotent."""
    from marketplace.core.time import app_now
    now = now or app_now()
    latest = dict(db.session.execute(select(WeeklyInvoice.contract_id, func.max(WeeklyInvoice.week_start))
                                     .group_by(WeeklyInvoice.contract_id)).all())
    created = 0
    for contract in db.session.scalars(select(Contract).where(Contract.kind == ContractKind.HOURLY)
                                       .order_by(Contract.id)).all():
        last = _last_week_to_close(contract, now)
        done = as_utc(latest.get(contract.id))
        first = done + WEEK if done is not None else week_start(contract_start(contract))
        if first > last:
            continue
        contract = lock_contract(contract.id)
        last = _last_week_to_close(contract, now)
        week = first
        while week <= last:
            if close_week(contract, week, now=now, early=week + WEEK > now) is not None:
                created += 1
            week += WEEK
    return created


def is_invoiced(entry: TimeEntry) -> bool:
    """Whether a time entry is on a closed week's invoice (it can then no longer be changed)."""
    return db.session.scalar(select(func.count()).select_from(InvoiceLine)
                             .where(InvoiceLine.time_entry_id == entry.id)) > 0
