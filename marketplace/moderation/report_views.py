"""The "Report" action on tasks, profiles, bids, messages and reviews."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request
from flask_login import current_user, login_required

from marketplace.core.errors import Conflict, DomainError
from marketplace.core.forms import attach_error
from marketplace.core.urls import safe_next
from marketplace.extensions import db
from marketplace.moderation import flags
from marketplace.moderation.forms import ReportForm
from marketplace.moderation.models import TARGET_TYPES

bp = Blueprint("reports", __name__)


@bp.route("/report/<target_type>/<int:target_id>", methods=["GET", "POST"])
@login_required
def new(target_type: str, target_id: int):
    if target_type not in TARGET_TYPES:
        abort(404)
    target = flags.reportable_target(current_user, target_type, target_id)   # own / invisible / unknown: refused
    back = safe_next(request.values.get("back") or request.referrer, target.path or "/dashboard")
    if request.method == "GET" and flags.has_open_flag(current_user, target_type, target_id):
        flash(flags.DUPLICATE, "info")
        return redirect(back)
    form = ReportForm()
    if form.validate_on_submit():
        try:
            flags.report(current_user, target_type, target_id, form.reason.data, form.details.data or "")
            db.session.commit()
        except Conflict as error:
            db.session.rollback()
            flash(error.message, "info")
            return redirect(back)
        except DomainError as error:
            db.session.rollback()
            attach_error(form, error)
        else:
            flash("Thanks for telling us. Our moderation team will review it; "
                  "the person you reported won't see who reported them.", "success")
            return redirect(back)
    return render_template("moderation/report.html", form=form, target=target, back=back,
                           type_label=flags.TYPE_LABELS[target_type]), 400 if request.method == "POST" else 200
