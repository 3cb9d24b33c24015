"""The outbox in the browser: operators always, everyone when OUTBOX_PUBLIC (development)."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from marketplace.core.forms import bounded_int
from marketplace.extensions import db
from marketplace.outbox import reading
from marketplace.outbox.services import failed_count

bp = Blueprint("outbox", __name__, url_prefix="/outbox")


@bp.get("/")
def index():
    to = (request.args.get("to") or "").strip().lower()
    status = request.args.get("status") or ""
    status = status if status in reading.STATUSES else ""
    page = reading.list_messages(current_user, to=to, status=status, page=bounded_int(request.args, "page", 1))
    db.session.commit()   # the audit entry of an operator's look
    return render_template("outbox/index.html", page=page, to=to, status=status, failed=failed_count())


@bp.get("/<int:message_id>")
def show(message_id: int):
    message = reading.open_message(current_user, message_id)
    db.session.commit()
    return render_template("outbox/show.html", message=message, body=reading.readable_body(message))
