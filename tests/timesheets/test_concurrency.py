"""Parallel requests can't log overlapping time: the contract row lock serialises the overlap check.

Needs real concurrent transactions, so it runs on PostgreSQL (TEST_DATABASE_URL) with
committed data, and cleans up after itself.
"""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.timesheets.models import TimeEntry, TimesheetWeek
from tests import factories
from tests.conftest import FreshContextClient
from tests.timesheets.conftest import NOW, create_hourly_contract

PARALLEL = 12


@pytest.mark.no_db_transaction
def test_parallel_overlapping_entries_make_one(app, committed_world, monkeypatch):
    monkeypatch.setitem(app.config, "FAKE_NOW", NOW.isoformat())
    contract = create_hourly_contract(zone="Europe/Madrid")
    db.session.commit()
    contract_id, freelancer = contract.id, contract.freelancer

    tabs = []
    for _ in range(PARALLEL):
        tab = FreshContextClient(app, app.response_class, use_cookies=True)
        assert tab.post("/login", data={"email": freelancer.email, "password": factories.PASSWORD}).status_code == 302
        tabs.append(tab)
    barrier = threading.Barrier(PARALLEL)
    statuses: list[int | None] = [None] * PARALLEL

    def log(i: int) -> None:
        barrier.wait()
        # Every request overlaps every other one (09:00-13:00 shifted by i minutes).
        response = tabs[i].post(f"/contracts/{contract_id}/timesheet/entries",
                                data={"day": "2026-11-24", "start": f"09:{i:02d}", "end": f"13:{i:02d}",
                                      "memo": f"Queue shift {i}", "channel": "chat"})
        statuses[i] = response.status_code

    threads = [threading.Thread(target=log, args=(i,)) for i in range(PARALLEL)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert sorted(statuses) == [302] + [400] * (PARALLEL - 1), statuses
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(TimeEntry)
                             .where(TimeEntry.contract_id == contract_id)) == 1
    assert db.session.scalar(select(func.count()).select_from(TimesheetWeek)
                             .where(TimesheetWeek.contract_id == contract_id)) == 1
