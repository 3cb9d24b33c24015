"""The outbox in the browser: operators always, everyone when OUTBOX_PUBLIC (development)."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user
from sqlalchemy import select

from marketplace.core.errors import Forbidden, NotFound
from marketplace.core.forms import bounded_int
from marketplace.extensions import db
from marketplace.outbox.models import OutboxMessage

bp = Blueprint("outbox", __name__, url_prefix="/outbox")


def _require_outbox_access() -> None:
    if current_app.config["OUTBOX_PUBLIC"]:
        return
    if not (current_user.is_authenticated and current_user.is_operator):
        raise Forbidden("Only operators can read the outbox.")


@bp.get("/")
def index():
    _require_outbox_access()
    to = (request.args.get("to") or "").strip().lower()
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc())
    if to:
        query = query.where(OutboxMessage.to_address == to)
    page = db.paginate(query, page=bounded_int(request.args, "page", 1), per_page=25, error_out=False)
    return render_template("outbox/index.html", page=page, to=to)


@bp.get("/<int:message_id>")
def show(message_id: int):
    _require_outbox_access()
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound("No such message.")
    return render_template("outbox/show.html", message=message)
