"""The weekly close: one invoice per contract-week, the right minutes and money, entries locked."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from marketplace.contracts.models import ContractStatus
from marketplace.core.errors import Conflict
from marketplace.engagements.models import EngagementStatus, PayableKind
from marketplace.extensions import db
from marketplace.invoicing.closing import close_due_weeks, review_window_end
from marketplace.invoicing.models import InvoiceLine, WeeklyInvoice
from marketplace.invoicing.audit import billing_problems
from marketplace.timesheets import services as timesheets
from tests.invoicing.conftest import CLOSED, UTC, WEEK, add_time, create_hourly_contract, day


def invoices(contract):
    return db.session.scalars(select(WeeklyInvoice).where(WeeklyInvoice.contract_id == contract.id)
                              .order_by(WeeklyInvoice.week_start)).all()


def the_invoice(contract, week=WEEK):
    return next(i for i in invoices(contract) if i.week == week)


def test_a_finished_week_becomes_one_invoice_for_the_billable_minutes():
    contract = create_hourly_contract(rate=2550, limit_minutes=600, created_at=WEEK)
    add_time(contract, day(0), 4 * 60)
    add_time(contract, day(2), 5 * 60)
    add_time(contract, day(4), 3 * 60)          # 12 h logged, 10 h limit
    assert close_due_weeks(CLOSED) == 1
    invoice = the_invoice(contract)
    assert (invoice.logged_minutes, invoice.billable_minutes, invoice.over_limit_minutes) == (720, 600, 120)
    assert invoice.hours_amount == invoice.amount == 25_500          # 10 h x $25.50
    payable = invoice.engagement
    assert payable.payable_kind == PayableKind.INVOICE
    assert payable.status == EngagementStatus.AWAITING_FUNDING
    assert (payable.amount, payable.fee_amount, payable.payout_amount) == (25_500, 2_550, 22_950)
    assert [(l.minutes, l.billable_minutes) for l in invoice.lines] == [(240, 240), (300, 300), (180, 60)]
    assert invoice.review_ends == datetime(2026, 12, 5, tzinfo=UTC)  # Friday 4 Dec 23:59 is the last minute
    assert billing_problems() == []


def test_closing_again_creates_nothing():
    contract = create_hourly_contract(created_at=WEEK)
    add_time(contract, day(1), 90)
    assert close_due_weeks(CLOSED) == 1
    assert close_due_weeks(CLOSED) == 0
    assert close_due_weeks(CLOSED + timedelta(hours=5)) == 0
    assert len(invoices(contract)) == 1


def test_the_open_week_is_not_closed():
    contract = create_hourly_contract(created_at=WEEK)
    add_time(contract, day(1), 90)
    assert close_due_weeks(day(6, 23)) == 0
    assert invoices(contract) == []


@pytest.mark.parametrize("minutes, rate, expected", [
    (1, 2550, 43),        # 25.50 / 60 = 42.5 cents: half up
    (1, 2549, 42),        # 42.48 cents
    (7, 1999, 233),       # 233.21
    (600, 2550, 25_500),
])
def test_rounding_is_half_up_once_per_week(minutes, rate, expected):
    contract = create_hourly_contract(rate=rate, limit_minutes=600, created_at=WEEK)
    add_time(contract, day(0), minutes)
    close_due_weeks(CLOSED)
    assert the_invoice(contract).amount == expected


def test_rounding_happens_once_for_the_week_not_per_entry():
    contract = create_hourly_contract(rate=2550, created_at=WEEK)
    for n in range(3):
        add_time(contract, day(n), 1)           # 3 x 42.5 cents: per entry would be 129
    close_due_weeks(CLOSED)
    assert the_invoice(contract).amount == 128   # 3 min x 25.50/60 = 127.5 -> 128


def test_the_retainer_is_a_line_of_the_same_invoice():
    contract = create_hourly_contract(rate=3000, retainer=5_000, created_at=WEEK)
    add_time(contract, day(0), 60)
    close_due_weeks(CLOSED)
    invoice = the_invoice(contract)
    assert (invoice.hours_amount, invoice.retainer, invoice.amount) == (3_000, 5_000, 8_000)
    assert invoice.engagement.amount == 8_000


def test_a_week_with_nothing_to_bill_is_closed_without_a_payable():
    contract = create_hourly_contract(created_at=WEEK)
    assert close_due_weeks(CLOSED) == 1
    invoice = the_invoice(contract)
    assert invoice.amount == 0 and invoice.engagement_id is None


def test_an_entry_across_the_week_boundary_is_billed_in_both_weeks_once():
    contract = create_hourly_contract(created_at=WEEK, limit_minutes=600)
    entry = add_time(contract, WEEK + timedelta(days=6, hours=23), 120)   # Sun 23:00 -> Mon 01:00
    close_due_weeks(WEEK + timedelta(days=14, hours=1))
    first, second = (the_invoice(contract, WEEK), the_invoice(contract, WEEK + timedelta(days=7)))
    assert (first.billable_minutes, second.billable_minutes) == (60, 60)
    lines = db.session.scalars(select(InvoiceLine).where(InvoiceLine.time_entry_id == entry.id)
                               .order_by(InvoiceLine.started_at)).all()
    assert [l.end for l in lines][0] == lines[1].start == WEEK + timedelta(days=7)
    assert billing_problems() == []


def test_missed_weeks_are_all_closed_by_one_run():
    contract = create_hourly_contract(created_at=WEEK)
    for n in range(3):
        add_time(contract, WEEK + timedelta(days=7 * n, hours=10), 60)
    assert close_due_weeks(WEEK + timedelta(days=21, hours=1)) == 3
    assert [i.billable_minutes for i in invoices(contract)] == [60, 60, 60]


def test_a_closed_weeks_entries_cannot_change():
    contract = create_hourly_contract(created_at=WEEK)
    entry = add_time(contract, day(1), 60)
    close_due_weeks(CLOSED)
    with pytest.raises(Conflict):
        timesheets.delete_entry(contract.freelancer, entry, now=CLOSED)


def test_a_paused_contract_still_invoices_the_time_logged_before_the_pause():
    contract = create_hourly_contract(created_at=WEEK)
    add_time(contract, day(0), 60)
    contract.status, contract.paused_at = ContractStatus.PAUSED, day(1)
    db.session.flush()
    close_due_weeks(CLOSED)
    assert the_invoice(contract).billable_minutes == 60


def test_the_review_window_ends_on_saturday_midnight():
    assert review_window_end(WEEK) == datetime(2026, 12, 5, 0, 0, tzinfo=UTC)
    assert review_window_end(WEEK + timedelta(days=3, hours=7)) == datetime(2026, 12, 5, 0, 0, tzinfo=UTC)


def test_a_fixed_contract_is_never_invoiced():
    contract = create_hourly_contract(kind="fixed", created_at=WEEK)
    close_due_weeks(CLOSED)
    assert invoices(contract) == []
    assert db.session.scalar(select(func.count()).select_from(WeeklyInvoice)) == 0
