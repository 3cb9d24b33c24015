"""Property test of the weekly close over stored time: across week boundaries, midnights and DST in the
specialist's zone, no invoice bills past limit x rate and every billable minute is billed exactly once."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.invoicing.audit import billing_problems
from marketplace.invoicing.closing import close_due_weeks
from marketplace.invoicing.models import InvoiceLine, WeeklyInvoice
from marketplace.timesheets.models import TimeEntry
from marketplace.timesheets.weeks import LocalTimeError, amount_for_minutes, local_span_to_utc, week_start
from tests.invoicing.conftest import create_hourly_contract

UTC = timezone.utc
# Weeks around Europe's DST changes (29 Mar and 25 Oct 2026), and the boundaries between them.
ORIGINS = [date(2026, 3, 23), date(2026, 10, 19)]
ZONES = ["Europe/Madrid", "America/New_York", "Australia/Lord_Howe", "UTC"]


@st.composite
def local_entries(draw):
    """Non-overlapping (day, start, end) in a local zone over about three weeks; some cross midnight."""
    day = draw(st.sampled_from(ORIGINS)) + timedelta(days=draw(st.integers(0, 3)))
    entries = []
    for _ in range(draw(st.integers(1, 14))):
        day += timedelta(days=draw(st.integers(1, 2)))
        start = time(draw(st.integers(0, 23)), draw(st.sampled_from([0, 15, 30, 45])))
        end = time(draw(st.integers(0, 23)), draw(st.sampled_from([0, 10, 30])))
        entries.append((day, start, end))
    return entries


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(local_entries(), st.sampled_from(ZONES), st.integers(1, 40 * 60), st.integers(1, 9_999),
       st.sampled_from([0, 0, 2_500]))
def test_billed_never_exceeds_the_limit_and_every_billable_minute_is_billed_once(entries, zone, limit, rate,
                                                                                  retainer):
    savepoint = db.session.begin_nested()
    try:
        first_day = entries[0][0]
        contract = create_hourly_contract(zone=zone, rate=rate, limit_minutes=limit, retainer=retainer,
                                          created_at=datetime.combine(first_day - timedelta(days=1), time(0),
                                                                      tzinfo=UTC))
        spans = []
        for day, start, end in entries:
            try:
                span = local_span_to_utc(day, start, end, zone)   # an end before the start crosses midnight
            except LocalTimeError:
                continue                                          # a time skipped by DST
            if spans and span.start < spans[-1].end:
                continue                                          # keep them non-overlapping
            spans.append(span)
            db.session.add(TimeEntry(contract_id=contract.id, started_at=span.start, ended_at=span.end,
                                     week_start=week_start(span.start), minutes=span.minutes, memo="Queue"))
        db.session.flush()
        if not spans:
            return
        close_due_weeks(week_start(spans[-1].end) + timedelta(days=7, hours=1))
        invoices = db.session.scalars(select(WeeklyInvoice).where(WeeklyInvoice.contract_id == contract.id)).all()
        lines = db.session.scalars(select(InvoiceLine).join(WeeklyInvoice)
                                   .where(WeeklyInvoice.contract_id == contract.id)).all()
        for invoice in invoices:
            assert invoice.billable_minutes <= invoice.limit_minutes == limit
            assert invoice.amount <= amount_for_minutes(limit, rate) + invoice.retainer
            assert invoice.amount == amount_for_minutes(invoice.billable_minutes, rate) + invoice.retainer
        # Every logged minute is on exactly one invoice line; billable + over = logged per week.
        assert sum(line.minutes for line in lines) == sum(s.minutes for s in spans)
        covered = sorted((line.start, line.end) for line in lines)
        assert all(a[1] <= b[0] for a, b in zip(covered, covered[1:]))
        for invoice in invoices:
            logged = sum(l.minutes for l in lines if l.invoice_id == invoice.id)
            assert invoice.billable_minutes == min(logged, limit)
            assert invoice.billable_minutes + invoice.over_limit_minutes == logged
        assert billing_problems() == []
    finally:
        savepoint.rollback()
