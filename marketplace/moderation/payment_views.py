"""Payments needing attention in the operator console (`/moderation/payments`), with the retry button."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from marketplace.core.errors import DomainError
from marketplace.extensions import db
from marketplace.moderation import payment_actions
from marketplace.moderation.access import operator_required
from marketplace.moderation.forms import OptionalReasonForm
from marketplace.payments import attention, executor

bp = Blueprint("payment_attention", __name__)


@bp.get("/moderation/payments")
@operator_required
def index():
    items = attention.items_for(current_user)
    return render_template("moderation/payments.html", items=items, form=OptionalReasonForm(prefix="retry"),
                           stuck_hours=int(attention.stuck_after().total_seconds() // 3600))


@bp.post("/moderation/payments/<kind>/<int:row_id>/retry")
@operator_required
def retry(kind: str, row_id: int):
    if kind not in attention.MOVEMENTS:
        abort(404)
    back = url_for("payment_attention.index")
    form = OptionalReasonForm(prefix="retry")
    if not form.validate_on_submit():
        flash("Your form expired. Please try again.", "danger")
        return redirect(back)
    try:
        payment = payment_actions.retry_payment(current_user._get_current_object(), kind, row_id, form.reason.data)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return redirect(back)
    executor.execute_for_engagement(payment.engagement_id)   # the job retries whatever fails now
    db.session.refresh(payment)
    flash(f"Retried: the {attention.LABELS[kind].lower()} is now {payment.status.replace('_', ' ')}.",
          "success" if payment.status in ("paid", "succeeded", "processing") else "warning")
    return redirect(back)
