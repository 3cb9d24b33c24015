"""Message threads and notifications."""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields

from marketplace.api import paging
from marketplace.api.resources.common import actor
from marketplace.api.schemas import MessageInSchema, MessageSchema, NotificationSchema, ThreadSchema
from marketplace.messaging import services as messaging
from marketplace.notifications import services as notifications

blp = Blueprint("Conversations", __name__, url_prefix="/api/v1", description="Messages and notifications.")


class InboxThreadSchema(ThreadSchema):
    unread = fields.Integer(required=True)


class MessagesArgs(Schema):
    limit = fields.Integer(load_default=50, validate=lambda n: 1 <= n <= 100)
    cursor = fields.String(load_default=None, validate=lambda c: len(c) <= 100,
                           metadata={"description": "next_cursor of the previous page: earlier messages."})


@blp.route("/threads", methods=["GET"])
@blp.arguments(paging.PageArgs, location="query")
@blp.response(200, paging.envelope(InboxThreadSchema))
@blp.doc(operationId="listThreads")
def list_threads(args):
    """Your conversations, most recent activity first, with unread counts."""
    page_number = paging.decode(args["cursor"]) or 1
    inbox = messaging.threads_for(actor(), page_number, args["limit"])
    rows = [{**ThreadSchema().dump(row.thread), "unread": row.unread} for row in inbox.rows]
    return {"data": rows, "next_cursor": paging.encode(page_number + 1) if inbox.page.has_next else None}


@blp.route("/threads/<int:thread_id>/messages", methods=["GET"])
@blp.arguments(MessagesArgs, location="query")
@blp.response(200, paging.envelope(MessageSchema))
@blp.doc(operationId="listMessages")
def list_messages(args, thread_id: int):
    """The latest messages of a thread (oldest first); next_cursor pages back to earlier ones."""
    before = paging.decode(args["cursor"]) or None
    view = messaging.messages_in(actor(), messaging.get_thread_for(actor(), thread_id), before=before,
                                 limit=args["limit"])
    earlier = paging.encode(view.messages[0].id) if view.has_earlier and view.messages else None
    return {"data": view.messages, "next_cursor": earlier}


@blp.route("/threads/<int:thread_id>/messages", methods=["POST"])
@blp.arguments(MessageInSchema)
@blp.response(201, MessageSchema)
@blp.doc(operationId="sendMessage")
def send_message(fields, thread_id: int):
    """Send a message (the risk screen may hold it for review, as on the site)."""
    return messaging.post_message(actor(), messaging.get_thread_for(actor(), thread_id), fields["body"])


@blp.route("/threads/<int:thread_id>/read", methods=["POST"])
@blp.response(204)
@blp.doc(operationId="markThreadRead")
def mark_thread_read(thread_id: int):
    messaging.mark_thread_read(actor(), messaging.get_thread_for(actor(), thread_id))


@blp.route("/notifications", methods=["GET"])
@blp.arguments(paging.PageArgs, location="query")
@blp.response(200, paging.envelope(NotificationSchema))
@blp.doc(operationId="listNotifications")
def list_notifications(args):
    page_number = paging.decode(args["cursor"]) or 1
    page = notifications.list_for(actor(), page_number, args["limit"])
    return {"data": list(page.items), "next_cursor": paging.encode(page_number + 1) if page.has_next else None}


@blp.route("/notifications/<int:notification_id>/read", methods=["POST"])
@blp.response(200, NotificationSchema)
@blp.doc(operationId="markNotificationRead")
def mark_notification_read(notification_id: int):
    return notifications.mark_read(actor(), notification_id)
