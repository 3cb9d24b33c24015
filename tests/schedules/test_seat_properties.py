"""Property: whatever mix of claims, drops, assignments and series claims happens, no seat is given
twice, nobody holds two seats of a shift, and nobody holds overlapping shifts."""
from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import select

from marketplace.core.errors import DomainError
from marketplace.extensions import db
from marketplace.schedules import blocks, claims
from marketplace.schedules.models import Shift, ShiftSeat
from tests.schedules.helpers import NOW, hire, hourly_task, weekly

ACTIONS = st.lists(st.tuples(st.sampled_from(["claim", "series", "drop", "assign"]), st.integers(0, 2),
                             st.integers(0, 5)), min_size=1, max_size=25)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=ACTIONS)
def test_no_seat_is_double_claimed(app, actions):
    savepoint = db.session.begin_nested()
    try:
        task = hourly_task(start=date(2026, 11, 23), end=date(2026, 12, 20))
        people = [hire(task)[0] for _ in range(3)]
        # Two overlapping blocks on Mondays and one on Tuesdays: clashes are possible.
        for data in (weekly(0, "09:00", "17:00", seats=2), weekly(0, "16:00", "20:00"), weekly(1, "09:00", "12:00")):
            blocks.add_block(task.business, task, data, now=NOW)
        shifts = list(db.session.scalars(select(Shift).where(Shift.task_id == task.id).order_by(Shift.starts_at)))
        for action, who, which in actions:
            shift, person = shifts[which % len(shifts)], people[who]
            try:
                with db.session.begin_nested():
                    if action == "claim":
                        claims.claim(person, shift, now=NOW)
                    elif action == "series":
                        claims.claim_series(person, shift, now=NOW)
                    elif action == "drop":
                        claims.drop(person, shift, now=NOW)
                    else:
                        claims.assign(task.business, shift, person.id, now=NOW)
            except DomainError:
                pass
        db.session.expire_all()
        held = db.session.execute(select(ShiftSeat.shift_id, ShiftSeat.holder_id, Shift.starts_at, Shift.ends_at)
                                  .join(Shift, Shift.id == ShiftSeat.shift_id)
                                  .where(ShiftSeat.holder_id.is_not(None))).all()
        pairs = [(s, h) for s, h, _, _ in held]
        assert len(pairs) == len(set(pairs))
        for shift in shifts:
            assert len(shift.seat_rows) == shift.seats
        for person in people:
            mine = sorted((a, b) for _, h, a, b in held if h == person.id)
            assert all(earlier[1] <= later[0] for earlier, later in zip(mine, mine[1:]))
    finally:
        savepoint.rollback()
