"""Disputes: the statement panel on the engagement page and the operator's dispute pages."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField, TextAreaField
from wtforms.validators import DataRequired

from marketplace.core.errors import Conflict, Forbidden, ValidationFailed
from marketplace.core.forms import SingleLineField
from marketplace.core.money import to_major
from marketplace.engagements.services import get_engagement_for
from marketplace.core.queue import enqueue
from marketplace.extensions import db
from marketplace.moderation import disputes
from marketplace.moderation.access import operator_required, second_factor_passed

bp = Blueprint("disputes", __name__)


class StatementForm(FlaskForm):
    # Length and emptiness are checked by the service (one message for the page and the tests).
    body = TextAreaField("Your statement", render_kw={"rows": 4, "maxlength": disputes.STATEMENT_MAX})


class DecisionForm(FlaskForm):
    refund = SingleLineField("Refund to the business", render_kw={"inputmode": "decimal", "autocomplete": "off"})
    release = SingleLineField("Release to the specialist", render_kw={"inputmode": "decimal", "autocomplete": "off"})
    note = TextAreaField("Decision note (shown to both parties)",
                         render_kw={"rows": 3, "maxlength": disputes.DECISION_NOTE_MAX})
    # The confirmation step: a decision moves the held money at once and can't be undone.
    confirm = BooleanField("I have read both sides; this split is final and moves the money now.",
                           validators=[DataRequired("Tick the box to confirm the split: a decision can't be undone.")])


def _csrf_or_error(form: FlaskForm) -> None:
    if not form.validate_on_submit():
        messages = [m for errors in form.errors.values() for m in errors]
        raise ValidationFailed(messages[0] if messages else "Your form expired. Please reload the page and try again.")


@bp.app_context_processor
def _dispute_panel_global():
    def dispute_panel(engagement):
        """The dispute thread for the engagement page, or None when there is nothing to show this user."""
        if engagement is None or engagement.status.value not in ("disputed", "resolved"):
            return None
        if not disputes.can_see_thread(current_user, engagement):
            return None
        return {"statements": disputes.statements_of(engagement),
                "can_add": disputes.can_add_statement(current_user, engagement),
                "is_open": engagement.status.value == "disputed",
                "form": StatementForm(),
                "operator_link": url_for("disputes.operator_show", engagement_id=engagement.id)
                if current_user.is_operator else None}
    return {"dispute_panel": dispute_panel}


@bp.post("/engagements/<int:engagement_id>/dispute/statements")
@login_required
def add_statement(engagement_id: int):
    engagement = get_engagement_for(current_user, engagement_id)
    if (current_user.is_operator and not disputes.is_party(current_user, engagement)
            and not second_factor_passed(current_user)):
        raise Forbidden("Confirm your second factor in the moderation console first.")
    form = StatementForm()
    back = url_for("engagements.show", engagement_id=engagement.id) + "#dispute"
    try:
        _csrf_or_error(form)
        disputes.add_statement(current_user, engagement, form.body.data)
    except (ValidationFailed, Conflict) as error:
        db.session.rollback()
        flash(error.message, "danger")
        return redirect(back)
    db.session.commit()
    flash("Your statement was added to the dispute. The other side has been notified.", "success")
    return redirect(back)


# --- operators ------------------------------------------------------------------------------------

@bp.get("/moderation/disputes")
@operator_required
def operator_index():
    return render_template("moderation/disputes.html", open_rows=disputes.open_disputes(current_user),
                           resolved_rows=disputes.recently_resolved(current_user))


def _render_case(engagement_id: int, form: DecisionForm | None = None, error: ValidationFailed | None = None):
    case = disputes.dispute_case(current_user, engagement_id)
    if form is None:
        form = DecisionForm()
        if case.is_open and not form.refund.data and not form.release.data:
            form.refund.data, form.release.data = "0.00", f"{to_major(case.held)}"
    form.confirm.data = False   # a refused decision is confirmed again, for the split as corrected
    return render_template("moderation/disputes_show.html", case=case, engagement=case.engagement, form=form,
                           error=error), 400 if error else 200


@bp.get("/moderation/disputes/<int:engagement_id>")
@operator_required
def operator_show(engagement_id: int):
    return _render_case(engagement_id)


@bp.post("/moderation/disputes/<int:engagement_id>/decide")
@operator_required
def operator_decide(engagement_id: int):
    case = disputes.dispute_case(current_user, engagement_id)
    form = DecisionForm()
    try:
        _csrf_or_error(form)
        disputes.decide(current_user, case.engagement, form.refund.data, form.release.data, form.note.data)
    except ValidationFailed as error:
        db.session.rollback()
        return _render_case(engagement_id, form, error)
    except Conflict as error:
        db.session.rollback()
        flash(error.message, "warning")
        return redirect(url_for("disputes.operator_show", engagement_id=engagement_id))
    db.session.commit()
    enqueue("payments.engagement", engagement_id=engagement_id)
    flash("Dispute resolved. Both parties have been notified and the money is on its way.", "success")
    return redirect(url_for("disputes.operator_show", engagement_id=engagement_id))
