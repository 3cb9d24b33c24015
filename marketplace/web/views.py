from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from marketplace.extensions import csrf, db, limiter

bp = Blueprint("web", __name__)


@bp.get("/")
def index():
    from marketplace.showcase.home import categories, featured_specialists
    return render_template("web/index.html", categories=categories(), featured=featured_specialists())


# Short pages the footer links to; their text lives in the templates.
INFO_PAGES = {"terms": "Terms of service", "privacy": "Privacy", "help": "Help and FAQ", "fees": "Fees"}


@bp.get("/<any(terms, privacy, help, fees):page>")
def info(page: str):
    from flask import current_app
    from marketplace.core.money import split_fee
    # The fees page's worked example goes through the same fee rule as every payment.
    _fee, example_payout = split_fee(100_000, current_app.config["PLATFORM_FEE_BPS"])
    return render_template(f"web/pages/{page}.html", title=INFO_PAGES[page], example_amount=100_000,
                           example_payout=example_payout)


@bp.get("/dashboard")
@login_required
def dashboard():
    if current_user.is_operator:
        return redirect(url_for("outbox.index"))
    context = {}
    if current_user.is_freelancer:
        from marketplace.matching.service import recommended_for
        from marketplace.profiles.services import get_own_freelancer_profile
        context["profile"] = get_own_freelancer_profile(current_user)
        context["recommended"] = recommended_for(current_user, limit=5)
        from marketplace.showcase.completeness import completeness
        from marketplace.showcase.dashboard import specialist_agenda
        context["agenda"] = specialist_agenda(current_user)
        context["completeness"] = completeness(context["profile"])
    elif current_user.is_business:
        from marketplace.profiles.services import get_own_business_profile
        from marketplace.tasks.services import tasks_of
        context["profile"] = get_own_business_profile(current_user)
        context["task_rows"] = tasks_of(current_user, limit=5)
        from marketplace.showcase.dashboard import business_agenda
        context["agenda"] = business_agenda(current_user)
    if current_user.is_freelancer or current_user.is_business:
        from marketplace.core.time import app_now
        from marketplace.timesheets.services import weekly_overview
        context["week_summaries"] = weekly_overview(current_user, now=app_now())
    return render_template("web/dashboard.html", **context)


@bp.get("/ping")
@limiter.exempt
def ping():
    """Liveness: the process answers (no database). /healthz is the readiness check."""
    return "pong", 200, {"Content-Type": "text/plain; charset=utf-8"}


@bp.get("/healthz")
@limiter.exempt
@csrf.exempt
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="error", database="error"), 503
    # Redis down is reported but keeps the instance in rotation: pages work (rate limits per worker, jobs
    # recorded in the database for `jobs run-due`).
    return jsonify(status="ok", database="ok", queue=_queue_health())


def _queue_health() -> str:
    from marketplace.core import queue
    if not queue.uses_redis():
        return "in-process"
    try:
        queue.redis_connection().ping()
    except Exception:
        return "unreachable"
    return "ok"
