"""Two (or more) job runners closing the same weeks at the same moment create one invoice per contract-week.

Real concurrent transactions: PostgreSQL only (TEST_DATABASE_URL), with committed data.
"""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from marketplace.engagements.models import Engagement, PayableKind
from marketplace.extensions import db
from marketplace.invoicing.closing import close_due_weeks
from marketplace.invoicing.models import InvoiceLine, WeeklyInvoice
from marketplace.invoicing.services import end_hourly_contract
from tests.invoicing.conftest import CLOSED, WEEK, add_time, create_hourly_contract, day

RUNNERS = 8


def _race(app, work) -> list[object]:
    barrier = threading.Barrier(RUNNERS)
    results: list[object] = [None] * RUNNERS

    def run(i: int) -> None:
        with app.app_context():
            barrier.wait()
            try:
                results[i] = work(i)
                db.session.commit()
            except Exception as error:   # noqa: BLE001 - reported by the assertion below
                db.session.rollback()
                results[i] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(RUNNERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


@pytest.mark.no_db_transaction
def test_parallel_weekly_closes_make_one_invoice_per_contract_week(app, committed_world):
    contracts = []
    for n in range(5):
        contract = create_hourly_contract(created_at=WEEK)
        add_time(contract, day(n % 5), 60 + n)
        contracts.append(contract.id)
    db.session.commit()

    results = _race(app, lambda i: close_due_weeks(CLOSED))
    assert all(isinstance(r, int) for r in results), results
    assert sum(results) == len(contracts)
    db.session.expire_all()
    rows = db.session.execute(select(WeeklyInvoice.contract_id, func.count()).group_by(WeeklyInvoice.contract_id)).all()
    assert sorted(rows) == [(cid, 1) for cid in contracts]
    assert db.session.scalar(select(func.count()).select_from(Engagement)
                             .where(Engagement.payable_kind == PayableKind.INVOICE)) == len(contracts)
    assert db.session.scalar(select(func.count()).select_from(InvoiceLine)) == len(contracts)


@pytest.mark.no_db_transaction
def test_ending_a_contract_while_the_job_runs_still_makes_one_invoice_per_week(app, committed_world):
    contract = create_hourly_contract(created_at=WEEK)
    add_time(contract, day(1), 90)
    add_time(contract, day(8), 45)         # in the following (current) week
    db.session.commit()
    contract_id = contract.id
    now = day(9, 12)

    def work(i: int):
        if i % 2:
            return close_due_weeks(now)
        from marketplace.contracts.models import Contract
        return end_hourly_contract(db.session.get(Contract, contract_id).business,
                                   db.session.get(Contract, contract_id), now=now)

    results = _race(app, work)
    db.session.expire_all()
    weeks = db.session.execute(select(WeeklyInvoice.week_start, WeeklyInvoice.billable_minutes)
                               .where(WeeklyInvoice.contract_id == contract_id)
                               .order_by(WeeklyInvoice.week_start)).all()
    assert [minutes for _, minutes in weeks] == [90, 45], results


@pytest.mark.no_db_transaction
def test_parallel_charge_runs_charge_each_invoice_once(app, committed_world):
    from marketplace.invoicing.charging import charge_due_invoices
    from marketplace.payments.models import Charge
    contracts = []
    for n in range(3):
        contract = create_hourly_contract(created_at=WEEK)
        add_time(contract, day(n), 120)
        contracts.append(contract.id)
    db.session.commit()
    close_due_weeks(CLOSED)
    db.session.commit()

    results = _race(app, lambda i: charge_due_invoices(CLOSED))
    assert all(isinstance(r, int) for r in results), results
    assert sum(results) == len(contracts)          # each invoice claimed by exactly one runner
    db.session.expire_all()
    invoices = db.session.scalars(select(WeeklyInvoice).where(WeeklyInvoice.contract_id.in_(contracts))).all()
    for invoice in invoices:
        charges = db.session.scalars(select(Charge).where(Charge.engagement_id == invoice.engagement_id)).all()
        assert [c.status for c in charges] == ["succeeded"]
        assert invoice.status == "in_review"


@pytest.mark.no_db_transaction
def test_a_double_submitted_bonus_form_adds_one_bonus_and_charges_once(app, committed_world):
    """Two submits of one bonus form at the same moment (a double click reaching two workers)."""
    import re

    from marketplace.payments.models import Charge
    from tests.conftest import login
    contract = create_hourly_contract(created_at=WEEK)
    db.session.commit()
    contract_id, business = contract.id, contract.business
    browsers = [app.test_client() for _ in range(2)]
    for browser in browsers:
        assert login(browser, business).status_code == 302
    page = browsers[0].get(f"/contracts/{contract_id}").get_data(as_text=True)
    key = re.search(r'name="key" type="hidden" value="([A-Za-z0-9_-]+)"', page).group(1)
    barrier = threading.Barrier(len(browsers))
    statuses: list[object] = [None] * len(browsers)

    def submit(i: int) -> None:
        with app.app_context():
            barrier.wait()
            try:
                statuses[i] = browsers[i].post(f"/contracts/{contract_id}/bonuses",
                                               data={"title": "Launch week", "amount": "60.00", "key": key}).status_code
            except Exception as error:   # noqa: BLE001 - reported by the assertion below
                statuses[i] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(len(browsers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert statuses == [302, 302], statuses
    db.session.expire_all()
    bonuses = db.session.scalars(select(Engagement).where(Engagement.contract_id == contract_id,
                                                          Engagement.payable_kind == PayableKind.BONUS)).all()
    assert len(bonuses) == 1 and bonuses[0].form_key == key
    charges = db.session.scalars(select(Charge).where(Charge.engagement_id == bonuses[0].id)).all()
    assert [c.status for c in charges] == ["succeeded"]
