"""Message pages: the inbox, a thread, and replying in it."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from jinja2.utils import urlize
from markupsafe import Markup

from marketplace.core.errors import DomainError
from marketplace.core.forms import attach_error, bounded_int
from marketplace.core.requests import accepts_files
from marketplace.extensions import db
from marketplace.messaging import services
from marketplace.messaging.forms import MessageForm

bp = Blueprint("messaging", __name__)


@bp.app_template_filter("message_html")
def message_html(text: str | None) -> Markup:
    """A plain-text message as HTML: escaped, line breaks kept, web addresses linked."""
    # urlize escapes everything it does not turn into a link, and links only http(s), www. and emails.
    html = urlize(text or "", trim_url_limit=60, rel="nofollow noopener noreferrer", target="_blank")
    return Markup(html.replace("\n", "<br>\n"))


@bp.get("/messages")
@login_required
def inbox():
    page = bounded_int(request.args, "page", 1)
    return render_template("messaging/inbox.html", inbox=services.threads_for(current_user, page))


@bp.get("/messages/<int:thread_id>")
@login_required
def thread(thread_id: int):
    conversation = services.get_thread_for(current_user, thread_id)
    before = bounded_int(request.args, "before", 0, low=0, high=2**31 - 1) or None
    if before is None:
        services.mark_thread_read(current_user, conversation)
        db.session.commit()
    return _render_thread(conversation, MessageForm(), before=before)


@bp.post("/proposals/<int:bid_id>/message")
@login_required
def message_bidder(bid_id: int):
    from flask import abort

    from marketplace.bidding.models import Bid
    from marketplace.messaging.forms import OpenThreadForm
    bid = db.session.get(Bid, bid_id)
    if bid is None or not OpenThreadForm().validate_on_submit():
        abort(404 if bid is None else 400)
    conversation = services.thread_for_bid(current_user, bid)
    db.session.commit()
    return redirect(url_for("messaging.thread", thread_id=conversation.id, _anchor="reply"))


@bp.post("/messages/<int:thread_id>")
@login_required
@accepts_files("attachment")
def send(thread_id: int):
    from marketplace.files.attachments import PendingFile
    from marketplace.files.views import read_upload
    conversation = services.get_thread_for(current_user, thread_id)
    form = MessageForm()
    if form.validate_on_submit():
        try:
            upload = read_upload("attachment")
            pending = PendingFile(*upload) if upload else None
            message = services.post_message(current_user, conversation, form.body.data, pending)
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            attach_error(form, error, "body")
        else:
            return redirect(url_for("messaging.thread", thread_id=thread_id, _anchor=f"m-{message.id}"))
    return _render_thread(conversation, form), 400


def _render_thread(conversation, form: MessageForm, before: int | None = None):
    from marketplace.files.attachments import on_messages
    view = services.messages_in(current_user, conversation, before=before)
    return render_template("messaging/thread.html", thread=conversation, view=view, form=form,
                           attachments=on_messages(m.id for m in view.messages))
