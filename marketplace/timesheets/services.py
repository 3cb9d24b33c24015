"""Timesheet use cases: log, edit and delete time on an hourly contract; weekly summaries; the weekly limit.

Every use case takes the acting user and `now` (the views pass the app's clock), checks
the rules, and only flushes. Rules, in the order they are checked:
- only the contract's specialist logs, edits or deletes time, on an hourly contract;
- new or longer time needs the contract active (paused or ended stops billable time);
  deleting an entry is allowed while paused;
- manual entries need `manual_time_allowed`;
- the contract starts once the business has saved a card (payments.saved_methods);
- a memo is required; the channel, if given, is a known support channel;
- local date + start/end in the specialist's time zone become UTC (weeks.local_span_to_utc);
- nothing ends in the future, nothing starts before the contract does;
- only the current week is open: a week closes at Monday 00:00 UTC, and neither an
  entry's old nor its new time may lie in a closed week;
- entries of one contract never overlap. Writers lock the contract row first
  (SELECT ... FOR UPDATE), so two requests can't both pass the overlap check.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from marketplace.accounts.models import User
from marketplace.contracts.models import MAX_WEEKLY_LIMIT_MINUTES, Contract, ContractKind, ContractStatus
from marketplace.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from marketplace.core.money import split_fee
from marketplace.core.reference import CHANNELS
from marketplace.core.time import UTC, as_utc
from marketplace.extensions import db
from marketplace.timesheets.models import TimeEntry, TimesheetWeek
from marketplace.timesheets.weeks import (
    WEEK, LocalTimeError, Span, WeekAllocation, allocate_week, amount_for_minutes, format_minutes,
    local_span_to_utc, week_amount, week_start, zone_named,
)

MEMO_MAX = 500


@dataclass(frozen=True)
class EntryInput:
    """What the specialist types: a local date, start and end time in their own time zone, a memo."""

    day: date
    start: time
    end: time
    memo: str
    channel: str = ""


# ---------------------------------------------------------------- loading and permissions

def get_contract_for(actor: User, contract_id: int) -> Contract:
    """The contract if the actor is its business, its specialist or an operator."""
    contract = db.session.scalar(select(Contract).where(Contract.id == contract_id)
                                 .options(selectinload(Contract.task), selectinload(Contract.business),
                                          selectinload(Contract.freelancer)))
    if contract is None or not (actor.id in (contract.business_id, contract.freelancer_id) or actor.is_operator):
        raise NotFound("We couldn't find that contract.")
    return contract


def get_entry(contract: Contract, entry_id: int) -> TimeEntry:
    """An entry of this contract (an entry of another contract is "not found", whoever asks)."""
    entry = db.session.get(TimeEntry, entry_id)
    if entry is None or entry.contract_id != contract.id:
        raise NotFound("We couldn't find that time entry on this contract.")
    return entry


def business_has_card(contract: Contract) -> bool:
    """An hourly contract starts once its business has a card on file to charge the weekly invoices to."""
    from marketplace.payments.saved_methods import has_saved_method
    return has_saved_method(contract.business_id)


def can_log_time(actor: User, contract: Contract) -> bool:
    return (actor.id == contract.freelancer_id and contract.kind == ContractKind.HOURLY
            and contract.status == ContractStatus.ACTIVE and contract.manual_time_allowed
            and business_has_card(contract))


def can_change_limit(actor: User, contract: Contract) -> bool:
    return (actor.id == contract.business_id and contract.kind == ContractKind.HOURLY
            and contract.status != ContractStatus.ENDED)


def timezone_of(user: User) -> str:
    """The user's IANA time zone from their profile (UTC without one)."""
    from marketplace.profiles.models import BusinessProfile, FreelancerProfile
    model = FreelancerProfile if user.is_freelancer else BusinessProfile if user.is_business else None
    profile = db.session.get(model, user.id) if model is not None else None
    name = getattr(profile, "timezone", None) or "UTC"
    try:
        zone_named(name)
    except LocalTimeError:
        return "UTC"
    return name


def contract_start(contract: Contract) -> datetime:
    """The first instant time can be logged: 00:00 UTC of the start date (or of the day it was made)."""
    day = contract.starts_on or as_utc(contract.created_at).date()
    return datetime.combine(day, time(0), tzinfo=UTC)


# ---------------------------------------------------------------- the weekly limit

def _latest_week_row(contract: Contract) -> datetime | None:
    return as_utc(db.session.scalar(select(func.max(TimesheetWeek.week_start))
                                    .where(TimesheetWeek.contract_id == contract.id)))


def _pending_applies(contract: Contract, week: datetime, latest: datetime | None) -> bool:
    """A pending limit change applies to a week later than every recorded week (`latest`)."""
    return contract.next_weekly_limit_minutes is not None and (latest is None or week > latest)


def _limit_of(contract: Contract, week: datetime, recorded: int | None, latest: datetime | None) -> int:
    """A week's limit: its recorded row (`recorded`), else what ensure_week would write for it."""
    if recorded is not None:
        return recorded
    if _pending_applies(contract, week, latest):
        return contract.next_weekly_limit_minutes
    return contract.weekly_limit_minutes


def _recorded_limits(contract_ids: list[int], weeks: list[datetime]):
    """For several contracts at once: the recorded limits of these weeks, by (contract id, week),
    and each contract's latest recorded week (two statements whatever the number of contracts)."""
    recorded = {(contract_id, as_utc(week)): limit for contract_id, week, limit in db.session.execute(
        select(TimesheetWeek.contract_id, TimesheetWeek.week_start, TimesheetWeek.limit_minutes)
        .where(TimesheetWeek.contract_id.in_(contract_ids), TimesheetWeek.week_start.in_(weeks)))}
    latest = {contract_id: as_utc(week) for contract_id, week in db.session.execute(
        select(TimesheetWeek.contract_id, func.max(TimesheetWeek.week_start))
        .where(TimesheetWeek.contract_id.in_(contract_ids)).group_by(TimesheetWeek.contract_id))}
    return recorded, latest


def ensure_week(contract: Contract, week: datetime) -> TimesheetWeek:
    """The (contract, week) row fixing that week's limit, written now if missing.

    A pending limit change applies to the first row written for a week later than every
    existing row, and becomes the contract's limit. Callers hold the contract row lock.
    """
    row = db.session.scalar(select(TimesheetWeek).where(
        TimesheetWeek.contract_id == contract.id, TimesheetWeek.week_start == week))
    if row is not None:
        return row
    if _pending_applies(contract, week, _latest_week_row(contract)):
        contract.weekly_limit_minutes = contract.next_weekly_limit_minutes
        contract.next_weekly_limit_minutes = None
    row = TimesheetWeek(contract_id=contract.id, week_start=week, limit_minutes=contract.weekly_limit_minutes)
    db.session.add(row)
    db.session.flush()
    return row


def set_next_weekly_limit(actor: User, contract: Contract, minutes: int, *, now: datetime) -> Contract:
    """The business changes the weekly limit; it applies from next Monday 00:00 UTC."""
    if actor.id != contract.business_id:
        raise Forbidden("Only the business on this contract can change its weekly limit.")
    contract = _lock(contract)
    if contract.kind != ContractKind.HOURLY:
        raise Conflict("Only hourly contracts have a weekly limit.")
    if contract.status == ContractStatus.ENDED:
        raise Conflict("This contract has ended.")
    if not 1 <= minutes <= MAX_WEEKLY_LIMIT_MINUTES:
        raise ValidationFailed(f"The weekly limit must be between 1 minute and "
                               f"{MAX_WEEKLY_LIMIT_MINUTES // 60} hours.", field="hours")
    # Fix this week's limit first, so the change can only reach later weeks.
    current = ensure_week(contract, week_start(now))
    contract.next_weekly_limit_minutes = None if minutes == current.limit_minutes else minutes
    db.session.flush()
    return contract


# ---------------------------------------------------------------- entries

def _lock(contract: Contract) -> Contract:
    """Lock the contract row for this transaction and re-read it (a pause may just have landed).

    PostgreSQL holds the row lock until commit; SQLite ignores FOR UPDATE but lets one
    writer at a time through, so the overlap check is still serialised there.
    """
    locked = db.session.scalar(select(Contract).where(Contract.id == contract.id).with_for_update()
                               .execution_options(populate_existing=True))
    if locked is None:
        raise NotFound("We couldn't find that contract.")
    return locked


def _check_can_add_time(actor: User, contract: Contract) -> None:
    if actor.id != contract.freelancer_id:
        raise Forbidden("Only the specialist on this contract can log time on it.")
    if contract.kind != ContractKind.HOURLY:
        raise Conflict("Only hourly contracts have a timesheet.")
    if contract.status == ContractStatus.PAUSED:
        raise Conflict("This contract is paused: no new time can be logged until it is resumed.")
    if contract.status == ContractStatus.ENDED:
        raise Conflict("This contract has ended: its timesheet is closed.")
    if not contract.manual_time_allowed:
        raise Conflict("This contract doesn't allow manual time entries.")
    if not business_has_card(contract):
        raise Conflict("This contract starts once the business has saved a card for the weekly invoices. "
                       "You'll be able to log time as soon as they do.")


def _closed_week_error(week: datetime, zone: str) -> Conflict:
    return Conflict(f"The week of {week:%a %d %b %Y} closed on Monday {(week + WEEK):%d %b} 00:00 UTC: "
                    "its time can no longer be added, changed or deleted.", field="day")


def _local(instant: datetime, zone: str) -> datetime:
    return instant.astimezone(zone_named(zone))


def describe_span(start: datetime, end: datetime, zone: str) -> str:
    """'Tue 24 Nov 09:00–13:00' in the zone (the end's date shown when it differs)."""
    a, b = _local(start, zone), _local(end, zone)
    tail = f"{b:%H:%M}" if a.date() == b.date() else f"{b:%a %d %b %H:%M}"
    return f"{a:%a %d %b %H:%M}–{tail}"


def _span_for(actor: User, contract: Contract, data: EntryInput, *, now: datetime,
              exclude_id: int | None = None) -> tuple[Span, str, str]:
    memo = (data.memo or "").strip()
    if not memo:
        raise ValidationFailed("Please say what you worked on (tickets handled, channel...).", field="memo")
    if len(memo) > MEMO_MAX:
        raise ValidationFailed(f"Keep the memo under {MEMO_MAX} characters.", field="memo")
    channel = data.channel or ""
    if channel and channel not in CHANNELS:
        raise ValidationFailed("Choose one of the listed channels.", field="channel")
    zone = timezone_of(actor)
    # Far-off dates are refused before any time zone arithmetic (which overflows near year 1 or 9999).
    if data.day > now.date() + timedelta(days=2):
        raise ValidationFailed("That date is in the future. Log time once it's been worked.", field="day")
    if data.day < week_start(now).date() - timedelta(days=7):
        raise Conflict(f"Only this week's time can be logged or changed (from Monday "
                       f"{week_start(now):%d %b} 00:00 UTC); earlier weeks are closed.", field="day")
    try:
        span = local_span_to_utc(data.day, data.start, data.end, zone)
    except LocalTimeError as error:
        raise ValidationFailed(str(error), field="start") from error
    if span.end > now:
        raise ValidationFailed(f"That entry ends in the future ({describe_span(span.start, span.end, zone)}, "
                               f"{zone}). Log time once it's been worked.", field="end")
    if week_start(span.start) < week_start(now):
        raise _closed_week_error(week_start(span.start), zone)
    if span.start < contract_start(contract):
        raise ValidationFailed(f"The contract starts on {contract_start(contract):%a %d %b %Y} (UTC): "
                               "time before that can't be logged.", field="day")
    clash = db.session.scalar(
        select(TimeEntry).where(TimeEntry.contract_id == contract.id, TimeEntry.started_at < span.end,
                                TimeEntry.ended_at > span.start,
                                TimeEntry.id != (exclude_id if exclude_id is not None else -1))
        .order_by(TimeEntry.started_at).limit(1))
    if clash is not None:
        raise ValidationFailed(f"That overlaps your entry of {describe_span(clash.start, clash.end, zone)} "
                               f"({zone}). Entries on one contract can't overlap.", field="start")
    return span, memo, channel


def log_entry(actor: User, contract: Contract, data: EntryInput, *, now: datetime) -> TimeEntry:
    if actor.id != contract.freelancer_id:
        raise Forbidden("Only the specialist on this contract can log time on it.")
    contract = _lock(contract)
    _check_can_add_time(actor, contract)
    span, memo, channel = _span_for(actor, contract, data, now=now)
    week = week_start(span.start)
    ensure_week(contract, week)
    entry = TimeEntry(contract_id=contract.id, started_at=span.start, ended_at=span.end, week_start=week,
                      minutes=span.minutes, memo=memo, channel=channel, source="manual")
    db.session.add(entry)
    db.session.flush()
    return entry


def edit_entry(actor: User, entry: TimeEntry, data: EntryInput, *, now: datetime) -> TimeEntry:
    contract = entry.contract
    if actor.id != contract.freelancer_id:
        raise Forbidden("Only the specialist on this contract can change its time entries.")
    contract = _lock(contract)
    _check_can_add_time(actor, contract)
    if week_start(entry.start) < week_start(now):
        raise _closed_week_error(week_start(entry.start), timezone_of(actor))
    span, memo, channel = _span_for(actor, contract, data, now=now, exclude_id=entry.id)
    week = week_start(span.start)
    ensure_week(contract, week)
    entry.started_at, entry.ended_at, entry.week_start, entry.minutes = span.start, span.end, week, span.minutes
    entry.memo, entry.channel = memo, channel
    db.session.flush()
    return entry


def delete_entry(actor: User, entry: TimeEntry, *, now: datetime) -> None:
    contract = entry.contract
    if actor.id != contract.freelancer_id:
        raise Forbidden("Only the specialist on this contract can delete its time entries.")
    contract = _lock(contract)
    if contract.status == ContractStatus.ENDED:
        raise Conflict("This contract has ended: its timesheet is closed.")
    if week_start(entry.start) < week_start(now):
        raise _closed_week_error(week_start(entry.start), timezone_of(actor))
    db.session.delete(entry)
    db.session.flush()


def entries_of(contract: Contract) -> list[TimeEntry]:
    """Every time entry of the contract, newest first."""
    return list(db.session.scalars(select(TimeEntry).where(TimeEntry.contract_id == contract.id)
                                   .order_by(TimeEntry.started_at.desc(), TimeEntry.id.desc())))


def _entries_for_week(contract_ids: list[int], week: datetime) -> dict[int, list[TimeEntry]]:
    """Each contract's entries with time in the week [week, week + 7 days), including one carried
    over from the week before (one statement for every contract)."""
    found: dict[int, list[TimeEntry]] = {contract_id: [] for contract_id in contract_ids}
    for entry in db.session.scalars(
            select(TimeEntry).where(TimeEntry.contract_id.in_(contract_ids),
                                    TimeEntry.week_start.in_([week - WEEK, week]),
                                    TimeEntry.ended_at > week, TimeEntry.started_at < week + WEEK)
            .order_by(TimeEntry.contract_id, TimeEntry.started_at, TimeEntry.id)):
        found[entry.contract_id].append(entry)
    return found


# ---------------------------------------------------------------- weekly summary (what billing relies on)

def retainer_due(contract: Contract, week: datetime) -> bool:
    """A week carries the weekly retainer if the contract ran in it at all: started before the week
    ended, not ended before it began, and not paused since before it began."""
    if not contract.weekly_retainer:
        return False
    if contract_start(contract) >= week + WEEK:
        return False
    if contract.ended_at is not None and as_utc(contract.ended_at) <= week:
        return False
    if contract.status == ContractStatus.PAUSED and contract.paused_at is not None and as_utc(contract.paused_at) <= week:
        return False
    return True


@dataclass(frozen=True)
class WeekSummary:
    contract: Contract
    week_start: datetime
    limit_minutes: int
    next_limit_minutes: int | None   # pending change, applies from the next week
    allocation: WeekAllocation
    entries: tuple[TimeEntry, ...]
    hourly_rate: int
    retainer: int                    # minor units owed for this week (0 if not due)
    hours_amount: int                # billable minutes x rate / 60, rounded half up once for the week
    amount: int                      # hours_amount + retainer: what the week's invoice charges
    fee: int
    payout: int                      # amount - fee: what the specialist receives
    is_open: bool                    # the current week: entries can still change

    @property
    def week_end(self) -> datetime:
        return self.week_start + WEEK

    @property
    def last_day(self) -> date:
        return (self.week_start + timedelta(days=6)).date()

    @property
    def logged(self) -> int:
        return self.allocation.logged

    @property
    def billable(self) -> int:
        return self.allocation.billable

    @property
    def over_limit(self) -> int:
        return self.allocation.over_limit

    @property
    def over_limit_amount(self) -> int:
        """What the unbilled over-limit time would cost at the rate (a bonus the business may pay)."""
        return amount_for_minutes(self.over_limit, self.hourly_rate)

    @property
    def currency(self) -> str:
        return self.contract.currency

    def hours(self, minutes: int) -> str:
        return format_minutes(minutes)


def week_summary(contract: Contract, week: datetime, *, now: datetime) -> WeekSummary:
    """Minutes logged, billable and over the limit in `week`, and the expected amount before and after the fee.

    The weekly invoice bills exactly `amount` (= hours_amount + retainer) for `billable` minutes.
    """
    return week_summaries([contract], week, now=now)[0]


def week_summaries(contracts: list[Contract], week: datetime, *, now: datetime) -> list[WeekSummary]:
    """week_summary of each of these contracts, in three statements whatever their number."""
    if any(contract.kind != ContractKind.HOURLY for contract in contracts):
        raise Conflict("Only hourly contracts have a timesheet.")
    if not contracts:
        return []
    week = week_start(week)
    ids = [contract.id for contract in contracts]
    entries = _entries_for_week(ids, week)
    recorded, latest = _recorded_limits(ids, [week, week + WEEK])
    return [_summary(contract, week, entries[contract.id],
                     limit=_limit_of(contract, week, recorded.get((contract.id, week)), latest.get(contract.id)),
                     next_week_limit=_limit_of(contract, week + WEEK, recorded.get((contract.id, week + WEEK)),
                                               latest.get(contract.id)),
                     now=now)
            for contract in contracts]


def _summary(contract: Contract, week: datetime, entries: list[TimeEntry], *, limit: int, next_week_limit: int,
             now: datetime) -> WeekSummary:
    allocation = allocate_week([(e.id, e.start, e.end) for e in entries], week, limit)
    rate = contract.hourly_rate or 0
    retainer = contract.weekly_retainer if retainer_due(contract, week) else 0
    hours_amount = amount_for_minutes(allocation.billable, rate)
    amount = week_amount(allocation.billable, rate, retainer)
    fee, payout = split_fee(amount, contract.fee_bps)
    pending = contract.next_weekly_limit_minutes if next_week_limit != limit else None
    return WeekSummary(contract=contract, week_start=week, limit_minutes=limit, next_limit_minutes=pending,
                       allocation=allocation, entries=tuple(entries), hourly_rate=rate, retainer=retainer,
                       hours_amount=hours_amount, amount=amount, fee=fee, payout=payout,
                       is_open=week == week_start(now))


def hourly_contracts_of(actor: User) -> list[Contract]:
    """The actor's hourly contracts that aren't ended, newest first (dashboard and "Log time")."""
    column = Contract.freelancer_id if actor.is_freelancer else Contract.business_id
    return list(db.session.scalars(
        select(Contract).where(column == actor.id, Contract.kind == ContractKind.HOURLY,
                               Contract.status != ContractStatus.ENDED)
        .order_by(Contract.created_at.desc(), Contract.id.desc())
        .options(selectinload(Contract.task), selectinload(Contract.business), selectinload(Contract.freelancer))))


def weekly_overview(actor: User, *, now: datetime) -> list[WeekSummary]:
    """This week's summary of each of the actor's live hourly contracts."""
    return week_summaries(hourly_contracts_of(actor), week_start(now), now=now)
