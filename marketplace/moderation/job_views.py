"""Background jobs in the operator console (`/moderation/jobs`): queue depth and the dead-letter list.

A job that ran out of retries waits here; an operator retries it (jobs are safe to run twice) or
discards it, and either lands in the audit log.
"""
from __future__ import annotations

import re

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from marketplace.core import queue
from marketplace.extensions import db
from marketplace.moderation import audit
from marketplace.moderation.access import operator_required
from marketplace.moderation.forms import OptionalReasonForm

bp = Blueprint("job_console", __name__)

JOB_ID = re.compile(r"[0-9a-f-]{1,64}")


@bp.get("/moderation/jobs")
@operator_required
def index():
    try:
        failed, depth, reachable = queue.failed_jobs(), queue.queue_depth(), True
    except Exception:   # Redis down: say so rather than fail the page
        current_app.logger.exception("job queue unreachable")
        failed, depth, reachable = [], {}, False
    return render_template("moderation/jobs.html", failed=failed, depth=depth, reachable=reachable,
                           uses_redis=queue.uses_redis(), form=OptionalReasonForm(prefix="job"))


@bp.post("/moderation/jobs/<job_id>/<any(retry, discard):job_action>")
@operator_required
def act(job_id: str, job_action: str):
    action = job_action
    if not JOB_ID.fullmatch(job_id) or not queue.uses_redis():
        abort(404)
    form = OptionalReasonForm(prefix="job")
    if not form.validate_on_submit():
        flash("Your form expired. Please try again.", "danger")
        return redirect(url_for("job_console.index"))
    job = queue.retry_failed(job_id) if action == "retry" else queue.discard_failed(job_id)
    if job is None:
        flash("That job is no longer in the failed list.", "info")
        return redirect(url_for("job_console.index"))
    audit.record(current_user._get_current_object(), f"{action}_job", "job", 0, reason=form.reason.data or "",
                 details=f"{job.name} {job.kwargs} (job {job.id}): {job.error}")
    db.session.commit()
    flash(f"Job {job.name} " + ("queued again." if action == "retry" else "discarded."), "success")
    return redirect(url_for("job_console.index"))
