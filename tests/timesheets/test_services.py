"""Timesheet rules against the real database: who may log, when, what, and what a week bills."""
from datetime import date, datetime, time, timedelta, timezone

import pytest
from sqlalchemy import func, select

from marketplace.contracts.models import ContractStatus
from marketplace.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from marketplace.extensions import db
from marketplace.timesheets import services
from marketplace.timesheets.models import TimeEntry, TimesheetWeek
from marketplace.timesheets.services import EntryInput
from tests import factories
from tests.timesheets.conftest import NOW, create_hourly_contract

UTC = timezone.utc
MONDAY = datetime(2026, 11, 23, tzinfo=UTC)


def entry(day, start, end, memo="Chat queue: 14 tickets", channel="chat"):
    return EntryInput(day=day, start=start, end=end, memo=memo, channel=channel)


def count_entries() -> int:
    return db.session.scalar(select(func.count()).select_from(TimeEntry))


def log(contract, day, start, end, now=NOW, **kw):
    return services.log_entry(contract.freelancer, contract, entry(day, start, end, **kw), now=now)


def test_logging_time_stores_utc_minutes_from_the_specialists_zone():
    contract = create_hourly_contract(zone="Europe/Madrid")
    saved = log(contract, date(2026, 11, 24), time(9), time(13, 30))
    db.session.expire_all()
    saved = db.session.get(TimeEntry, saved.id)
    assert (saved.start, saved.end) == (datetime(2026, 11, 24, 8, tzinfo=UTC), datetime(2026, 11, 24, 12, 30, tzinfo=UTC))
    assert saved.minutes == 270 and saved.memo == "Chat queue: 14 tickets" and saved.channel == "chat"
    assert saved.week_start.replace(tzinfo=UTC) == MONDAY
    # The week's limit is fixed as soon as the week has time in it.
    assert db.session.scalar(select(TimesheetWeek.limit_minutes).where(
        TimesheetWeek.contract_id == contract.id)) == 600


def test_an_entry_crossing_midnight_and_one_across_a_dst_change():
    contract = create_hourly_contract(zone="America/New_York")
    late = log(contract, date(2026, 11, 24), time(22), time(2))       # ends Wednesday 02:00 local
    assert late.minutes == 240 and late.start == datetime(2026, 11, 25, 3, tzinfo=UTC)
    # The night clocks went back in New York (Sun 1 Nov 2026): 00:30 -> 03:00 is 3.5 real hours.
    dst = create_hourly_contract(zone="America/New_York", created_at=datetime(2026, 10, 1, tzinfo=UTC))
    sunday_night = datetime(2026, 11, 1, 23, tzinfo=UTC)
    saved = log(dst, date(2026, 11, 1), time(0, 30), time(3), now=sunday_night)
    assert saved.minutes == 210 and saved.start == datetime(2026, 11, 1, 4, 30, tzinfo=UTC)


def test_a_skipped_local_time_is_a_clear_error():
    contract = create_hourly_contract(zone="Europe/Paris")
    with pytest.raises(ValidationFailed, match="02:30 doesn't exist"):
        log(contract, date(2026, 3, 29), time(2, 30), time(4), now=datetime(2026, 3, 29, 12, tzinfo=UTC))
    assert count_entries() == 0


@pytest.mark.parametrize("who", ["business", "stranger", "operator"])
def test_only_the_contracts_specialist_logs_time(who):
    contract = create_hourly_contract()
    actor = {"business": contract.business, "stranger": factories.create_freelancer(),
             "operator": factories.create_operator()}[who]
    with pytest.raises(Forbidden):
        services.log_entry(actor, contract, entry(date(2026, 11, 24), time(9), time(10)), now=NOW)
    assert count_entries() == 0


@pytest.mark.parametrize("status, message", [
    ("paused", "paused"), ("ended", "ended")])
def test_no_new_time_on_a_paused_or_ended_contract(status, message):
    contract = create_hourly_contract(status=status)
    with pytest.raises(Conflict, match=message):
        log(contract, date(2026, 11, 24), time(9), time(10))
    assert count_entries() == 0


def test_fixed_contracts_and_contracts_without_manual_time_refuse_entries():
    with pytest.raises(Conflict, match="Only hourly"):
        log(create_hourly_contract(kind="fixed"), date(2026, 11, 24), time(9), time(10))
    with pytest.raises(Conflict, match="manual time"):
        log(create_hourly_contract(manual_time_allowed=False), date(2026, 11, 24), time(9), time(10))
    assert count_entries() == 0


@pytest.mark.parametrize("day, start, end, memo, channel, error, message", [
    (date(2026, 11, 24), time(9), time(10), "   ", "chat", ValidationFailed, "what you worked on"),
    (date(2026, 11, 24), time(9), time(10), "x" * 501, "chat", ValidationFailed, "under 500"),
    (date(2026, 11, 24), time(9), time(10), "ok", "fax", ValidationFailed, "listed channels"),
    (date(2026, 11, 26), time(14), time(16), "ok", "", ValidationFailed, "in the future"),   # ends 16:00 > 15:00
    (date(2026, 11, 27), time(9), time(10), "ok", "", ValidationFailed, "in the future"),
    (date(2026, 11, 22), time(9), time(10), "ok", "", Conflict, "closed on Monday 23 Nov 00:00 UTC"),
    (date(2026, 11, 22), time(23), time(1), "ok", "", Conflict, "closed"),                   # Sun -> Mon
    (date(2026, 11, 24), time(9), time(9), "ok", "", ValidationFailed, "must differ"),
])
def test_bad_entries_are_refused_and_change_nothing(day, start, end, memo, channel, error, message):
    contract = create_hourly_contract()
    with pytest.raises(error, match=message):
        log(contract, day, start, end, memo=memo, channel=channel)
    assert count_entries() == 0


def test_no_time_before_the_contract_starts():
    contract = create_hourly_contract(starts_on=date(2026, 11, 25))
    with pytest.raises(ValidationFailed, match="starts on Wed 25 Nov 2026"):
        log(contract, date(2026, 11, 24), time(9), time(10))
    assert log(contract, date(2026, 11, 25), time(9), time(10)).minutes == 60


def test_entries_of_one_contract_never_overlap():
    contract = create_hourly_contract(zone="Europe/Madrid")
    log(contract, date(2026, 11, 24), time(9), time(13))
    for start, end in [(time(12), time(14)), (time(8), time(9, 1)), (time(10), time(11)), (time(8), time(14))]:
        with pytest.raises(ValidationFailed, match=r"overlaps your entry of Tue 24 Nov 09:00–13:00 \(Europe/Madrid\)"):
            log(contract, date(2026, 11, 24), start, end)
    # Touching is fine; another contract's entries don't count.
    log(contract, date(2026, 11, 24), time(13), time(14))
    log(create_hourly_contract(freelancer=contract.freelancer), date(2026, 11, 24), time(9), time(13))
    assert count_entries() == 3


def test_editing_an_entry_moves_it_and_keeps_the_rules():
    contract = create_hourly_contract()
    first = log(contract, date(2026, 11, 24), time(9), time(11))
    second = log(contract, date(2026, 11, 24), time(12), time(13))
    services.edit_entry(contract.freelancer, first, entry(date(2026, 11, 24), time(9, 30), time(12), memo="Longer"),
                        now=NOW)
    assert (first.minutes, first.memo) == (150, "Longer")
    with pytest.raises(ValidationFailed, match="overlaps"):
        services.edit_entry(contract.freelancer, first, entry(date(2026, 11, 24), time(9), time(12, 30)), now=NOW)
    with pytest.raises(Conflict, match="closed"):
        services.edit_entry(contract.freelancer, second, entry(date(2026, 11, 20), time(9), time(10)), now=NOW)
    with pytest.raises(Forbidden):
        services.edit_entry(contract.business, second, entry(date(2026, 11, 24), time(14), time(15)), now=NOW)
    db.session.expire_all()
    second = db.session.get(TimeEntry, second.id)
    assert (second.start.hour, second.minutes) == (12, 60)


def test_a_closed_week_can_be_neither_edited_nor_deleted():
    contract = create_hourly_contract()
    old = log(contract, date(2026, 11, 24), time(9), time(11))
    next_week = NOW + timedelta(days=7)
    with pytest.raises(Conflict, match="week of Mon 23 Nov 2026 closed"):
        services.edit_entry(contract.freelancer, old, entry(date(2026, 11, 24), time(9), time(10)), now=next_week)
    with pytest.raises(Conflict, match="closed"):
        services.delete_entry(contract.freelancer, old, now=next_week)
    assert count_entries() == 1


def test_deleting_is_for_the_specialist_and_allowed_while_paused():
    contract = create_hourly_contract()
    saved = log(contract, date(2026, 11, 24), time(9), time(11))
    with pytest.raises(Forbidden):
        services.delete_entry(contract.business, saved, now=NOW)
    contract.status, contract.paused_at = ContractStatus.PAUSED, NOW
    with pytest.raises(Conflict, match="paused"):
        services.edit_entry(contract.freelancer, saved, entry(date(2026, 11, 24), time(9), time(12)), now=NOW)
    services.delete_entry(contract.freelancer, saved, now=NOW)
    assert count_entries() == 0


def test_an_entry_is_found_only_under_its_own_contract():
    contract = create_hourly_contract()
    other = create_hourly_contract()
    saved = log(contract, date(2026, 11, 24), time(9), time(11))
    assert services.get_entry(contract, saved.id) is saved
    with pytest.raises(NotFound):
        services.get_entry(other, saved.id)
    with pytest.raises(NotFound):
        services.get_contract_for(factories.create_business(), contract.id)


def test_week_summary_bills_up_to_the_limit_and_shows_the_rest_over_it():
    contract = create_hourly_contract(rate=2550, limit_minutes=600, retainer=5000, fee_bps=1000)
    for day in (23, 24, 25):
        log(contract, date(2026, 11, day), time(9), time(13))
    summary = services.week_summary(contract, MONDAY, now=NOW)
    assert (summary.logged, summary.billable, summary.over_limit) == (720, 600, 120)
    assert [summary.allocation.part_for(e.id).over_limit for e in summary.entries] == [0, 0, 120]
    assert summary.hours_amount == 25500 and summary.retainer == 5000 and summary.amount == 30500
    assert (summary.fee, summary.payout) == (3050, 27450)
    assert summary.over_limit_amount == 5100 and summary.is_open
    # A week with nothing logged still carries the retainer; an empty past week is closed.
    last_week = services.week_summary(contract, MONDAY - timedelta(days=7), now=NOW)
    assert (last_week.logged, last_week.amount, last_week.is_open) == (0, 5000, False)


def test_week_summary_counts_an_entry_crossing_into_the_week_minute_by_minute():
    contract = create_hourly_contract(limit_minutes=60)
    # Written directly: the service can't log across the boundary (the earlier week is closed by then).
    sunday = TimeEntry(contract_id=contract.id, started_at=MONDAY - timedelta(hours=1), ended_at=MONDAY + timedelta(hours=2),
                       week_start=MONDAY - timedelta(days=7), minutes=180, memo="Night shift")
    db.session.add(sunday)
    db.session.flush()
    log(contract, date(2026, 11, 24), time(9), time(10))
    this_week = services.week_summary(contract, MONDAY, now=NOW)
    assert (this_week.logged, this_week.billable, this_week.over_limit) == (180, 60, 120)
    assert this_week.allocation.part_for(sunday.id).billable == 60
    previous = services.week_summary(contract, MONDAY - timedelta(days=7), now=NOW)
    assert (previous.logged, previous.billable) == (60, 60)


def test_a_limit_change_applies_from_the_next_week():
    contract = create_hourly_contract(limit_minutes=600)
    log(contract, date(2026, 11, 24), time(9), time(17))
    with pytest.raises(Forbidden):
        services.set_next_weekly_limit(contract.freelancer, contract, 1200, now=NOW)
    with pytest.raises(ValidationFailed):
        services.set_next_weekly_limit(contract.business, contract, 0, now=NOW)
    services.set_next_weekly_limit(contract.business, contract, 1200, now=NOW)
    this_week = services.week_summary(contract, MONDAY, now=NOW)
    assert (this_week.limit_minutes, this_week.next_limit_minutes) == (600, 1200)
    assert contract.weekly_limit_minutes == 600 and contract.next_weekly_limit_minutes == 1200

    next_week = NOW + timedelta(days=7)
    assert services.week_summary(contract, MONDAY + timedelta(days=7), now=next_week).limit_minutes == 1200
    log(contract, date(2026, 12, 1), time(9), time(10), now=next_week)
    assert (contract.weekly_limit_minutes, contract.next_weekly_limit_minutes) == (1200, None)
    # The closed week keeps the limit it had.
    assert services.week_summary(contract, MONDAY, now=next_week).limit_minutes == 600


def test_a_limit_change_in_a_quiet_week_still_waits_for_the_next_one():
    contract = create_hourly_contract(limit_minutes=600)
    services.set_next_weekly_limit(contract.business, contract, 300, now=NOW)   # nothing logged yet this week
    log(contract, date(2026, 11, 24), time(9), time(17))
    assert services.week_summary(contract, MONDAY, now=NOW).billable == 480
    # Setting it back to this week's limit cancels the change.
    services.set_next_weekly_limit(contract.business, contract, 600, now=NOW)
    assert contract.next_weekly_limit_minutes is None


def test_weekly_overview_lists_live_hourly_contracts():
    freelancer = factories.create_freelancer()
    a = create_hourly_contract(freelancer=freelancer)
    create_hourly_contract(freelancer=freelancer, status="ended")
    create_hourly_contract(freelancer=freelancer, kind="fixed")
    log(a, date(2026, 11, 24), time(9), time(10))
    overview = services.weekly_overview(freelancer, now=NOW)
    assert [(s.contract.id, s.logged, s.payout) for s in overview] == [(a.id, 60, 2295)]
    assert [s.contract.id for s in services.weekly_overview(a.business, now=NOW)] == [a.id]


def test_the_weekly_retainer_is_owed_for_weeks_the_contract_ran_in():
    contract = create_hourly_contract(retainer=5000)
    assert services.retainer_due(contract, MONDAY)
    # Paused since before the week began: no retainer; paused during it: still owed.
    contract.status, contract.paused_at = ContractStatus.PAUSED, MONDAY - timedelta(days=1)
    assert not services.retainer_due(contract, MONDAY)
    contract.paused_at = MONDAY + timedelta(days=2)
    assert services.retainer_due(contract, MONDAY)
    # Ended before the week: none; a contract starting after the week: none.
    contract.status, contract.paused_at, contract.ended_at = ContractStatus.ENDED, None, MONDAY
    assert not services.retainer_due(contract, MONDAY)
    later = create_hourly_contract(retainer=5000, starts_on=date(2026, 12, 1))
    assert not services.retainer_due(later, MONDAY) and services.retainer_due(later, MONDAY + timedelta(days=7))
    assert not services.retainer_due(create_hourly_contract(retainer=0), MONDAY)


def test_the_summaries_of_several_contracts_match_each_alone_in_a_fixed_number_of_statements():
    from tests.tasks.helpers import counting_queries
    business = factories.create_business()
    contracts = [create_hourly_contract(business, limit_minutes=limit) for limit in (600, 120, 300, 60)]
    log(contracts[0], date(2026, 11, 24), time(9), time(13))
    log(contracts[1], date(2026, 11, 24), time(9), time(13))          # 4 h against a 2 h limit
    services.set_next_weekly_limit(business, contracts[2], 900, now=NOW)   # pending, from next week
    log(contracts[3], date(2026, 11, 25), time(8), time(9))
    alone = [services.week_summary(contract, MONDAY, now=NOW) for contract in contracts]
    with counting_queries() as two:
        services.week_summaries(contracts[:2], MONDAY, now=NOW)
    with counting_queries() as four:
        together = services.week_summaries(contracts, MONDAY, now=NOW)
    assert len(four) == len(two) == 3
    assert [(s.contract.id, s.logged, s.billable, s.over_limit, s.limit_minutes, s.next_limit_minutes, s.amount,
             [e.id for e in s.entries]) for s in together] == [
        (s.contract.id, s.logged, s.billable, s.over_limit, s.limit_minutes, s.next_limit_minutes, s.amount,
         [e.id for e in s.entries]) for s in alone]
    assert [(s.billable, s.over_limit, s.next_limit_minutes) for s in together] == [
        (240, 0, None), (120, 120, None), (0, 0, 900), (60, 0, None)]
    assert services.week_summaries([], MONDAY, now=NOW) == []
