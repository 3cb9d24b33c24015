"""Races on PostgreSQL (TEST_DATABASE_URL) with committed data and real threads:
a last seat raced for by many specialists goes to one; `jobs run-due` run twice at once
leaves the schedule, the claims and the shift records as one run does, and tells everyone once."""
from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.notifications.models import Notification
from marketplace.schedules import blocks, claims, records
from marketplace.schedules.models import Shift, ShiftSeat
from tests import factories
from tests.conftest import FreshContextClient
from tests.schedules.helpers import NOW, hire, hourly_task, weekly

PARALLEL = 10


def _run_together(count: int, target) -> None:
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait()
            target(i)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors


@pytest.mark.no_db_transaction
def test_a_race_for_the_last_seat_gives_one_claim(app, committed_world, monkeypatch):
    monkeypatch.setitem(app.config, "FAKE_NOW", NOW.isoformat())
    task = hourly_task(seats=PARALLEL, start=date(2026, 11, 23), end=date(2026, 12, 6))
    people = [hire(task)[0] for _ in range(PARALLEL)]
    block = blocks.add_block(task.business, task, weekly(4, "09:00", "17:00", seats=2), now=NOW)
    shift = db.session.scalar(select(Shift).where(Shift.block_id == block.id).order_by(Shift.starts_at))
    claims.claim(people[0], shift, now=NOW)      # one of the two seats is taken: the rest race for the last
    db.session.commit()
    shift_id, emails = shift.id, [p.email for p in people[1:]]

    tabs = []
    for email in emails:
        tab = FreshContextClient(app, app.response_class, use_cookies=True)
        assert tab.post("/login", data={"email": email, "password": factories.PASSWORD}).status_code == 302
        tabs.append(tab)
    _run_together(len(tabs), lambda i: tabs[i].post(f"/shifts/{shift_id}/claim", data={}))

    db.session.expire_all()
    holders = db.session.scalars(select(ShiftSeat.holder_id).where(ShiftSeat.shift_id == shift_id)).all()
    assert len(holders) == 2 and None not in holders and len(set(holders)) == 2


@pytest.mark.no_db_transaction
def test_one_person_claiming_in_many_tabs_holds_one_seat(app, committed_world, monkeypatch):
    monkeypatch.setitem(app.config, "FAKE_NOW", NOW.isoformat())
    task = hourly_task(start=date(2026, 11, 23), end=date(2026, 12, 6))
    ana, _ = hire(task)
    block = blocks.add_block(task.business, task, weekly(4, "09:00", "17:00", seats=5), now=NOW)
    shift_id = db.session.scalar(select(Shift.id).where(Shift.block_id == block.id).order_by(Shift.starts_at))
    db.session.commit()
    tabs = []
    for _ in range(6):
        tab = FreshContextClient(app, app.response_class, use_cookies=True)
        assert tab.post("/login", data={"email": ana.email, "password": factories.PASSWORD}).status_code == 302
        tabs.append(tab)
    _run_together(len(tabs), lambda i: tabs[i].post(f"/shifts/{shift_id}/claim", data={}))
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(ShiftSeat)
                             .where(ShiftSeat.shift_id == shift_id, ShiftSeat.holder_id == ana.id)) == 1


def _snapshot(user_ids):
    shifts = db.session.execute(select(Shift.block_id, Shift.local_date, Shift.starts_at, Shift.seats,
                                       Shift.cancelled_at).order_by(Shift.block_id, Shift.local_date)).all()
    seats = db.session.execute(select(ShiftSeat.shift_id, ShiftSeat.seat_no, ShiftSeat.holder_id, ShiftSeat.missed_at)
                               .order_by(ShiftSeat.shift_id, ShiftSeat.seat_no)).all()
    return shifts, seats, records.records_for(user_ids, NOW + timedelta(days=3))


@pytest.mark.no_db_transaction
def test_jobs_run_due_twice_at_once_changes_nothing_twice(app, committed_world, monkeypatch):
    from marketplace.jobs import _due_jobs
    monkeypatch.setitem(app.config, "FAKE_NOW", NOW.isoformat())
    monkeypatch.setitem(app.config, "SHIFT_HORIZON_DAYS", 42)
    task = hourly_task(start=date(2026, 9, 1), end=date(2026, 12, 31))
    ana, _ = hire(task)
    ben, _ = hire(task)
    block = blocks.add_block(task.business, task, weekly(2, "09:00", "17:00", seats=2),
                             now=NOW - timedelta(days=30))   # Wednesdays 28 Oct - 2 Dec; NOW's one starts now
    blocks.add_block(task.business, task, weekly(3, "09:00", "17:00", seats=2), now=NOW)   # Thursday, tomorrow
    wednesdays = list(db.session.scalars(select(Shift).where(Shift.block_id == block.id).order_by(Shift.starts_at)))
    for shift in wednesdays[:4]:
        claims.claim(ana, shift, now=NOW - timedelta(days=30))
    claims.claim(ben, wednesdays[1], now=NOW - timedelta(days=30))
    records.mark_missed(task.business, wednesdays[0].seat_rows[0], now=NOW)
    db.session.commit()
    monkeypatch.setitem(app.config, "SHIFT_HORIZON_DAYS", 56)   # the jobs now have shifts to add
    before_shifts, before_seats, before_records = _snapshot([ana.id, ben.id])

    def run_due(_):
        with app.app_context():
            for _name, job in _due_jobs():
                job()
                db.session.commit()
    _run_together(2, run_due)

    with app.app_context():
        db.session.expire_all()
        after_shifts, after_seats, after_records = _snapshot([ana.id, ben.id])
        # Same shifts as one run makes: every Wednesday and Thursday up to the horizon, once each.
        days = [(b, d) for b, d, *_ in after_shifts]
        assert len(days) == len(set(days)) > len(before_shifts)
        assert after_shifts[:len(before_shifts)] == before_shifts or set(before_shifts) <= set(after_shifts)
        held_before = {(s, n): (h, m) for s, n, h, m in before_seats}
        assert all(held_before[(s, n)] == (h, m) for s, n, h, m in after_seats if (s, n) in held_before)
        assert after_records == before_records
        assert after_records[ana.id].total == 4 and after_records[ana.id].missed == 1
        # Each reminder, alert and follow-up exactly once.
        kinds = dict(db.session.execute(select(Notification.kind, func.count()).group_by(Notification.kind)).all())
        assert kinds.get("shift_uncovered") == 1          # tomorrow's Thursday, both seats open
        assert kinds.get("shift_unlogged") == 2           # 18 Nov (within a week): ana and the business


@pytest.mark.no_db_transaction
def test_a_claim_racing_a_pause_never_leaves_a_paused_contract_holding_a_future_seat(app, committed_world,
                                                                                     monkeypatch):
    """Each specialist claims a Friday seat while their contract is paused at the same moment: either the
    claim commits first and the pause releases it, or the pause does and the claim is refused."""
    import time
    checked = claims._check_open

    def slow_check(shift, now):     # widen the gap between a claim's contract check and its seat update
        time.sleep(0.2)
        checked(shift, now)
    monkeypatch.setattr(claims, "_check_open", slow_check)
    from marketplace.contracts.models import Contract, ContractStatus
    from marketplace.core.errors import DomainError
    from marketplace.invoicing.services import pause_contract
    pairs = PARALLEL // 2
    task = hourly_task(seats=pairs, start=date(2026, 11, 23), end=date(2026, 12, 20))
    hired = [hire(task) for _ in range(pairs)]
    block = blocks.add_block(task.business, task, weekly(4, "09:00", "17:00", seats=pairs), now=NOW)
    first = db.session.scalar(select(Shift).where(Shift.block_id == block.id).order_by(Shift.starts_at))
    db.session.commit()
    first_id = first.id
    people = [(person.id, contract.id) for person, contract in hired]

    def work(i: int) -> None:
        person_id, contract_id = people[i // 2]
        with app.app_context():
            try:
                from marketplace.accounts.models import User
                person = db.session.get(User, person_id)
                if i % 2:
                    claims.claim(person, claims.get_shift(first_id), now=NOW)
                else:
                    time.sleep(0.1)     # the claim has checked the contract and is on its way to the seat
                    pause_contract(person, db.session.get(Contract, contract_id), now=NOW)
                db.session.commit()
            except DomainError:
                db.session.rollback()
            finally:
                db.session.remove()

    _run_together(2 * pairs, work)
    db.session.expire_all()
    contract_ids = [contract_id for _, contract_id in people]
    assert set(db.session.scalars(select(Contract.status).where(Contract.id.in_(contract_ids)))) == {
        ContractStatus.PAUSED}
    assert db.session.scalar(select(func.count()).select_from(ShiftSeat).join(Shift, Shift.id == ShiftSeat.shift_id)
                             .where(ShiftSeat.contract_id.in_(contract_ids), Shift.starts_at > NOW)) == 0
