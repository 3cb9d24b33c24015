"""Notification pages: the list, open one (marks it read), mark all read."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from marketplace.core.time import as_utc, utcnow
from marketplace.core.urls import safe_next
from marketplace.core.forms import bounded_int
from marketplace.extensions import db
from marketplace.notifications import services

bp = Blueprint("notifications", __name__)

# (label, Bootstrap badge classes) per kind; unknown kinds get a neutral badge.
KIND_BADGES = {
    "message": ("Message", "text-bg-primary"),
    "new_bid": ("Proposal", "text-bg-info"),
    "bid_declined": ("Proposal", "text-bg-secondary"),
    "invitation": ("Invitation", "text-bg-info"),
    "invitation_accepted": ("Invitation", "text-bg-success"),
    "invitation_declined": ("Invitation", "text-bg-secondary"),
    "hired": ("Hired", "text-bg-success"),
    "funding": ("Payment", "text-bg-success"),
    "funded": ("Payment", "text-bg-success"),
    "payout": ("Payout", "text-bg-success"),
    "delivery": ("Delivery", "text-bg-warning"),
    "delivered": ("Delivery", "text-bg-warning"),
    "approval": ("Approved", "text-bg-success"),
    "approved": ("Approved", "text-bg-success"),
    "dispute": ("Dispute", "text-bg-danger"),
    "moderation": ("Moderation", "text-bg-danger"),
}


def kind_badge(kind: str) -> tuple[str, str]:
    if kind in KIND_BADGES:
        return KIND_BADGES[kind]
    family = kind.split("_", 1)[0]
    if family in KIND_BADGES:
        return KIND_BADGES[family]
    return kind.replace("_", " ").capitalize(), "text-bg-light border"


@bp.app_template_filter("time_ago")
def time_ago(value: datetime | None) -> str:
    """'just now', '5 min ago', '3 h ago', '2 days ago', then the date."""
    value = as_utc(value)
    if value is None:
        return ""
    seconds = max((utcnow() - value).total_seconds(), 0)
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    days = int(seconds // 86400)
    if days < 7:
        return "yesterday" if days == 1 else f"{days} days ago"
    return value.strftime("%b %d, %Y").replace(" 0", " ")


@bp.get("/notifications")
@login_required
def index():
    page = bounded_int(request.args, "page", 1)
    return render_template("notifications/index.html", page=services.list_for(current_user, page),
                           unread=services.unread_count(current_user), kind_badge=kind_badge)


# Both actions are POST forms carrying csrf_token(); CSRFProtect checks every POST.
@bp.post("/notifications/<int:notification_id>/read")
@login_required
def read(notification_id: int):
    notification = services.mark_read(current_user, notification_id)
    db.session.commit()
    return redirect(safe_next(notification.link, url_for("notifications.index")))


@bp.post("/notifications/read-all")
@login_required
def read_all():
    changed = services.mark_all_read(current_user)
    db.session.commit()
    if changed:
        flash(f"Marked {changed} notification{'s' if changed != 1 else ''} as read.", "success")
    return redirect(url_for("notifications.index"))
