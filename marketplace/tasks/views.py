"""Task pages: browse, post, show, edit, publish, cancel, close, my tasks."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from marketplace.bidding import services as bidding
from marketplace.bidding.forms import ActionForm, BidForm, DeclineForm
from marketplace.core.errors import DomainError, Forbidden
from marketplace.core.forms import attach_error, bounded_int
from marketplace.core.money import parse_major, to_major
from marketplace.core.time import TIMEZONE_CHOICES
from marketplace.extensions import cache, db
from marketplace.profiles.services import skill_options
from marketplace.profiles.skill_index import skill_index
from marketplace.tasks import search, services
from marketplace.tasks.forms import NICE_ROWS, REQUIRED_ROWS, TaskForm

bp = Blueprint("tasks", __name__)


def _actor():
    return current_user if current_user.is_authenticated else None


def _personal_request() -> bool:
    """Pages for logged-in users (navigation, best match) or with pending flashes are never cached."""
    from flask import session
    return current_user.is_authenticated or bool(session.get("_flashes"))


@bp.get("/tasks")
@cache.cached(query_string=True, unless=_personal_request,  # CACHE_DEFAULT_TIMEOUT seconds
              response_filter=lambda response: getattr(response, "status_code", 200) == 200)
def browse():
    params = search.parse_query(request.args)
    page_number = bounded_int(request.args, "page", 1)
    per_page = current_app.config["TASKS_PER_PAGE"]
    if params.sort == "best" and current_user.is_authenticated and current_user.is_freelancer:
        page = search.best_match_page(params, current_user, page_number, per_page)
    else:
        if params.sort == "best":
            params.sort = "newest"
        page = search.search_tasks(params, page=page_number, per_page=per_page)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    if page.page > page.pages and page.total and not page.items:
        # Past the last page (an old bookmark, a hand-typed number): show the last page there is.
        return redirect(url_for("tasks.browse", page=page.pages, **args))
    sorts = dict(search.SORTS)
    if not (current_user.is_authenticated and current_user.is_freelancer):
        sorts.pop("best")
    return render_template("tasks/browse.html", page=page, params=params, skill_options=skill_options(), args=args,
                           sorts=sorts, timezones=TIMEZONE_CHOICES)


@bp.get("/tasks/<int:task_id>/matches")
@login_required
def matches(task_id: int):
    """"Find specialists": the ranked, explained matches for the owner's task."""
    from marketplace.matching.service import match_for_owner, why_empty

    task = services.get_own_task(current_user, task_id)
    try:
        results = match_for_owner(current_user, task)
    except DomainError as error:
        flash(error.message, "warning")
        return redirect(url_for("tasks.show", task_id=task.id))
    invited = {inv.freelancer_id for inv in bidding.invitations_on(current_user, task)}
    return render_template("tasks/matches.html", task=task, matches=results, invited=invited,
                           empty_reasons=why_empty(task) if not results else [])


def _form_to_data(form: TaskForm) -> services.TaskData:
    return services.TaskData(
        title=form.title.data or "", description=form.description.data or "", channel=form.channel.data,
        timezone=form.timezone.data, work_hours_start=int(form.work_hours_start.data),
        work_hours_end=int(form.work_hours_end.data), start_date=form.start_date.data, end_date=form.end_date.data,
        pricing=form.pricing.data,
        budget=parse_major(form.budget.data) if form.budget.data is not None else None,
        max_rate=parse_major(form.max_rate.data) if form.max_rate.data is not None else None,
        estimated_hours=form.estimated_hours.data, seats=form.seats.data, hiring_mode=form.hiring_mode.data,
        currency=current_app.config["DEFAULT_CURRENCY"],
        required_skills=form.skill_levels(form.required), nice_skills=form.skill_levels(form.nice),
        languages=list(form.languages.data or []))


def _require_business():
    if not current_user.is_business:
        raise Forbidden("Only business accounts can post tasks.")


@bp.route("/tasks/new", methods=["GET", "POST"])
@login_required
def new():
    _require_business()
    form = TaskForm()
    form.set_skill_choices(skill_index().form_choices)
    if request.method == "GET":
        form.languages.data = ["en"]
        company = current_user.business_profile
        if company is not None and company.timezone:
            form.timezone.data = company.timezone   # a new task starts in the company's time zone
    if form.validate_on_submit():
        try:
            task = services.create_task(current_user, _form_to_data(form))
            if request.form.get("publish"):
                services.publish_task(current_user, task)
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            attach_error(form, error)
        else:
            flash(("Your task is live." if not services.is_held(task) else _published_message(task))
                  if task.status.value == "open" else "Draft saved. Publish it when you're ready.", "success")
            return redirect(url_for("tasks.show", task_id=task.id))
    return render_template("tasks/form.html", form=form, task=None), 400 if request.method == "POST" else 200


@bp.route("/tasks/<int:task_id>/edit", methods=["GET", "POST"])
@login_required
def edit(task_id: int):
    task = services.get_own_task(current_user, task_id)
    form = TaskForm(obj=task) if request.method == "GET" else TaskForm()
    form.set_skill_choices(skill_index().form_choices)
    if request.method == "GET":
        form.budget.data = to_major(task.budget) if task.budget else None
        form.max_rate.data = to_major(task.max_rate) if task.max_rate else None
        form.pricing.data = task.pricing.value
        form.hiring_mode.data = task.hiring_mode.value
        form.work_hours_start.data, form.work_hours_end.data = str(task.work_hours_start), str(task.work_hours_end)
        form.languages.data = task.language_codes
        for rows, skills, limit in ((form.required, task.required_skills, REQUIRED_ROWS),
                                    (form.nice, task.nice_skills, NICE_ROWS)):
            for row, skill in zip(rows, skills[:limit]):
                row.form.skill.data, row.form.min_level.data = str(skill.skill_id), str(skill.min_level)
    if form.validate_on_submit():
        try:
            services.update_task(current_user, task, _form_to_data(form))
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            attach_error(form, error)
        else:
            flash("Task updated.", "success")
            return redirect(url_for("tasks.show", task_id=task.id))
    return render_template("tasks/form.html", form=form, task=task), 400 if request.method == "POST" else 200


@bp.get("/tasks/<int:task_id>")
def show(task_id: int):
    actor = _actor()
    task = services.get_task_for(actor, task_id)
    context = {"task": task, "action_form": ActionForm(), "is_owner": services.is_owner(actor, task)}
    from marketplace.showcase.client_facts import client_facts
    context["client"] = client_facts(task.business, task.currency)
    if context["is_owner"]:
        from marketplace.showcase.proposals import compare
        # Twenty proposals a page: a popular task gets hundreds, and every card costs a match score.
        proposals = bidding.proposal_page(actor, task, bounded_int(request.args, "page", 1))
        context["proposals"], context["bids"] = proposals, proposals.items
        # Hired proposals sort first, so the first page holds one if there is any.
        context["can_close"] = services.can_close(task, proposals.items if proposals.page == 1 else None)
        context["proposal_facts"] = compare(task, proposals.items)
        context["invitations"] = bidding.invitations_on(actor, task)
        context["decline_form"] = DeclineForm()
    elif actor is not None and actor.is_freelancer:
        context["my_bid"] = bidding.live_bid_of(task.id, actor.id)
        context["bid_refusal"] = bidding.bid_refusal(actor, task)
        context["invitation"] = bidding.invitation_for(task.id, actor.id)
        if context["my_bid"] is None and context["bid_refusal"] is None:
            context["bid_form"] = BidForm()
            context["example_quote"] = example_quote(task)
    return render_template("tasks/show.html", **context)


def example_quote(task):
    """Fee breakdown at the task's full budget, shown next to the proposal form."""
    if task.pricing.value == "hourly":
        return bidding.quote(task, task.max_rate, task.estimated_hours)
    return bidding.quote(task, task.budget, None)


def _owner_action(task_id: int, action, success: str):
    form = ActionForm()
    task = services.get_own_task(current_user, task_id)
    if not form.validate_on_submit():
        flash("Your form expired. Please try again.", "danger")
        return redirect(url_for("tasks.show", task_id=task_id))
    try:
        action(current_user, task)
        db.session.commit()
        flash(success(task) if callable(success) else success, "success")
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
    return redirect(url_for("tasks.show", task_id=task_id))


@bp.post("/tasks/<int:task_id>/publish")
@login_required
def publish(task_id: int):
    return _owner_action(task_id, services.publish_task, _published_message)


def _published_message(task) -> str:
    if services.is_held(task):
        from marketplace.moderation.screening import AUTHOR_NOTICE
        return AUTHOR_NOTICE["task"] + " Specialists will see it as soon as it's approved."
    return "Your task is live. Specialists can now find it."


@bp.post("/tasks/<int:task_id>/cancel")
@login_required
def cancel(task_id: int):
    return _owner_action(task_id, services.cancel_task, "Task cancelled. Anyone who sent a proposal has been told.")


@bp.post("/tasks/<int:task_id>/close")
@login_required
def close(task_id: int):
    return _owner_action(task_id, services.close_task,
                         lambda task: "Hiring closed. Pending proposals were declined politely."
                         if task.status.value == "in_progress" else
                         f"Task closed ({task.status.value}). Pending proposals were declined politely.")


@bp.get("/tasks/mine")
@login_required
def mine():
    _require_business()
    return render_template("tasks/mine.html", rows=services.tasks_of(current_user), action_form=ActionForm())
