"""A paused or ended hourly contract can't work shifts: its specialist's seats in shifts that haven't
started open again (in the same transaction as the pause or the end); past and ongoing shifts stay theirs."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from marketplace.contracts.models import ContractStatus
from marketplace.core.errors import Forbidden
from marketplace.extensions import db
from marketplace.invoicing import services as billing
from marketplace.notifications.models import Notification
from marketplace.schedules import blocks, calendar, claims
from marketplace.schedules.models import Shift, ShiftDrop, ShiftSwap
from tests.schedules.helpers import NOW, hire, hourly_task, weekly

MONDAY = NOW - timedelta(days=2)        # Monday 23 Nov 14:00 UTC: when the shifts were claimed


def _shifts(block):
    return list(db.session.scalars(select(Shift).where(Shift.block_id == block.id).order_by(Shift.starts_at)))


def _holders(shift):
    db.session.refresh(shift)
    for seat in shift.seat_rows:
        db.session.refresh(seat)
    return sorted(s.holder_id for s in shift.seat_rows if s.holder_id is not None)


def _bodies(user, kind):
    return list(db.session.scalars(select(Notification.body).where(Notification.user_id == user.id,
                                                                   Notification.kind == kind)))


@pytest.fixture()
def rota():
    """Ana holds a past shift (Tuesday), one under way at NOW (Wednesday 08:00-12:00 New York, i.e. 13:00-17:00
    UTC) and every Friday; Ben holds the other Friday seats and a Thursday, which Ana offered to swap for."""
    task = hourly_task(zone="America/New_York", start=date(2026, 11, 23), end=date(2026, 12, 20))
    ana, contract = hire(task)
    ben, _ = hire(task)
    contract.created_at = MONDAY
    tuesday = _shifts(blocks.add_block(task.business, task, weekly(1, "08:00", "10:00"), now=MONDAY))[0]
    wednesday = _shifts(blocks.add_block(task.business, task, weekly(2, "08:00", "12:00"), now=MONDAY))[0]
    thursday = _shifts(blocks.add_block(task.business, task, weekly(3, "13:00", "15:00"), now=MONDAY))[0]
    fridays = _shifts(blocks.add_block(task.business, task, weekly(4, "09:00", "17:00", seats=2), now=MONDAY))
    claims.claim(ana, tuesday, now=MONDAY)
    claims.claim(ana, wednesday, now=MONDAY)
    seats, skipped = claims.claim_series(ana, fridays[0], now=MONDAY)
    assert len(seats) == len(fridays) >= 3 and skipped == []
    claims.claim_series(ben, fridays[0], now=MONDAY)
    bens_thursday = claims.claim(ben, thursday, now=MONDAY)
    swap = claims.offer_swap(ana, fridays[0], bens_thursday.id, now=MONDAY)
    assert wednesday.start < NOW < wednesday.end and tuesday.end < NOW
    assert _fridays_open(task, fridays) == []
    return task, ana, ben, contract, tuesday, wednesday, fridays, swap


def _fridays_open(task, fridays) -> list[int]:
    """The Fridays the business's open-shift list shows (it covers the next 14 days)."""
    friday_ids = {f.id for f in fridays}
    return [s.id for s in calendar.open_shifts(task, NOW) if s.id in friday_ids]


def _assert_released(task, ana, ben, tuesday, wednesday, fridays, swap):
    assert _holders(tuesday) == [ana.id] and _holders(wednesday) == [ana.id]     # past and under way: kept
    assert all(_holders(friday) == [ben.id] for friday in fridays)               # Ben keeps his seats
    assert all(friday.open_seats == 1 for friday in fridays)
    db.session.refresh(swap)
    assert swap.status == "cancelled"                     # it offered a seat Ana no longer holds
    # Not a drop: nothing counts against Ana's kept-shift record.
    assert db.session.scalar(select(func.count()).select_from(ShiftDrop)) == 0
    # The business sees the gap: on the calendar, in the coverage and in its notifications.
    assert _fridays_open(task, fridays) == [f.id for f in fridays if f.start < NOW + timedelta(days=14)]
    [note] = _bodies(task.business, "shifts_released")
    assert f"{len(fridays)} upcoming shifts" in note and ana.full_name in note
    assert any("open again" in body for body in _bodies(ben, "shift_open"))
    # Ana can't claim them back while the contract isn't active.
    with pytest.raises(Forbidden):
        claims.claim(ana, fridays[1], now=NOW)


def test_pausing_releases_the_specialists_future_shifts_only(rota):
    task, ana, ben, contract, tuesday, wednesday, fridays, swap = rota
    billing.pause_contract(task.business, contract, now=NOW)
    assert contract.status == ContractStatus.PAUSED
    _assert_released(task, ana, ben, tuesday, wednesday, fridays, swap)
    [paused] = _bodies(ana, "contract_paused")
    assert f"The specialist's {len(fridays)} upcoming shifts are open again." in paused
    # Resuming doesn't give them back; Ana claims again like anyone else.
    billing.resume_contract(ana, contract, now=NOW + timedelta(hours=1))
    assert _holders(fridays[0]) == [ben.id]
    claims.claim(ana, fridays[1], now=NOW + timedelta(hours=1))
    assert _holders(fridays[1]) == sorted([ana.id, ben.id])


def test_ending_releases_the_specialists_future_shifts_only(rota):
    task, ana, ben, contract, tuesday, wednesday, fridays, swap = rota
    billing.end_hourly_contract(ana, contract, now=NOW)
    assert contract.status == ContractStatus.ENDED
    _assert_released(task, ana, ben, tuesday, wednesday, fridays, swap)
    [ended] = _bodies(task.business, "contract_ended")
    assert f"The specialist's {len(fridays)} upcoming shifts are open again." in ended


def test_a_contract_without_shifts_pauses_and_ends_as_before():
    task = hourly_task()
    ana, contract = hire(task)
    billing.pause_contract(ana, contract, now=NOW)
    [paused] = _bodies(task.business, "contract_paused")
    assert "shift" not in paused
    billing.end_hourly_contract(ana, contract, now=NOW)
    assert contract.status == ContractStatus.ENDED and _bodies(task.business, "shifts_released") == []


def test_the_business_sees_the_open_seats_on_its_calendar(client, login_as, app, monkeypatch, rota):
    task, ana, ben, contract, tuesday, wednesday, fridays, swap = rota
    monkeypatch.setitem(app.config, "FAKE_NOW", NOW.isoformat())
    login_as(task.business)
    week = f"/tasks/{task.id}/schedule?week=2026-11-23"
    before = client.get(week).get_data(as_text=True)
    response = client.post(f"/contracts/{contract.id}/pause", data={}, follow_redirects=True)
    assert "any upcoming shifts the specialist held on this task are open again" in response.get_data(as_text=True)
    after = client.get(week).get_data(as_text=True)
    # This week's Friday seat Ana held is uncovered now; her Tuesday and Wednesday shifts still show her.
    assert after.count('data-testid="uncovered"') == before.count('data-testid="uncovered"') + 1
    held = f"<li>{ana.full_name}"
    assert before.count(held) == 3 and after.count(held) == 2
    assert db.session.scalar(select(ShiftSwap.status).where(ShiftSwap.id == swap.id)) == "cancelled"


def test_a_contract_paused_for_an_unpaid_invoice_releases_its_future_shifts(app):
    from marketplace.invoicing.charging import charge_due_invoices, pause_unpaid
    from marketplace.invoicing.closing import close_due_weeks
    from marketplace.payments.saved_methods import save_sandbox_card
    from tests.invoicing.conftest import add_time
    task = hourly_task(zone="UTC", start=date(2026, 11, 23), end=date(2026, 12, 31))
    save_sandbox_card(task.business, "declined")
    ana, contract = hire(task)
    contract.created_at = MONDAY
    add_time(contract, MONDAY + timedelta(hours=20), 120)
    fridays = _shifts(blocks.add_block(task.business, task, weekly(4, "09:00", "17:00"), now=NOW))
    claims.claim_series(ana, fridays[0], now=NOW)
    closed = NOW + timedelta(days=4, hours=11)            # Monday 30 Nov 01:00 UTC
    close_due_weeks(closed)
    charge_due_invoices(closed)
    later = closed + timedelta(hours=app.config["INVOICE_GRACE_HOURS"])    # Thursday 3 Dec 01:00
    assert pause_unpaid(later) == 1
    db.session.refresh(contract)
    assert contract.status == ContractStatus.PAUSED
    assert _holders(fridays[0]) == [ana.id]               # Friday 27 Nov is past by then
    assert all(_holders(friday) == [] for friday in fridays[1:])
    assert any("upcoming shifts are open again" in body for body in _bodies(ana, "contract_paused"))
