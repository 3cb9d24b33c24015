"""Schedule pages: the business's schedule and week, the specialist's shifts, claim/assign/drop/swap,
the iCalendar feed, and "Find specialists" for open hours. Parse -> load+authorize -> service -> commit."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from marketplace.core.errors import Forbidden, NotFound
from marketplace.core.forms import commit_or_refuse
from marketplace.core.integers import parse_int
from marketplace.core.time import app_now
from marketplace.extensions import db
from marketplace.schedules import blocks, calendar, claims, feed, records
from marketplace.schedules.availability import find_for_open_hours
from marketplace.schedules.forms import ActionForm, AssignForm, BlockForm, ClaimForm, SwapForm
from marketplace.schedules.models import ShiftSeat

bp = Blueprint("schedules", __name__)


@bp.app_context_processor
def _schedule_helpers():
    """`shift_record(user_id)`: the kept-shift record profiles show."""
    def shift_record(user_id: int):
        return records.record_of(user_id, app_now())
    return {"shift_record": shift_record}


def _week_arg(zone_name: str, now: datetime) -> date:
    """?week=YYYY-MM-DD (any day of it, in the task's zone); this week if missing or unreadable."""
    today = now.astimezone(calendar.zone_of(zone_name)).date()
    raw = request.args.get("week", "")
    try:
        monday = calendar.week_monday(date.fromisoformat(raw)) if raw else calendar.week_monday(today)
        monday + timedelta(days=14)   # the page links the next week: stay clear of the calendar's end
    except (ValueError, OverflowError):
        monday = calendar.week_monday(today)
    return monday


def _block_input(form: BlockForm) -> blocks.BlockInput:
    weekly = form.kind.data == "weekly"
    return blocks.BlockInput(weekday=int(form.weekday.data) if weekly else None,
                             on_date=None if weekly else form.on_date.data,
                             start_minute=form.start.data.hour * 60 + form.start.data.minute,
                             end_minute=form.end.data.hour * 60 + form.end.data.minute,
                             channel=form.channel.data, seats=form.seats.data)


def _render_schedule(task, *, block_form: BlockForm | None = None, status: int = 200):
    now = app_now()
    if block_form is None:
        block_form = BlockForm(formdata=None)
        block_form.channel.data = task.channel
        block_form.start.data, block_form.end.data = time(task.work_hours_start), time(task.work_hours_end % 24)
    monday = _week_arg(task.timezone, now)
    hired = claims.hired_specialists(task.id)
    return render_template(
        "schedules/task_schedule.html", task=task, blocks=blocks.blocks_of(task), block_form=block_form,
        can_edit=blocks.can_edit(current_user, task), days=calendar.task_week(task, monday), monday=monday,
        previous_week=monday - timedelta(days=7), next_week=monday + timedelta(days=7),
        coverage=calendar.coverage(task, now), on_now=calendar.on_shift_now(task, now), hired=hired, now=now,
        action_form=ActionForm(), local_span=calendar.local_span, zone_label=calendar.zone_label), status


@bp.get("/tasks/<int:task_id>/schedule")
@login_required
def task_schedule(task_id: int):
    task = blocks.get_own_task(current_user, task_id)
    return _render_schedule(task)


@bp.post("/tasks/<int:task_id>/schedule/blocks")
@login_required
def add_block(task_id: int):
    task = blocks.get_own_task(current_user, task_id)
    form = BlockForm()
    if form.validate_on_submit():
        done, block = commit_or_refuse(
            lambda: blocks.add_block(current_user, task, _block_input(form), now=app_now()),
            form)
        if done:
            flash(f"Added {block.label}.", "success")
            return redirect(url_for("schedules.task_schedule", task_id=task.id))
    task = blocks.get_own_task(current_user, task_id)
    return _render_schedule(task, block_form=form, status=400)


@bp.route("/tasks/<int:task_id>/schedule/blocks/<int:block_id>/edit", methods=["GET", "POST"])
@login_required
def edit_block(task_id: int, block_id: int):
    task = blocks.get_own_task(current_user, task_id)
    block = blocks.get_block(task, block_id)
    if request.method == "GET":
        form = BlockForm(formdata=None)
        form.kind.data = "weekly" if block.is_weekly else "once"
        form.weekday.data = str(block.weekday if block.is_weekly else 0)
        form.on_date.data = block.on_date
        form.start.data = time(block.start_minute // 60, block.start_minute % 60)
        form.end.data = time(block.end_minute // 60, block.end_minute % 60)
        form.channel.data, form.seats.data = block.channel, block.seats
    else:
        form = BlockForm()
        if form.validate_on_submit():
            done, _ = commit_or_refuse(
                lambda: blocks.edit_block(current_user, block, _block_input(form), now=app_now()),
                form)
            if done:
                flash("Block changed; shifts that haven't started follow the new hours.", "success")
                return redirect(url_for("schedules.task_schedule", task_id=task_id))
        task = blocks.get_own_task(current_user, task_id)
        block = blocks.get_block(task, block_id)
    return render_template("schedules/edit_block.html", task=task, block=block, form=form,
                           remove_form=ActionForm()), 400 if request.method == "POST" else 200


@bp.post("/tasks/<int:task_id>/schedule/blocks/<int:block_id>/remove")
@login_required
def remove_block(task_id: int, block_id: int):
    task = blocks.get_own_task(current_user, task_id)
    block = blocks.get_block(task, block_id)
    if not ActionForm().validate_on_submit():
        flash("Your form expired. Please try again.", "danger")
        return redirect(url_for("schedules.task_schedule", task_id=task_id))
    done, cancelled = commit_or_refuse(lambda: blocks.remove_block(current_user, block, now=app_now()))
    if done:
        flash(f"Block removed; {cancelled} upcoming shift{'s' if cancelled != 1 else ''} cancelled "
              "(anyone holding one was told).", "success")
    return redirect(url_for("schedules.task_schedule", task_id=task_id))


def _shift_action(shift_id: int, form_class, action, success, *, back=None):
    """Run a shift action from a button: CSRF-checked form, service, one commit, flash, redirect back."""
    shift = claims.get_shift_for(current_user, shift_id)
    form = form_class()
    target = back or _back(shift)
    if not form.validate_on_submit():
        flash(" ".join(e for errs in form.errors.values() for e in errs) or "Your form expired. Please try again.",
              "danger")
        return redirect(target)
    done, result = commit_or_refuse(lambda: action(shift, form))
    if done:
        flash(success(result) if callable(success) else success, "success")
    return redirect(target)


def _back(shift) -> str:
    nxt = request.form.get("next", "")
    if nxt.startswith("/") and not nxt.startswith("//") and "\\" not in nxt:
        return nxt
    if current_user.id == shift.task.business_id:
        return url_for("schedules.task_schedule", task_id=shift.task_id, week=shift.local_date.isoformat())
    return url_for("schedules.my_shifts")


@bp.post("/shifts/<int:shift_id>/claim")
@login_required
def claim(shift_id: int):
    now = app_now()

    def act(shift, form):
        if form.series.data:
            return claims.claim_series(current_user, shift, now=now)
        return [claims.claim(current_user, shift, now=now)], []

    def said(result):
        seats, skipped = result
        text = f"You claimed {len(seats)} shift{'s' if len(seats) != 1 else ''}."
        if skipped:
            text += " Not claimed: " + "; ".join(skipped[:5]) + ("…" if len(skipped) > 5 else "")
        return text
    return _shift_action(shift_id, ClaimForm, act, said)


@bp.post("/shifts/<int:shift_id>/assign")
@login_required
def assign(shift_id: int):
    now = app_now()
    return _shift_action(shift_id, AssignForm,
                         lambda shift, form: claims.assign(current_user, shift, form.specialist_id.data, now=now),
                         lambda seat: f"Assigned to {seat.holder.full_name}.")


@bp.post("/shifts/<int:shift_id>/drop")
@login_required
def drop(shift_id: int):
    now = app_now()
    return _shift_action(shift_id, ActionForm, lambda shift, form: claims.drop(current_user, shift, now=now),
                         lambda record: ("Late drop: the shift starts in less than "
                                         f"{current_app.config['SHIFT_DROP_NOTICE_HOURS']} h, so it counts on your "
                                         "record. " if record.late else "") + "Seat released; the team was told.")


@bp.post("/shifts/<int:shift_id>/swap")
@login_required
def offer_swap(shift_id: int):
    now = app_now()
    return _shift_action(shift_id, SwapForm,
                         lambda shift, form: claims.offer_swap(current_user, shift, form.seat_id.data, now=now),
                         lambda swap: f"Swap offered to {swap.counterpart.full_name}; it happens when they confirm.")


@bp.post("/shift-swaps/<int:swap_id>/<any(accept, decline):answer>")
@login_required
def answer_swap(swap_id: int, answer: str):
    swap = claims.get_swap_for(current_user, swap_id)
    if not ActionForm().validate_on_submit():
        flash("Your form expired. Please try again.", "danger")
        return redirect(url_for("schedules.my_shifts"))
    done, _ = commit_or_refuse(lambda: claims.answer_swap(current_user, swap, accept=answer == "accept", now=app_now()))
    if done:
        flash("Swap confirmed: the shifts changed hands." if answer == "accept" else "Swap declined.", "success")
    return redirect(url_for("schedules.my_shifts"))


@bp.post("/shift-seats/<int:seat_id>/missed")
@login_required
def mark_missed(seat_id: int):
    seat = db.session.get(ShiftSeat, seat_id)
    if seat is None:
        raise NotFound("We couldn't find that shift.")
    shift = claims.get_shift_for(current_user, seat.shift_id)
    now = app_now()
    return _shift_action(shift.id, ActionForm, lambda s, form: records.mark_missed(current_user, seat, now=now),
                         "Marked missed; it counts on the specialist's shift record.")


# ---------------------------------------------------------------- specialist: my shifts

def log_time_link(shift, seat, zone_name: str) -> str:
    """The timesheet's entry form, filled in with the shift's hours in the specialist's time zone."""
    zone = calendar.zone_of(zone_name)
    start, end = shift.start.astimezone(zone), shift.end.astimezone(zone)
    query = urlencode({"day": start.date().isoformat(), "start": start.strftime("%H:%M"), "end": end.strftime("%H:%M"),
                       "channel": shift.channel, "memo": f"Shift: {shift.task.title}"})
    return url_for("timesheets.show", contract_id=seat.contract_id) + "?" + query + "#log-time"


@bp.get("/shifts/mine")
@login_required
def my_shifts():
    if not current_user.is_freelancer:
        raise Forbidden("My shifts is for specialists.")
    from marketplace.timesheets.services import timezone_of
    now = app_now()
    zone_name = timezone_of(current_user)
    past = request.args.get("past") == "1"
    start, end = (now - timedelta(days=14), now) if past else (now, now + timedelta(days=calendar.COVERAGE_DAYS))
    mine = calendar.my_shifts(current_user, start, end)
    for item in mine:
        item.can_log_time = item.shift.start <= now
    swap_choices = {item.shift.id: calendar.swappable_seats(current_user, item.shift, now)
                    for item in mine if item.shift.start > now}
    return render_template(
        "schedules/my_shifts.html", mine=mine, past=past, zone=zone_name, now=now,
        claimable=[] if past else calendar.claimable_shifts(current_user, now),
        swaps=claims.pending_swaps_for(current_user), swap_choices=swap_choices, has_feed=feed.has_feed(current_user),
        record=records.record_of(current_user.id, now), action_form=ActionForm(), local_span=calendar.local_span,
        zone_label=calendar.zone_label, log_time_link=log_time_link,
        late_drop=lambda shift: claims.is_late_drop(shift, now))


@bp.post("/shifts/feed")
@login_required
def new_feed():
    if not ActionForm().validate_on_submit():
        flash("Your form expired. Please try again.", "danger")
        return redirect(url_for("schedules.my_shifts"))
    token = feed.new_feed_token(current_user)
    db.session.commit()
    address = url_for("schedules.calendar_feed", token=token, _external=True)
    flash(f"Your calendar address (keep it private; making a new one stops the old): {address}", "success")
    return redirect(url_for("schedules.my_shifts") + "#calendar-feed")


@bp.post("/shifts/feed/revoke")
@login_required
def revoke_feed():
    if not ActionForm().validate_on_submit():
        flash("Your form expired. Please try again.", "danger")
        return redirect(url_for("schedules.my_shifts"))
    feed.revoke_feed(current_user)
    db.session.commit()
    flash("Calendar address revoked; calendars using it stop updating.", "success")
    return redirect(url_for("schedules.my_shifts") + "#calendar-feed")


@bp.get("/shifts/feed/<token>.ics")
def calendar_feed(token: str):
    user = feed.user_for_token(token)
    body = feed.calendar_for(user, app_now(), current_app.config["SITE_NAME"], request.host.split(":")[0])
    return Response(body, mimetype="text/calendar", headers={"Cache-Control": "private, max-age=300"})


# ---------------------------------------------------------------- business: specialists for the open hours

@bp.get("/tasks/<int:task_id>/schedule/find")
@login_required
def find_specialists(task_id: int):
    task = blocks.get_own_task(current_user, task_id)
    if current_user.id != task.business_id:
        raise Forbidden("Only the business that posted this task can look for specialists for it.")
    now = app_now()
    open_shifts = calendar.open_shifts(task, now)
    try:
        wanted = parse_int(request.args.get("shift"), 1) if request.args.get("shift") else None
    except ValueError:
        wanted = None
    if wanted is not None:
        open_shifts = [s for s in open_shifts if s.id == wanted] or open_shifts
    spans = [(s.start, s.end) for s in open_shifts]
    results = find_for_open_hours(task, spans) if spans else []
    from marketplace.bidding.services import invitations_on
    invited = {inv.freelancer_id for inv in invitations_on(current_user, task)}
    can_invite = task.status.value == "open" and task.filled_seats < task.seats
    return render_template("schedules/find.html", task=task, shifts=open_shifts, results=results, invited=invited,
                           can_invite=can_invite, local_span=calendar.local_span, zone_label=calendar.zone_label)
