"""Seats in shifts: claim (one, or every week of a block), assign, drop, swap.

Rules, in one place:
- only a specialist with an active hourly contract on the task holds a seat in its shifts
  (claims it, or the business assigns them), and only before the shift starts;
- a seat is never given twice: a seat is taken by `UPDATE ... WHERE holder_id IS NULL`
  checked by its rowcount, and one person holds at most one seat of a shift (unique);
- nobody holds two overlapping shifts, across all their contracts: the claim is refused
  naming the clashing shift (the specialist's user row is locked first, so two parallel
  claims of overlapping shifts by one person can't both pass the check);
- a seat can be dropped until the shift starts; less than SHIFT_DROP_NOTICE_HOURS before
  it, the drop is late and counts against the specialist's record. The other hired
  specialists and the business are told the seat is open again;
- a swap is offered by one holder for another holder's seat on the same task and takes
  effect when the second one confirms, if both still hold their seats and neither ends
  up with overlapping shifts;
- a paused or ended contract can't work shifts: its seats in shifts that haven't started
  open again (`release_contract_seats`, in the transaction that pauses or ends it). A seat
  is taken or swapped only under a share lock of the active contract it is held through,
  so a claim in flight either commits before the pause or end (which then releases it) or
  waits for it and finds the contract no longer active.
Functions take `now` and only flush.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from marketplace.accounts.models import User
from marketplace.contracts.models import Contract, ContractKind, ContractStatus
from marketplace.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from marketplace.extensions import db
from marketplace.notifications.services import notify
from marketplace.schedules.calendar import describe_shift
from marketplace.schedules.models import Shift, ShiftDrop, ShiftSeat, ShiftSwap

NO_SEAT = "Every seat in this shift is taken."


# ---------------------------------------------------------------- loading and who may hold seats

def get_shift(shift_id: int) -> Shift:
    shift = db.session.scalar(select(Shift).where(Shift.id == shift_id)
                              .options(selectinload(Shift.seat_rows), selectinload(Shift.task)))
    if shift is None:
        raise NotFound("We couldn't find that shift.")
    return shift


def hiring_contract(task_id: int, user_id: int, *, lock: bool = False) -> Contract | None:
    """The user's active hourly contract on the task, if any. `lock`: share-locked until the transaction ends
    (PostgreSQL), so it can't be paused or ended while a seat is given through it."""
    stmt = select(Contract).where(
        Contract.task_id == task_id, Contract.freelancer_id == user_id, Contract.kind == ContractKind.HOURLY,
        Contract.status == ContractStatus.ACTIVE).order_by(Contract.id).limit(1)
    return db.session.scalar(stmt.with_for_update(read=True) if lock else stmt)


def hired_specialists(task_id: int) -> list[User]:
    return list(db.session.scalars(
        select(User).join(Contract, Contract.freelancer_id == User.id)
        .where(Contract.task_id == task_id, Contract.kind == ContractKind.HOURLY,
               Contract.status == ContractStatus.ACTIVE).distinct().order_by(User.full_name, User.id)))


def get_shift_for(actor: User, shift_id: int) -> Shift:
    """The shift if the actor is its task's business, a specialist hired on it, or an operator."""
    shift = get_shift(shift_id)
    if not (actor.id == shift.task.business_id or actor.is_operator
            or hiring_contract(shift.task_id, actor.id) is not None
            or any(s.holder_id == actor.id for s in shift.seat_rows)):
        raise NotFound("We couldn't find that shift.")
    return shift


def _check_open(shift: Shift, now: datetime) -> None:
    if shift.cancelled_at is not None:
        raise Conflict("This shift was removed from the schedule.")
    if shift.start <= now:
        raise Conflict("This shift has already started.")


def clash_for(user_id: int, start: datetime, end: datetime, *, ignore_seat_ids: tuple[int, ...] = ()) -> Shift | None:
    """A live shift the user holds that overlaps [start, end), across all their contracts."""
    stmt = (select(Shift).join(ShiftSeat, ShiftSeat.shift_id == Shift.id)
            .where(ShiftSeat.holder_id == user_id, Shift.cancelled_at.is_(None),
                   Shift.starts_at < end, Shift.ends_at > start)
            .options(selectinload(Shift.task)).order_by(Shift.starts_at).limit(1))
    if ignore_seat_ids:
        stmt = stmt.where(ShiftSeat.id.not_in(ignore_seat_ids))
    return db.session.scalar(stmt)


def _clash_message(clash: Shift, who: str = "You") -> str:
    return f"{who} already hold{'s' if who != 'You' else ''} an overlapping shift: {clash.task.title}, {describe_shift(clash)}."


def _lock_person(user_id: int) -> None:
    # PostgreSQL: serialise one person's claims (SQLite serialises every writer anyway).
    db.session.execute(select(User.id).where(User.id == user_id).with_for_update())


def _take_seat(shift: Shift, user_id: int, contract: Contract, now: datetime, *, by_business: bool) -> ShiftSeat:
    """Give the user a free seat of the shift, or raise Conflict. Race-safe on both databases."""
    if any(s.holder_id == user_id for s in shift.seat_rows):
        raise Conflict("You already hold a seat in this shift." if not by_business
                       else "They already hold a seat in this shift.")
    free = list(db.session.scalars(select(ShiftSeat.id).where(ShiftSeat.shift_id == shift.id,
                                                             ShiftSeat.holder_id.is_(None))
                                   .order_by(ShiftSeat.seat_no)))
    for seat_id in free:
        try:
            with db.session.begin_nested():
                taken = db.session.execute(
                    update(ShiftSeat).where(ShiftSeat.id == seat_id, ShiftSeat.holder_id.is_(None))
                    .values(holder_id=user_id, contract_id=contract.id, claimed_at=now, reminded_at=None,
                            followup_sent_at=None, missed_at=None, assigned_by_business=by_business)
                    .execution_options(synchronize_session=False))
        except IntegrityError:   # a parallel request gave this person a seat of the shift
            raise Conflict("You already hold a seat in this shift.")
        if taken.rowcount == 1:
            seat = db.session.get(ShiftSeat, seat_id)
            db.session.refresh(seat)
            db.session.refresh(shift)
            return seat
    raise Conflict(NO_SEAT)


def claim(actor: User, shift: Shift, *, now: datetime) -> ShiftSeat:
    """The actor (a hired specialist) takes an open seat of the shift."""
    contract = hiring_contract(shift.task_id, actor.id, lock=True)
    if contract is None:
        raise Forbidden("Only specialists with an active hourly contract on this task can claim its shifts.")
    _check_open(shift, now)
    _lock_person(actor.id)
    clash = clash_for(actor.id, shift.start, shift.end)
    if clash is not None and clash.id != shift.id:
        raise Conflict(_clash_message(clash))
    return _take_seat(shift, actor.id, contract, now, by_business=False)


def claim_series(actor: User, shift: Shift, *, now: datetime) -> tuple[list[ShiftSeat], list[str]]:
    """Claim this shift and every later one of its block ("every Monday"): the ones that can be
    claimed are, the others are listed with the reason. Nothing is claimed if the first one fails."""
    first = claim(actor, shift, now=now)
    seats, skipped = [first], []
    later = db.session.scalars(select(Shift).where(Shift.block_id == shift.block_id, Shift.starts_at > shift.starts_at,
                                                   Shift.cancelled_at.is_(None))
                               .options(selectinload(Shift.seat_rows), selectinload(Shift.task))
                               .order_by(Shift.starts_at)).all()
    for other in later:
        if any(s.holder_id == actor.id for s in other.seat_rows):
            continue
        try:
            with db.session.begin_nested():
                seats.append(claim(actor, other, now=now))
        except Conflict as refusal:
            skipped.append(f"{describe_shift(other)}: {refusal.message}")
    return seats, skipped


def assign(actor: User, shift: Shift, specialist_id: int, *, now: datetime) -> ShiftSeat:
    """The task's business gives an open seat to one of its hired specialists."""
    if actor.id != shift.task.business_id:
        raise Forbidden("Only the business that posted this task can assign its shifts.")
    contract = hiring_contract(shift.task_id, specialist_id, lock=True)
    if contract is None:
        raise ValidationFailed("Choose a specialist with an active hourly contract on this task.",
                               field="specialist_id")
    _check_open(shift, now)
    _lock_person(specialist_id)
    person = db.session.get(User, specialist_id)
    clash = clash_for(specialist_id, shift.start, shift.end)
    if clash is not None and clash.id != shift.id:
        raise Conflict(_clash_message(clash, person.full_name))
    seat = _take_seat(shift, specialist_id, contract, now, by_business=True)
    notify(specialist_id, "shift_assigned", f"You have a new shift: {shift.task.title}",
           f"{actor.full_name} assigned you {describe_shift(shift)}.", "/shifts/mine")
    return seat


def seat_of(shift: Shift, user_id: int) -> ShiftSeat:
    seat = next((s for s in shift.seat_rows if s.holder_id == user_id), None)
    if seat is None:
        raise Conflict("You don't hold a seat in this shift.")
    return seat


def is_late_drop(shift: Shift, now: datetime) -> bool:
    return shift.start - now < timedelta(hours=current_app.config["SHIFT_DROP_NOTICE_HOURS"])


# A seat given back (a drop) or taken back (a contract that stops): nobody's, with nothing of its last
# holder left on it (reminder and follow-up sent, a miss, who assigned it).
OPEN_SEAT = dict(holder_id=None, contract_id=None, claimed_at=None, reminded_at=None, followup_sent_at=None,
                 missed_at=None, assigned_by_business=False)


def drop(actor: User, shift: Shift, *, now: datetime) -> ShiftDrop:
    """The holder gives their seat back. Late inside the notice period; the seat reopens and people are told."""
    _check_open(shift, now)
    seat = seat_of(shift, actor.id)
    released = db.session.execute(
        update(ShiftSeat).where(ShiftSeat.id == seat.id, ShiftSeat.holder_id == actor.id)
        .values(**OPEN_SEAT).execution_options(synchronize_session=False))
    if released.rowcount != 1:
        raise Conflict("You don't hold a seat in this shift.")
    late = is_late_drop(shift, now)
    record = ShiftDrop(shift_id=shift.id, specialist_id=actor.id, late=late, dropped_at=now)
    db.session.add(record)
    db.session.flush()
    db.session.refresh(shift)
    for seat_row in shift.seat_rows:
        db.session.refresh(seat_row)
    when = describe_shift(shift)
    for person in hired_specialists(shift.task_id):
        if person.id != actor.id:
            notify(person, "shift_open", f"A shift opened up: {shift.task.title}",
                   f"{actor.full_name} dropped {when}. Claim the seat if you can cover it.", "/shifts/mine")
    notify(shift.task.business_id, "shift_dropped",
           f"{'Late drop' if late else 'Shift dropped'}: {shift.task.title}",
           f"{actor.full_name} dropped {when}"
           + (f", less than {current_app.config['SHIFT_DROP_NOTICE_HOURS']} h before it starts." if late else ".")
           + " The other hired specialists were told the seat is open.",
           f"/tasks/{shift.task_id}/schedule?week={shift.local_date.isoformat()}")
    return record


# ---------------------------------------------------------------- a contract that stops

def release_contract_seats(contract: Contract, *, now: datetime, reason: str) -> list[Shift]:
    """The contract was paused or ended (`reason`: "paused", "ended"), so it can't work shifts: the seats its
    specialist holds through it in shifts starting after `now` open again, and pending swaps of those seats
    are called off. A shift already under way (or past) stays theirs. The business and the other hired
    specialists are told. Not a drop: it doesn't count against the specialist's record. Only flushes;
    returns the shifts whose seat was released, earliest first."""
    seats = db.session.scalars(
        select(ShiftSeat).join(Shift, Shift.id == ShiftSeat.shift_id)
        .where(ShiftSeat.contract_id == contract.id, Shift.starts_at > now, Shift.cancelled_at.is_(None))
        .options(selectinload(ShiftSeat.shift).selectinload(Shift.task))).all()
    if not seats:
        return []
    seat_ids = [seat.id for seat in seats]
    db.session.execute(
        update(ShiftSeat).where(ShiftSeat.id.in_(seat_ids), ShiftSeat.contract_id == contract.id)
        .values(**OPEN_SEAT).execution_options(synchronize_session=False))
    db.session.execute(
        update(ShiftSwap).where(ShiftSwap.status == "pending",
                                or_(ShiftSwap.from_seat_id.in_(seat_ids), ShiftSwap.to_seat_id.in_(seat_ids)))
        .values(status="cancelled", decided_at=now).execution_options(synchronize_session=False))
    for seat in seats:
        db.session.expire(seat)
    shifts = sorted({seat.shift for seat in seats}, key=lambda shift: shift.start)
    task, first = shifts[0].task, shifts[0]
    person = db.session.get(User, contract.freelancer_id)
    count = f"{len(shifts)} upcoming shift{'s' if len(shifts) != 1 else ''}"
    notify(task.business_id, "shifts_released", f"{count} open again: {task.title}",
           f"The contract with {person.full_name} was {reason}, so their {count} (from {describe_shift(first)}) "
           "are open again. Assign another hired specialist or find one for the open hours.",
           f"/tasks/{task.id}/schedule?week={first.local_date.isoformat()}")
    for other in hired_specialists(task.id):
        if other.id != contract.freelancer_id:
            notify(other, "shift_open", f"Shifts opened up: {task.title}",
                   f"{count} (from {describe_shift(first)}) are open again. Claim a seat if you can cover it.",
                   "/shifts/mine")
    return shifts


def released_note(shifts: list[Shift]) -> str:
    """A sentence for the pause/end notices: how many shifts `release_contract_seats` opened ("" for none)."""
    n = len(shifts)
    return f" The specialist's {n} upcoming shift{'s are' if n != 1 else ' is'} open again." if n else ""


# ---------------------------------------------------------------- swaps

def offer_swap(actor: User, my_shift: Shift, their_seat_id: int, *, now: datetime) -> ShiftSwap:
    mine = seat_of(my_shift, actor.id)
    _check_open(my_shift, now)
    theirs = db.session.get(ShiftSeat, their_seat_id)
    if theirs is None or theirs.holder_id is None or theirs.holder_id == actor.id:
        raise ValidationFailed("Choose a shift another specialist holds.", field="seat_id")
    other_shift = theirs.shift
    if other_shift.task_id != my_shift.task_id:
        raise ValidationFailed("Swaps are between shifts of the same task.", field="seat_id")
    if other_shift.id == my_shift.id:
        raise ValidationFailed("You both hold this shift already.", field="seat_id")
    _check_open(other_shift, now)
    pending = db.session.scalar(select(ShiftSwap.id).where(ShiftSwap.from_seat_id == mine.id,
                                                          ShiftSwap.to_seat_id == theirs.id,
                                                          ShiftSwap.status == "pending"))
    if pending is not None:
        raise Conflict("You already offered this swap.")
    swap = ShiftSwap(from_seat_id=mine.id, to_seat_id=theirs.id, requester_id=actor.id,
                     counterpart_id=theirs.holder_id, status="pending", created_at=now)
    db.session.add(swap)
    db.session.flush()
    notify(theirs.holder_id, "shift_swap", f"{actor.full_name} offers a shift swap",
           f"They would take your {describe_shift(other_shift)} and give you {describe_shift(my_shift)} "
           f"({my_shift.task.title}). Confirm or decline on My shifts.", "/shifts/mine")
    return swap


def get_swap_for(actor: User, swap_id: int) -> ShiftSwap:
    swap = db.session.get(ShiftSwap, swap_id)
    if swap is None or actor.id not in (swap.requester_id, swap.counterpart_id):
        raise NotFound("We couldn't find that swap.")
    return swap


def answer_swap(actor: User, swap: ShiftSwap, *, accept: bool, now: datetime) -> ShiftSwap:
    """The second specialist confirms (the seats change hands) or declines; the offerer may cancel."""
    if swap.status != "pending":
        raise Conflict("This swap was already answered.")
    if actor.id == swap.requester_id and not accept:
        swap.status, swap.decided_at = "cancelled", now
        db.session.flush()
        return swap
    if actor.id != swap.counterpart_id:
        raise Forbidden("Only the specialist asked can confirm this swap.")
    if not accept:
        swap.status, swap.decided_at = "declined", now
        db.session.flush()
        notify(swap.requester_id, "shift_swap", "Shift swap declined",
               f"{actor.full_name} declined your swap offer.", "/shifts/mine")
        return swap
    give, take = swap.to_seat, swap.from_seat     # the counterpart gives `to_seat`, takes `from_seat`
    for shift in (give.shift, take.shift):
        _check_open(shift, now)
    requester_contract = hiring_contract(give.shift.task_id, swap.requester_id, lock=True)
    my_contract = hiring_contract(take.shift.task_id, actor.id, lock=True)
    if requester_contract is None or my_contract is None:
        raise Conflict("One of you no longer has an active contract on this task.")
    for person in sorted((swap.requester_id, actor.id)):
        _lock_person(person)
    clash = clash_for(actor.id, take.shift.start, take.shift.end, ignore_seat_ids=(give.id,))
    if clash is not None:
        raise Conflict(_clash_message(clash))
    clash = clash_for(swap.requester_id, give.shift.start, give.shift.end, ignore_seat_ids=(take.id,))
    if clash is not None:
        raise Conflict(_clash_message(clash, swap.requester.full_name))
    moved = db.session.execute(update(ShiftSeat).where(
        ShiftSeat.id == take.id, ShiftSeat.holder_id == swap.requester_id)
        .values(holder_id=actor.id, contract_id=my_contract.id, claimed_at=now, reminded_at=None)
        .execution_options(synchronize_session=False)).rowcount
    moved += db.session.execute(update(ShiftSeat).where(
        ShiftSeat.id == give.id, ShiftSeat.holder_id == actor.id)
        .values(holder_id=swap.requester_id, contract_id=requester_contract.id, claimed_at=now, reminded_at=None)
        .execution_options(synchronize_session=False)).rowcount
    if moved != 2:
        raise Conflict("One of these shifts changed hands in the meantime; the swap is off.")
    swap.status, swap.decided_at = "accepted", now
    db.session.flush()
    db.session.refresh(take)
    db.session.refresh(give)
    notify(swap.requester_id, "shift_swap", "Shift swap confirmed",
           f"{actor.full_name} confirmed: you now hold {describe_shift(give.shift)}.", "/shifts/mine")
    return swap


def pending_swaps_for(user: User) -> list[ShiftSwap]:
    return list(db.session.scalars(
        select(ShiftSwap).where(ShiftSwap.status == "pending",
                                (ShiftSwap.counterpart_id == user.id) | (ShiftSwap.requester_id == user.id))
        .order_by(ShiftSwap.created_at)))
