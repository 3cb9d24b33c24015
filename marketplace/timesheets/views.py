"""Timesheet pages: the week grid of a contract, logging/editing/deleting time, the weekly limit."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from marketplace.core.errors import Forbidden
from marketplace.core.forms import commit_or_refuse
from marketplace.core.time import app_now
from marketplace.extensions import db
from marketplace.timesheets import services
from marketplace.timesheets.forms import ConfirmForm, EntryForm, LimitForm
from marketplace.timesheets.models import TimeEntry
from marketplace.timesheets.weeks import (
    MINUTE, WEEK, EntryPart, split_at_midnights, week_start, week_start_of_date, zone_named,
)

bp = Blueprint("timesheets", __name__)


@bp.app_context_processor
def _timesheet_helpers():
    """`timesheet_this_week(contract)` for the contract page's timesheet section."""
    def timesheet_this_week(contract):
        return services.week_summary(contract, week_start(app_now()), now=app_now())
    return {"timesheet_this_week": timesheet_this_week}


@dataclass
class EntryRow:
    entry: TimeEntry
    part: EntryPart | None
    start_local: datetime
    end_local: datetime

    @property
    def crosses_midnight(self) -> bool:
        return self.start_local.date() != self.end_local.date()


@dataclass
class DayRow:
    day: date
    entries: list[EntryRow] = field(default_factory=list)
    minutes: int = 0


def _week_arg(now: datetime) -> datetime:
    """?week=YYYY-MM-DD (any day of it, read as a UTC date); the current week otherwise or if unreadable."""
    raw = request.args.get("week", "")
    try:
        chosen = week_start_of_date(date.fromisoformat(raw)) if raw else week_start(now)
    except (ValueError, OverflowError):
        chosen = week_start(now)
    return min(chosen, week_start(now))  # no week after the current one has anything to show


def _grid(summary: services.WeekSummary, zone_name: str) -> list[DayRow]:
    zone = zone_named(zone_name)
    first = summary.week_start.astimezone(zone).date()
    last = (summary.week_end - MINUTE).astimezone(zone).date()
    rows = {first + timedelta(days=i): DayRow(first + timedelta(days=i)) for i in range((last - first).days + 1)}
    for entry in summary.entries:
        part = summary.allocation.part_for(entry.id)
        shown_from = part.span.start if part else entry.start
        row = rows.get(shown_from.astimezone(zone).date())
        if row is not None:
            row.entries.append(EntryRow(entry, part, entry.start.astimezone(zone), entry.end.astimezone(zone)))
        if part:
            for day, piece in split_at_midnights(part.span.start, part.span.end, zone):
                if day in rows:
                    rows[day].minutes += piece.minutes
    return list(rows.values())


def _entry_input(form: EntryForm) -> services.EntryInput:
    return services.EntryInput(day=form.day.data, start=form.start.data, end=form.end.data,
                               memo=form.memo.data or "", channel=form.channel.data or "")


def _prefilled_entry_form(zone_name: str, now: datetime) -> EntryForm:
    """Today, the hour that just ended (to the quarter hour), in the specialist's zone: save is the second click.
    Query parameters (day, start, end, channel, memo) fill it in instead."""
    local_now = now.astimezone(zone_named(zone_name))
    end = local_now.replace(minute=local_now.minute - local_now.minute % 15, second=0, microsecond=0)
    start = end - timedelta(hours=1)
    if request.args.get("day"):
        # "Log time from this shift" links carry the shift's day, hours, channel and memo.
        return EntryForm(formdata=request.args)
    form = EntryForm(formdata=None)
    form.day.data, form.start.data, form.end.data = start.date(), start.time(), end.time()
    return form


def _render(contract, week: datetime, *, now: datetime, entry_form: EntryForm | None = None,
            limit_form: LimitForm | None = None, status: int = 200):
    zone = services.timezone_of(current_user)
    summary = services.week_summary(contract, week, now=now)
    can_log = services.can_log_time(current_user, contract) and summary.is_open
    if entry_form is None and can_log:
        entry_form = _prefilled_entry_form(zone, now)
    if limit_form is None and services.can_change_limit(current_user, contract):
        limit_form = LimitForm(formdata=None)
        pending = contract.next_weekly_limit_minutes
        limit_form.hours.data = round((pending or contract.weekly_limit_minutes) / 60, 2)
    return render_template(
        "timesheets/timesheet.html", contract=contract, summary=summary, grid=_grid(summary, zone), zone=zone,
        can_log=can_log, is_specialist=current_user.id == contract.freelancer_id,
        entry_form=entry_form, limit_form=limit_form, delete_form=ConfirmForm(),
        previous_week=summary.week_start - WEEK,
        next_week=summary.week_start + WEEK if summary.week_start < week_start(now) else None,
        current_week=week_start(now)), status


@bp.get("/contracts/<int:contract_id>/timesheet")
@login_required
def show(contract_id: int):
    now = app_now()
    contract = services.get_contract_for(current_user, contract_id)
    if contract.kind.value != "hourly":
        raise Forbidden("Only hourly contracts have a timesheet.")
    return _render(contract, _week_arg(now), now=now)


@bp.post("/contracts/<int:contract_id>/timesheet/entries")
@login_required
def log(contract_id: int):
    now = app_now()
    contract = services.get_contract_for(current_user, contract_id)
    form = EntryForm()
    if form.validate_on_submit():
        done, entry = commit_or_refuse(
            lambda: services.log_entry(current_user, contract, _entry_input(form), now=now),
            form)
        if done:
            flash(f"Logged {entry.minutes // 60}:{entry.minutes % 60:02d} h.", "success")
            return redirect(url_for("timesheets.show", contract_id=contract.id,
                                    week=week_start(entry.start).date().isoformat()))
    contract = services.get_contract_for(current_user, contract_id)
    return _render(contract, week_start(now), now=now, entry_form=form, status=400)


@bp.route("/contracts/<int:contract_id>/timesheet/entries/<int:entry_id>/edit", methods=["GET", "POST"])
@login_required
def edit(contract_id: int, entry_id: int):
    now = app_now()
    contract = services.get_contract_for(current_user, contract_id)
    entry = services.get_entry(contract, entry_id)
    if current_user.id != contract.freelancer_id:
        raise Forbidden("Only the specialist on this contract can change its time entries.")
    zone = services.timezone_of(current_user)
    if request.method == "GET":
        form = EntryForm(formdata=None)
        start, end = entry.start.astimezone(zone_named(zone)), entry.end.astimezone(zone_named(zone))
        form.day.data, form.start.data, form.end.data = start.date(), start.time(), end.time()
        form.memo.data, form.channel.data = entry.memo, entry.channel
    else:
        form = EntryForm()
        if form.validate_on_submit():
            done, _ = commit_or_refuse(
                lambda: services.edit_entry(current_user, entry, _entry_input(form), now=now),
                form)
            if done:
                flash("Entry updated.", "success")
                return redirect(url_for("timesheets.show", contract_id=contract.id,
                                        week=week_start(entry.start).date().isoformat()))
        contract = services.get_contract_for(current_user, contract_id)
        entry = services.get_entry(contract, entry_id)
    return render_template("timesheets/edit.html", contract=contract, entry=entry, form=form, zone=zone,
                           span=services.describe_span(entry.start, entry.end, zone)), (
        400 if request.method == "POST" else 200)


@bp.post("/contracts/<int:contract_id>/timesheet/entries/<int:entry_id>/delete")
@login_required
def delete(contract_id: int, entry_id: int):
    now = app_now()
    contract = services.get_contract_for(current_user, contract_id)
    entry = services.get_entry(contract, entry_id)
    week = week_start(entry.start)
    if not ConfirmForm().validate_on_submit():
        flash("Your form expired. Please try again.", "danger")
    else:
        done, _ = commit_or_refuse(lambda: services.delete_entry(current_user, entry, now=now))
        if done:
            flash("Entry deleted.", "success")
    return redirect(url_for("timesheets.show", contract_id=contract_id, week=week.date().isoformat()))


@bp.post("/contracts/<int:contract_id>/timesheet/limit")
@login_required
def change_limit(contract_id: int):
    now = app_now()
    contract = services.get_contract_for(current_user, contract_id)
    form = LimitForm()
    if form.validate_on_submit():
        done, _ = commit_or_refuse(
            lambda: services.set_next_weekly_limit(current_user, contract, form.minutes, now=now),
            form)
        if done:
            flash("Weekly limit changed from next Monday 00:00 UTC; this week keeps its limit.", "success")
            return redirect(url_for("timesheets.show", contract_id=contract.id))
    contract = services.get_contract_for(current_user, contract_id)
    return _render(contract, week_start(now), now=now, limit_form=form, status=400)
