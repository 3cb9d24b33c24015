"""Proposal and invitation pages and actions."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from marketplace.bidding import services
from marketplace.bidding.forms import ActionForm, BidForm, DeclineForm, InviteForm
from marketplace.core.errors import DomainError, Forbidden
from marketplace.core.forms import attach_error, commit_or_refuse
from marketplace.core.integers import MAX_ID, MAX_INT, parse_int
from marketplace.core.money import parse_major, to_major
from marketplace.core.query_args import QueryArgs
from marketplace.core.urls import safe_next
from marketplace.engagements.hiring import hire
from marketplace.extensions import db
from marketplace.tasks import services as tasks

bp = Blueprint("bidding", __name__)


def _terms(form: BidForm) -> dict:
    return {"amount": parse_major(form.amount.data), "estimated_hours": form.estimated_hours.data,
            "cover_note": form.cover_note.data or "", "availability_note": form.availability_note.data or ""}


@bp.post("/tasks/<int:task_id>/bids")
@login_required
def place(task_id: int):
    task = tasks.get_task_for(current_user, task_id)
    form = BidForm()
    if form.validate_on_submit():
        done, bid = commit_or_refuse(lambda: services.place_bid(current_user, task, **_terms(form)), form)
        if done:
            held = bid.moderation_status.value != "approved"
            flash("Proposal sent. It's under review by our team; the business will see it once it's approved." if held
                  else "Proposal sent. You'll be notified when the business answers.", "success")
            return redirect(url_for("tasks.show", task_id=task.id))
    from marketplace.tasks.views import example_quote
    return render_template("tasks/show.html", task=task, bid_form=form, my_bid=None, is_owner=False,
                           example_quote=example_quote(task),
                           bid_refusal=services.bid_refusal(current_user, task),
                           invitation=services.invitation_for(task.id, current_user.id),
                           action_form=ActionForm()), 400


@bp.get("/bids/quote")
@login_required
def quote():
    """Fee preview for the proposal form (JSON): what the business pays and what you receive."""
    read = QueryArgs(request.args)
    task_id = read.integer("task_id", 1, MAX_ID)
    if task_id is None:
        return jsonify(error="Bad task", message="task_id must be the id of a task."), 400
    task = tasks.get_task_for(current_user, task_id)
    try:
        amount = parse_major(request.args.get("amount", ""))
    except ValueError:
        return jsonify(error="Bad amount", message="Enter an amount like 120 or 120.50."), 400
    if amount <= 0:
        return jsonify(error="Bad amount", message="Enter an amount above zero."), 400
    max_hours = current_app.config["MAX_ESTIMATED_HOURS"]
    hours = read.integer("estimated_hours", 1, max_hours)
    if read.errors:
        return jsonify(error="Bad hours", message=f"Estimate between 1 and {max_hours} hours."), 400
    if amount > current_app.config["MAX_BID_AMOUNT"]:
        return jsonify(error="Bad amount", message="That amount is above the largest we can hold."), 400
    q = services.quote(task, amount, hours)
    return jsonify(total=q.total, fee=q.fee, payout=q.payout, fee_bps=q.fee_bps)


@bp.route("/bids/<int:bid_id>/edit", methods=["GET", "POST"])
@login_required
def edit(bid_id: int):
    bid = services.get_bid_for(current_user, bid_id)
    if current_user.id != bid.freelancer_id:
        raise Forbidden("Only the specialist who sent this proposal can change it.")
    form = BidForm(obj=bid) if request.method == "GET" else BidForm()
    if request.method == "GET":
        form.amount.data = to_major(bid.amount)
    if form.validate_on_submit():
        try:
            services.edit_bid(current_user, bid, **_terms(form))
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            attach_error(form, error)
        else:
            flash("Proposal updated.", "success")
            return redirect(url_for("tasks.show", task_id=bid.task_id))
    return render_template("bidding/edit.html", form=form, bid=bid,
                           fee_bps=services.quote(bid.task, 1, 1).fee_bps), 400 if request.method == "POST" else 200


def _run(bid, action, form, success: str, **kwargs) -> tuple[bool, object]:
    """Validate the CSRF form, run the service, commit once; flash the outcome."""
    if not form.validate_on_submit():
        flash(" ".join(e for errs in form.errors.values() for e in errs) or "Please try again.", "danger")
        return False, None
    try:
        result = action(current_user, bid, **kwargs)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return False, None
    flash(success, "success")
    return True, result


def _back_to_task(bid, anchor: str = ""):
    return redirect(url_for("tasks.show", task_id=bid.task_id) + anchor)


@bp.post("/bids/<int:bid_id>/withdraw")
@login_required
def withdraw(bid_id: int):
    bid = services.get_bid_for(current_user, bid_id)
    ok, _ = _run(bid, services.withdraw_bid, ActionForm(), "Proposal withdrawn.")
    return redirect(url_for("bidding.mine")) if ok else _back_to_task(bid)


@bp.post("/bids/<int:bid_id>/shortlist")
@login_required
def shortlist(bid_id: int):
    bid = services.get_bid_for(current_user, bid_id)
    _run(bid, services.shortlist_bid, ActionForm(), "Shortlist updated.",
         shortlisted=request.form.get("on", "1") == "1")
    return _back_to_task(bid, "#proposals")


@bp.post("/bids/<int:bid_id>/decline")
@login_required
def decline(bid_id: int):
    bid = services.get_bid_for(current_user, bid_id)
    form = DeclineForm()
    _run(bid, services.decline_bid, form, "Proposal declined. The specialist has been told.",
         note=form.note.data or "")
    return _back_to_task(bid, "#proposals")


@bp.get("/bids/<int:bid_id>/accept")
@login_required
def confirm_accept(bid_id: int):
    """The confirmation step before hiring: the terms, what the business pays and what happens next."""
    bid = services.get_bid_for(current_user, bid_id)
    task = bid.task
    if current_user.id != task.business_id:
        raise Forbidden("Only the business that posted this task can hire for it.")
    if bid.status.value != "pending" or task.hiring_state != "open":
        flash("This proposal can't be accepted any more.", "warning")
        return _back_to_task(bid, "#proposals")
    terms = services.quote(task, bid.amount, bid.estimated_hours)
    cur = task.currency
    from marketplace.core.money import format_money as money, format_percent
    fee_pct = format_percent(terms.fee_bps)
    if task.pricing.value == "hourly":
        # An hourly hire charges nothing up front: each finished week is invoiced to the saved card.
        from marketplace.contracts.services import weekly_limit_for
        limit = weekly_limit_for(bid.estimated_hours if bid.estimated_hours is not None else task.estimated_hours)
        money_lines = [f"Their proposal: {money(bid.amount, cur)}/h, up to {limit // 60} h a week to start.",
                       "Nothing is charged now: each finished week's logged hours are invoiced on Monday and "
                       "charged to your saved card; you can dispute entries until the end of Friday, then they "
                       "are paid.",
                       f"{bid.freelancer.first_name} receives each invoice after the platform fee ({fee_pct})."]
    else:
        money_lines = [f"Their proposal: {money(bid.amount, cur)}, {money(terms.total, cur)} in all.",
                       f"You fund {money(terms.total, cur)} next; the platform holds it until you approve the work.",
                       f"{bid.freelancer.first_name} receives {money(terms.payout, cur)} after the platform fee "
                       f"({fee_pct}, {money(terms.fee, cur)})."]
    return render_template(
        "confirm.html", heading=f"Hire {bid.freelancer.full_name} for “{task.title}”?",
        lines=money_lines + ["Hiring fills a seat on the task" + ("; other pending proposals are declined politely."
                                                                  if task.seats - task.filled_seats == 1 else ".")],
        action=url_for("bidding.accept", bid_id=bid.id),
        hidden={"seen_amount": bid.amount, "seen_hours": bid.estimated_hours or ""},
        button="Accept and hire", back=url_for("tasks.show", task_id=task.id) + f"#bid-{bid.id}")


@bp.post("/bids/<int:bid_id>/accept")
@login_required
def accept(bid_id: int):
    bid = services.get_bid_for(current_user, bid_id)
    seen = {}
    if request.form.get("seen_amount"):
        try:
            seen = {"seen_amount": parse_int(request.form["seen_amount"], 1, MAX_INT),
                    "seen_hours": parse_int(request.form["seen_hours"], 1, MAX_INT)
                    if request.form.get("seen_hours") else None}
        except ValueError:
            flash("That form was tampered with. Reload the page and try again.", "danger")
            return _back_to_task(bid, "#proposals")
    hourly = bid.task.pricing.value == "hourly"
    ok, contract = _run(bid, hire, ActionForm(), "Hired! Save a card for the weekly invoices so the contract can "
                        "start." if hourly else "Hired! Fund the engagement so the work can start.", **seen)
    if not ok:
        return _back_to_task(bid, "#proposals")
    if contract.is_fixed:
        return redirect(url_for("engagements.show", engagement_id=contract.payables[0].id))
    from marketplace.payments.off_session import has_saved_method, setup_url
    if not has_saved_method(contract.business_id):
        return redirect(setup_url(current_user))
    return redirect(url_for("contracts.show", contract_id=contract.id))


@bp.get("/bids")
@login_required
def mine():
    return render_template("bidding/mine.html", bids=services.bids_of(current_user), action_form=ActionForm())


@bp.get("/invitations")
@login_required
def invitations():
    return render_template("bidding/invitations.html", invitations=services.invitations_of(current_user),
                           action_form=ActionForm())


@bp.post("/freelancers/<int:freelancer_id>/invite")
@login_required
def invite(freelancer_id: int):
    if not current_user.is_business:
        raise Forbidden("Only businesses can invite specialists.")
    form = InviteForm()
    form.task_id.choices = [(t.id, t.title) for t in tasks.open_tasks_of(current_user)]
    if not form.validate_on_submit():
        flash(" ".join(e for errs in form.errors.values() for e in errs), "danger")
        return redirect(url_for("profiles.freelancer", user_id=freelancer_id))
    try:
        task = tasks.get_own_task(current_user, form.task_id.data)
        services.invite(current_user, task, freelancer_id, form.message.data or "")
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return redirect(url_for("profiles.freelancer", user_id=freelancer_id))
    flash("Invitation sent.", "success")
    return redirect(safe_next(request.form.get("next"), url_for("tasks.show", task_id=task.id)))


@bp.post("/invitations/<int:invitation_id>/<any(accept, decline):answer>")
@login_required
def answer(invitation_id: int, answer: str):
    invitation = services.get_invitation_for(current_user, invitation_id)
    form = ActionForm()
    if form.validate_on_submit():
        try:
            services.answer_invitation(current_user, invitation, accept=answer == "accept")
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "danger")
        else:
            if answer == "accept":
                flash("Invitation accepted. Send your proposal below.", "success")
                return redirect(url_for("tasks.show", task_id=invitation.task_id) + "#proposal")
            flash("Invitation declined. The business has been told.", "info")
    return redirect(url_for("bidding.invitations"))
