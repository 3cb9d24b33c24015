"""Schedule rules against a real database: shifts from blocks, edits, claims, clashes, drops, swaps, misses."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from marketplace.core.errors import Conflict, Forbidden, ValidationFailed
from marketplace.extensions import db
from marketplace.notifications.models import Notification
from marketplace.schedules import blocks, calendar, claims, records
from marketplace.schedules.models import Shift
from tests import factories
from tests.schedules.helpers import NOW, UTC, hire, hourly_task, once, weekly


def _shifts(block):
    return list(db.session.scalars(select(Shift).where(Shift.block_id == block.id).order_by(Shift.starts_at)))


def _notes(user, kind):
    return list(db.session.scalars(select(Notification.title).where(Notification.user_id == user.id,
                                                                    Notification.kind == kind)))


def test_a_weekly_block_makes_dated_shifts_in_utc_that_keep_local_hours(app):
    task = hourly_task(zone="America/New_York", start=date(2026, 11, 23), end=date(2027, 3, 31))
    app.config["SHIFT_HORIZON_DAYS"] = 120
    try:
        block = blocks.add_block(task.business, task, weekly(0, "09:00", "17:00", seats=2), now=NOW)
    finally:
        app.config["SHIFT_HORIZON_DAYS"] = 42
    shifts = _shifts(block)
    # Mondays from 30 Nov (the 23rd has passed) to 22 March 2027: EST until 14 March, EDT after.
    assert shifts[0].local_date == date(2026, 11, 30)
    assert (shifts[0].start, shifts[0].end) == (datetime(2026, 11, 30, 14, tzinfo=UTC), datetime(2026, 11, 30, 22, tzinfo=UTC))
    after_dst = next(s for s in shifts if s.local_date == date(2027, 3, 15))   # US clocks moved on 14 March
    assert (after_dst.start.hour, after_dst.end.hour) == (13, 21)
    assert all(len(s.seat_rows) == 2 and s.seats == 2 for s in shifts)
    assert {s.local_date.weekday() for s in shifts} == {0}


def test_blocks_cross_midnight_and_one_offs_stay_within_the_task_dates(app):
    task = hourly_task(zone="Europe/Berlin", start=date(2026, 11, 23), end=date(2026, 12, 6))
    night = blocks.add_block(task.business, task, weekly(4, "22:00", "06:00"), now=NOW)
    assert [(s.start, s.end) for s in _shifts(night)] == [
        (datetime(2026, 11, 27, 21, tzinfo=UTC), datetime(2026, 11, 28, 5, tzinfo=UTC)),
        (datetime(2026, 12, 4, 21, tzinfo=UTC), datetime(2026, 12, 5, 5, tzinfo=UTC))]
    launch = blocks.add_block(task.business, task, once(date(2026, 12, 5), "10:00", "14:00", seats=3), now=NOW)
    assert len(_shifts(launch)) == 1 and _shifts(launch)[0].seats == 3
    with pytest.raises(ValidationFailed) as refused:
        blocks.add_block(task.business, task, once(date(2027, 1, 5), "10:00", "14:00"), now=NOW)
    assert refused.value.field == "on_date"


@pytest.mark.parametrize("data, field", [
    (weekly(0, "09:00", "09:00"), "end"),
    (weekly(0, "09:00", "17:00", seats=0), "seats"),
    (weekly(0, "09:00", "17:00", seats=21), "seats"),
    (weekly(0, "09:00", "17:00", channel="fax"), "channel"),
])
def test_bad_blocks_are_refused_and_change_nothing(data, field):
    task = hourly_task()
    with pytest.raises(ValidationFailed) as refused:
        blocks.add_block(task.business, task, data, now=NOW)
    assert refused.value.field == field
    assert blocks.blocks_of(task) == []


def test_only_the_business_edits_and_only_hourly_tasks_have_schedules():
    task = hourly_task()
    with pytest.raises(Forbidden):
        blocks.add_block(factories.create_business(), task, weekly(0, "09:00", "17:00"), now=NOW)
    fixed = factories.create_task(pricing="fixed")
    with pytest.raises(Conflict):
        blocks.add_block(fixed.business, fixed, weekly(0, "09:00", "17:00"), now=NOW)


def test_editing_a_block_changes_future_shifts_only_and_tells_holders():
    task = hourly_task(start=date(2026, 11, 23), end=date(2026, 12, 20))
    block = blocks.add_block(task.business, task, weekly(2, "09:00", "17:00"), now=NOW - timedelta(days=1))
    ana, _ = hire(task)
    today, next_week = _shifts(block)[:2]        # Wed 25 Nov (started at NOW) and Wed 2 Dec
    assert today.start <= NOW < today.end
    claims.claim(ana, next_week, now=NOW)
    today_seat = today.seat_rows[0]
    today_seat.holder_id, today_seat.contract_id = ana.id, claims.hiring_contract(task.id, ana.id).id
    db.session.flush()

    blocks.edit_block(task.business, block, weekly(2, "10:00", "18:00"), now=NOW)
    db.session.refresh(today)
    db.session.refresh(next_week)
    assert (today.start.hour, today.seat_rows[0].holder_id) == (14, ana.id)       # started: untouched
    assert next_week.start == datetime(2026, 12, 2, 15, tzinfo=UTC)
    assert next_week.seat_rows[0].holder_id is None                                # released
    assert any("changed" in t for t in _notes(ana, "shift_changed"))


def test_removing_a_block_cancels_its_upcoming_shifts_and_notifies_whoever_held_one():
    task = hourly_task(start=date(2026, 11, 23), end=date(2026, 12, 20))
    block = blocks.add_block(task.business, task, weekly(4, "09:00", "17:00"), now=NOW)
    ana, _ = hire(task)
    claims.claim(ana, _shifts(block)[0], now=NOW)
    cancelled = blocks.remove_block(task.business, block, now=NOW)
    assert cancelled == len(_shifts(block)) == 4
    assert all(s.cancelled_at is not None and s.open_seats == 1 for s in _shifts(block))
    assert _notes(ana, "shift_changed")


def test_fewer_seats_releases_free_seats_first():
    task = hourly_task(start=date(2026, 11, 23), end=date(2026, 12, 6))
    block = blocks.add_block(task.business, task, weekly(4, "09:00", "17:00", seats=3), now=NOW)
    ana, _ = hire(task)
    claims.claim(ana, _shifts(block)[0], now=NOW)
    blocks.edit_block(task.business, block, weekly(4, "09:00", "17:00", seats=1), now=NOW)
    first = _shifts(block)[0]
    assert [s.holder_id for s in first.seat_rows] == [ana.id]
    assert not _notes(ana, "shift_changed")


def test_claims_need_an_active_hourly_contract_and_a_free_seat():
    task = hourly_task(start=date(2026, 11, 23), end=date(2026, 12, 6))
    shift = _shifts(blocks.add_block(task.business, task, weekly(4, "09:00", "17:00"), now=NOW))[0]
    stranger = factories.create_freelancer()
    with pytest.raises(Forbidden):
        claims.claim(stranger, shift, now=NOW)
    ana, _ = hire(task)
    ben, _ = hire(task)
    seat = claims.claim(ana, shift, now=NOW)
    assert seat.holder_id == ana.id
    with pytest.raises(Conflict, match="already hold a seat"):
        claims.claim(ana, shift, now=NOW)
    with pytest.raises(Conflict, match="Every seat"):
        claims.claim(ben, shift, now=NOW)
    with pytest.raises(Conflict, match="already started"):
        claims.claim(ben, shift, now=shift.start)


def test_overlapping_claims_across_contracts_are_refused_naming_the_clash():
    first = hourly_task(title="Chat queue for Brightline", start=date(2026, 11, 23), end=date(2026, 12, 6))
    second = hourly_task(title="Phone line for Nimbus", start=date(2026, 11, 23), end=date(2026, 12, 6))
    ana = factories.create_freelancer()
    hire(first, ana)
    hire(second, ana)
    mine = _shifts(blocks.add_block(first.business, first, weekly(4, "09:00", "17:00"), now=NOW))[0]
    clashing = _shifts(blocks.add_block(second.business, second, weekly(4, "16:00", "20:00"), now=NOW))[0]
    claims.claim(ana, mine, now=NOW)
    with pytest.raises(Conflict) as refused:
        claims.claim(ana, clashing, now=NOW)
    assert "Chat queue for Brightline" in refused.value.message and "Fri 27 Nov 09:00–17:00" in refused.value.message
    assert clashing.open_seats == 1
    with pytest.raises(Conflict, match="Chat queue for Brightline"):
        claims.assign(second.business, clashing, ana.id, now=NOW)


def test_claiming_every_week_takes_the_free_ones_and_lists_the_rest():
    task = hourly_task(start=date(2026, 11, 23), end=date(2026, 12, 20))
    shifts = _shifts(blocks.add_block(task.business, task, weekly(0, "09:00", "17:00"), now=NOW))
    ana, _ = hire(task)
    ben, _ = hire(task)
    claims.claim(ben, shifts[1], now=NOW)
    seats, skipped = claims.claim_series(ana, shifts[0], now=NOW)
    assert [s.shift_id for s in seats] == [shifts[0].id, shifts[2].id]
    assert len(skipped) == 1 and "Every seat" in skipped[0]


def test_the_business_assigns_hired_specialists_only():
    task = hourly_task(start=date(2026, 11, 23), end=date(2026, 12, 6))
    shift = _shifts(blocks.add_block(task.business, task, weekly(4, "09:00", "17:00"), now=NOW))[0]
    ana, _ = hire(task)
    with pytest.raises(ValidationFailed):
        claims.assign(task.business, shift, factories.create_freelancer().id, now=NOW)
    with pytest.raises(Forbidden):
        claims.assign(ana, shift, ana.id, now=NOW)
    seat = claims.assign(task.business, shift, ana.id, now=NOW)
    assert seat.holder_id == ana.id and seat.assigned_by_business
    assert _notes(ana, "shift_assigned")


def test_dropping_inside_the_notice_period_is_a_late_drop_and_the_others_are_told(app):
    task = hourly_task(start=date(2026, 11, 23), end=date(2026, 12, 6))
    shift = _shifts(blocks.add_block(task.business, task, weekly(3, "09:00", "17:00"), now=NOW))[0]  # Thu 26 Nov 14:00 UTC
    ana, _ = hire(task)
    ben, _ = hire(task)
    claims.claim(ana, shift, now=NOW)
    early = claims.drop(ana, shift, now=NOW)                      # 24 h before: on notice
    assert not early.late and shift.open_seats == 1
    claims.claim(ana, shift, now=NOW)
    late = claims.drop(ana, shift, now=NOW + timedelta(minutes=1))
    assert late.late
    assert len(_notes(ben, "shift_open")) == 2 and not _notes(ana, "shift_open")
    assert any("Late drop" in t for t in _notes(task.business, "shift_dropped"))
    app.config["SHIFT_DROP_NOTICE_HOURS"] = 1
    try:
        claims.claim(ana, shift, now=NOW)
        assert not claims.drop(ana, shift, now=NOW + timedelta(hours=2)).late
    finally:
        app.config["SHIFT_DROP_NOTICE_HOURS"] = 24
    with pytest.raises(Conflict):
        claims.drop(ben, shift, now=NOW)


def test_a_swap_happens_when_the_second_specialist_confirms():
    task = hourly_task(start=date(2026, 11, 23), end=date(2026, 12, 6))
    monday, friday = (_shifts(blocks.add_block(task.business, task, weekly(d, "09:00", "17:00"), now=NOW))[0]
                      for d in (0, 4))
    ana, _ = hire(task)
    ben, _ = hire(task)
    claims.claim(ana, friday, now=NOW)
    bens = claims.claim(ben, monday, now=NOW)
    swap = claims.offer_swap(ana, friday, bens.id, now=NOW)
    with pytest.raises(Forbidden):
        claims.answer_swap(factories.create_freelancer(), swap, accept=True, now=NOW)
    claims.answer_swap(ben, swap, accept=True, now=NOW)
    assert [s.holder_id for s in friday.seat_rows] == [ben.id]
    assert [s.holder_id for s in monday.seat_rows] == [ana.id]
    with pytest.raises(Conflict):
        claims.answer_swap(ben, swap, accept=True, now=NOW)


def test_the_shift_record_counts_kept_late_dropped_and_missed_shifts():
    task = hourly_task(start=date(2026, 8, 1), end=date(2026, 12, 6))
    block = blocks.add_block(task.business, task, weekly(0, "09:00", "17:00"), now=datetime(2026, 9, 1, tzinfo=UTC))
    ana, _ = hire(task)
    past = [s for s in _shifts(block) if s.end <= NOW]
    assert len(past) >= 4
    then = past[0].start - timedelta(days=3)
    for shift in past[:3]:
        claims.claim(ana, shift, now=then)
    claims.claim(ana, past[3], now=then)
    claims.drop(ana, past[3], now=past[3].start - timedelta(hours=2))     # late
    with pytest.raises(Conflict):
        records.mark_missed(task.business, past[0].seat_rows[0], now=past[0].start - timedelta(hours=1))
    records.mark_missed(task.business, past[0].seat_rows[0], now=NOW)
    with pytest.raises(Conflict):
        records.mark_missed(task.business, past[0].seat_rows[0], now=NOW)
    record = records.record_of(ana.id, NOW)
    assert (record.kept, record.missed, record.late_drops, record.total) == (2, 1, 1, 4)
    assert record.summary == "kept 2 of 4 shifts in the last 90 days"
    assert records.record_of(ana.id, NOW + timedelta(days=200)).total == 0


def test_coverage_and_who_is_on_shift_now():
    task = hourly_task(start=date(2026, 11, 23), end=date(2026, 12, 31))
    block = blocks.add_block(task.business, task, weekly(2, "09:00", "17:00", seats=2), now=NOW - timedelta(days=1))
    ana, _ = hire(task)
    today = _shifts(block)[0]
    claims.claim(ana, today, now=today.start - timedelta(hours=1))
    # Within 14 days of NOW: the shift under way (25 Nov) and 2 Dec; 9 Dec starts exactly 14 days on.
    cover = calendar.coverage(task, NOW)
    assert (cover.seat_minutes, cover.covered_minutes, cover.percent) == (4 * 480, 480, 25)
    assert [(s.id, p.id) for s, p in calendar.on_shift_now(task, NOW + timedelta(hours=1))] == [(today.id, ana.id)]
    assert calendar.on_shift_now(task, NOW + timedelta(hours=9)) == []
