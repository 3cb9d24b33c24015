"""The operator console: second factor, queue, item pages, actions, audit log."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, logout_user

from marketplace.core.errors import DomainError
from marketplace.core.forms import bounded_int
from marketplace.core.urls import safe_next
from marketplace.extensions import db, limiter
from marketplace.moderation import actions, flags
from marketplace.moderation import two_factor as totp
from marketplace.moderation import queue as console
from marketplace.moderation.access import (forget_second_factor, mark_second_factor_passed, operator_required,
                                           require_operator, second_factor_passed)
from marketplace.moderation.forms import CodeForm, OptionalReasonForm, ReasonForm
from marketplace.moderation.models import TARGET_TYPES
from marketplace.payments import attention as payment_attention

bp = Blueprint("moderation", __name__, url_prefix="/moderation")

DISPUTE_ENDPOINT = "disputes.operator_show"
FLAG_ACTION_LABELS = {"reject": "Reject the task", "remove": "Remove it", "warn": "Warn the owner"}


def _auth_limit() -> str:
    return current_app.config["RATELIMIT_AUTH"]


def _operator():
    return current_user._get_current_object()


# --- second factor ---------------------------------------------------------------------------

@bp.route("/2fa", methods=["GET", "POST"])
@limiter.limit(_auth_limit, methods=["POST"])
def two_factor():
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
    require_operator(current_user)
    user = _operator()
    form = CodeForm(next=request.args.get("next", ""))
    target = safe_next(form.next.data, url_for("moderation.queue"))
    if totp.is_enabled(user) and second_factor_passed(user):
        return redirect(target)
    setup = not totp.is_enabled(user)
    if setup:
        totp.begin_setup(user)   # a pending secret, kept until the first correct code
        db.session.commit()
    if form.validate_on_submit():
        try:
            outcome = totp.confirm_setup(user, form.code.data) if setup else totp.verify(user, form.code.data)
        except DomainError as error:
            db.session.rollback()
            form.code.errors = [error.message]
        else:
            db.session.commit()   # keeps the failure counter (and a spent recovery code) either way
            if isinstance(outcome, totp.FailedCode):
                if outcome.locked:
                    forget_second_factor()
                    logout_user()
                    flash(outcome.message, "danger")
                    return redirect(url_for("accounts.login"))
                form.code.errors = [outcome.message]
            else:
                mark_second_factor_passed(user)
                if setup:
                    return render_template("moderation/recovery_codes.html", codes=outcome, next_url=target)
                if outcome == "recovery":
                    left = totp.unused_recovery_codes(user)
                    flash(f"Recovery code accepted. You have {left} left.", "warning" if left < 3 else "info")
                return redirect(target)
    context = {"form": form, "setup": setup}
    if setup:
        uri = totp.provisioning_uri(user)
        context.update(secret=user.totp_secret, qr_svg=totp.qr_svg(uri), uri=uri)
    status = 400 if request.method == "POST" else 200
    return render_template("moderation/two_factor.html", **context), status


# --- queue -----------------------------------------------------------------------------------

@bp.get("/")
@operator_required
def queue():
    filters = console.parse_filters(request.args)
    page_number = bounded_int(request.args, "page", 1)
    context = {"filters": filters, "queue_counts": console.counts(current_user), "tabs": console.TABS,
               "ages": console.AGES, "reason_labels": flags.REASON_LABELS,
               "dispute_link": DISPUTE_ENDPOINT in current_app.view_functions,
               "payments_attention": payment_attention.count()}
    if filters.tab == "held":
        context["page"], context["rows"] = console.held_page(current_user, filters, page_number)
        context["types"] = console.HELD_TYPES
    elif filters.tab == "flags":
        context["page"] = console.flag_groups_page(current_user, filters, page_number)
        context["rows"] = context["page"].items
        context["types"] = TARGET_TYPES
    else:
        context["page"] = console.disputes_page(current_user, filters, page_number)
        context["rows"] = context["page"].items
        context["types"] = ()
    return render_template("moderation/queue.html", **context)


def _owner_context(owner_id: int | None) -> dict:
    if owner_id is None:
        return {"owner": None}
    owner = actions.get_user(current_user, owner_id)
    warn_form, suspend_form = ReasonForm(prefix="warn"), ReasonForm(prefix="suspend")
    warn_form.reason.label.text = "Warning (sent to the user)"
    suspend_form.reason.label.text = "Reason for suspending (sent to the user)"
    return {"owner": owner, "owner_history": console.history_of(owner.id),
            "owner_flags": flags.flags_against(owner.id, limit=10),
            "owner_flag_count": flags.count_flags_against(owner.id),
            "warn_form": warn_form, "suspend_form": suspend_form,
            "reinstate_form": OptionalReasonForm(prefix="reinstate")}


@bp.get("/cases/<int:case_id>")
@operator_required
def case(case_id: int):
    held = actions.get_case(current_user, case_id)
    try:
        target = flags.find_target(held.target_type, held.target_id)
    except DomainError:
        target = None
    return render_template("moderation/case.html", case=held, target=target,
                           approve_form=OptionalReasonForm(prefix="approve"), reject_form=ReasonForm(prefix="reject"),
                           reason_labels=flags.REASON_LABELS,
                           flags_on=flags.flags_on(held.target_type, held.target_id),
                           **_owner_context(held.owner_id))


@bp.get("/cases/next")
@operator_required
def next_case():
    """The oldest held item still waiting (the "Next case" button after a decision)."""
    after = bounded_int(request.args, "after", 0, low=0, high=2**31 - 1)
    waiting = console.next_open_case(current_user, skip=after or None)
    if waiting is None:
        flash("No more held items: the queue is clear.", "success")
        return redirect(url_for("moderation.queue", tab="held"))
    return redirect(url_for("moderation.case", case_id=waiting))


def _form_problem(form) -> str | None:
    if form.validate_on_submit():
        return None
    for errors in form.errors.values():
        if errors:
            return errors[0]
    return "Your form expired. Please try again."


def _act(action, success: str, back: str):
    """Run one operator action in one transaction; flash the outcome and go back to the item page."""
    try:
        action()
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
    else:
        flash(success, "success")
    return redirect(back)


def _decide_case(case_id: int, prefix: str, form_class, decide, success: str):
    held = actions.get_case(current_user, case_id)
    form = form_class(prefix=prefix)
    back = url_for("moderation.case", case_id=case_id)
    problem = _form_problem(form)
    if problem:
        flash(problem, "danger")
        return redirect(back)
    return _act(lambda: decide(_operator(), held, form.reason.data), success, back)


@bp.post("/cases/<int:case_id>/approve")
@operator_required
def approve_case(case_id: int):
    return _decide_case(case_id, "approve", OptionalReasonForm, actions.approve_case,
                        "Approved. The author has been told and the item is visible.")


@bp.post("/cases/<int:case_id>/reject")
@operator_required
def reject_case(case_id: int):
    return _decide_case(case_id, "reject", ReasonForm, actions.reject_case, "Rejected. The author has been told why.")


# --- flags -----------------------------------------------------------------------------------

def _flag_target(target_type: str, target_id: int):
    require_operator(current_user)
    if target_type not in TARGET_TYPES:
        abort(404)
    return flags.find_target(target_type, target_id)


@bp.get("/flags/<target_type>/<int:target_id>")
@operator_required
def flag_target(target_type: str, target_id: int):
    target = _flag_target(target_type, target_id)
    all_flags = flags.flags_on(target_type, target_id)
    open_flags = [f for f in all_flags if f.status == "open"]
    case_ids = actions.open_case_ids_for(target_type, target_id) if target_type in console.HELD_TYPES else []
    return render_template("moderation/flag_target.html", target=target, all_flags=all_flags, open_flags=open_flags,
                           reason_labels=flags.REASON_LABELS, act_form=ReasonForm(prefix="act"),
                           dismiss_form=OptionalReasonForm(prefix="dismiss"),
                           available_actions=actions.FLAG_ACTIONS.get(target_type, ()),
                           action_labels=FLAG_ACTION_LABELS, case_ids=case_ids,
                           **_owner_context(target.owner_id))


@bp.post("/flags/<target_type>/<int:target_id>/dismiss")
@operator_required
def dismiss_flags(target_type: str, target_id: int):
    _flag_target(target_type, target_id)
    form = OptionalReasonForm(prefix="dismiss")
    back = url_for("moderation.flag_target", target_type=target_type, target_id=target_id)
    problem = _form_problem(form)
    if problem:
        flash(problem, "danger")
        return redirect(back)
    return _act(lambda: actions.dismiss_flags(_operator(), target_type, target_id, form.reason.data),
                "Reports dismissed. The item stays as it is.", back)


@bp.post("/flags/<target_type>/<int:target_id>/act")
@operator_required
def act_on_flags(target_type: str, target_id: int):
    _flag_target(target_type, target_id)
    form = ReasonForm(prefix="act")
    back = url_for("moderation.flag_target", target_type=target_type, target_id=target_id)
    problem = _form_problem(form)
    if problem:
        flash(problem, "danger")
        return redirect(back)
    action = request.form.get("action", "")
    # The page says whether it showed open reports: acting on reports that another operator has
    # settled meanwhile is "already handled"; acting on an unreported item needs no reports.
    reported = request.form.get("reported") != "0"
    done = {"reject": "Task rejected", "remove": "Removed", "warn": "Owner warned"}.get(action, "Done")
    told = "The reports were upheld and the" if reported else "The"
    return _act(lambda: actions.act_on_flags(_operator(), target_type, target_id, action, form.reason.data,
                                             reported=reported),
                f"{done}. {told} owner has been told why.", back)


# --- users -----------------------------------------------------------------------------------

@bp.get("/users/<int:user_id>")
@operator_required
def user(user_id: int):
    context = _owner_context(user_id)
    if context["owner"].is_operator:
        abort(404)
    return render_template("moderation/user.html", **context, reason_labels=flags.REASON_LABELS)


def _user_action(user_id: int, prefix: str, form_class, action, success: str):
    form = form_class(prefix=prefix)
    back = safe_next(request.form.get("back"), url_for("moderation.user", user_id=user_id))
    problem = _form_problem(form)
    if problem:
        flash(problem, "danger")
        return redirect(back)
    return _act(lambda: action(_operator(), user_id, form.reason.data), success, back)


@bp.post("/users/<int:user_id>/warn")
@operator_required
def warn_user(user_id: int):
    return _user_action(user_id, "warn", ReasonForm, actions.warn_user, "Warning sent.")


@bp.post("/users/<int:user_id>/suspend")
@operator_required
def suspend_user(user_id: int):
    return _user_action(user_id, "suspend", ReasonForm, actions.suspend_user,
                        "Account suspended. Their open tasks are hidden and pending proposals withdrawn.")


@bp.post("/users/<int:user_id>/reinstate")
@operator_required
def reinstate_user(user_id: int):
    return _user_action(user_id, "reinstate", OptionalReasonForm, actions.reinstate_user,
                        "Account reinstated. Their tasks are visible again.")


# --- audit log -------------------------------------------------------------------------------

@bp.get("/audit")
@operator_required
def audit():
    filters = console.parse_audit_filters(request.args)
    page_number = bounded_int(request.args, "page", 1)
    page = console.audit_page(current_user, filters, page_number)
    return render_template("moderation/audit.html", page=page, filters=filters, actions=console.audit_actions(),
                           target_types=console.audit_target_types())
