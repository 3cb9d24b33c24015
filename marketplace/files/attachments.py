"""Attachments on messages and deliveries: checked on their content, stored, served to the parties only.

Who may download: for a message, the two people in its thread (and only the sender while the
message is held or refused); for a delivery, the engagement's business and specialist;
operators always. Anyone else gets "not found", never a hint that the file exists.
"""
from __future__ import annotations

import re
import secrets
import unicodedata
from collections import defaultdict
from collections.abc import Iterable

from flask import current_app
from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.core.errors import NotFound, ValidationFailed
from marketplace.core.time import utcnow
from marketplace.extensions import db
from marketplace.files.content import sniff
from marketplace.files.images import reencode_attachment
from marketplace.files.models import Attachment
from marketplace.storage import storage

NOT_FOUND = "We couldn't find that file."
MAX_NAME = 120


def clean_filename(name: str | None, extension: str) -> str:
    """The uploader's name for the file, made safe to show and to offer as a download name,
    with the extension of what the file really is."""
    name = unicodedata.normalize("NFKC", (name or "").replace("\\", "/").rsplit("/", 1)[-1])
    stem = name.rsplit(".", 1)[0] if "." in name else name
    stem = re.sub(r"[^\w .()-]+", "_", stem).strip(" ._") or "file"
    return f"{stem[:MAX_NAME - len(extension) - 1]}.{extension}"


class PendingFile:
    """An upload checked and ready to store, before it has an owner row."""

    def __init__(self, data: bytes, filename: str | None):
        limit = current_app.config["UPLOAD_MAX_BYTES"]
        if len(data) > limit:
            raise ValidationFailed(f"That file is larger than {limit // (1024 * 1024)} MB.", field="file")
        sniffed = sniff(data)
        self.kind, self.content_type = sniffed.kind, sniffed.content_type
        self.width = self.height = None
        self.preview: bytes | None = None
        if sniffed.kind == "image":
            data, self.preview, (self.width, self.height) = reencode_attachment(data, sniffed.image_format)
            if sniffed.image_format == "GIF":   # stored as its first frame, in PNG
                sniffed = type(sniffed)("image", "image/png", "png", "PNG")
                self.content_type = sniffed.content_type
        self.data = data
        self.filename = clean_filename(filename, sniffed.extension)
        self.extension = sniffed.extension


def store(uploader: User, pending: PendingFile, *, message_id: int | None = None,
          engagement_id: int | None = None) -> Attachment:
    """Write the file to storage and record it on its message or delivery (the caller checked the right to)."""
    now = utcnow()
    token = secrets.token_urlsafe(18)
    key = f"attachments/{now:%Y}/{now:%m}/{token}.{pending.extension}"
    storage().put(key, pending.data, pending.content_type)
    preview_key = None
    if pending.preview is not None:
        preview_key = f"attachments/{now:%Y}/{now:%m}/{token}-preview.webp"
        storage().put(preview_key, pending.preview, "image/webp")
    attachment = Attachment(uploader_id=uploader.id, message_id=message_id, engagement_id=engagement_id,
                            filename=pending.filename, content_type=pending.content_type, kind=pending.kind,
                            size=len(pending.data), storage_key=key, preview_key=preview_key,
                            width=pending.width, height=pending.height, created_at=now)
    db.session.add(attachment)
    db.session.flush()
    return attachment


def _may_read(actor: User, attachment: Attachment) -> bool:
    if actor is None or getattr(actor, "is_anonymous", True):
        return False
    if actor.is_operator:
        return True
    if attachment.message_id is not None:
        from marketplace.messaging.models import Message, Thread
        from marketplace.tasks.models import ModerationStatus
        row = db.session.execute(select(Thread.business_id, Thread.freelancer_id, Message.sender_id,
                                        Message.moderation_status)
                                 .join(Message, Message.thread_id == Thread.id)
                                 .where(Message.id == attachment.message_id)).first()
        if row is None or actor.id not in (row.business_id, row.freelancer_id):
            return False
        return row.moderation_status == ModerationStatus.APPROVED or row.sender_id == actor.id
    from marketplace.engagements.models import Engagement
    row = db.session.execute(select(Engagement.business_id, Engagement.freelancer_id)
                             .where(Engagement.id == attachment.engagement_id)).first()
    return row is not None and actor.id in (row.business_id, row.freelancer_id)


def get_for_download(actor: User, attachment_id: int) -> Attachment:
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or not _may_read(actor, attachment):
        raise NotFound(NOT_FOUND)
    return attachment


def read(attachment: Attachment, preview: bool = False) -> bytes:
    from marketplace.storage import StoredFileMissing
    key = attachment.preview_key if preview else attachment.storage_key
    if key is None:
        raise NotFound(NOT_FOUND)
    try:
        return storage().get(key)
    except StoredFileMissing as error:
        raise NotFound(NOT_FOUND) from error


def on_messages(message_ids: Iterable[int]) -> dict[int, list[Attachment]]:
    """The attachments of these messages, one query (the thread page already limits who sees which)."""
    ids = list(message_ids)
    found: dict[int, list[Attachment]] = defaultdict(list)
    if ids:
        for attachment in db.session.scalars(select(Attachment).where(Attachment.message_id.in_(ids))
                                             .order_by(Attachment.id)):
            found[attachment.message_id].append(attachment)
    return found


def on_delivery(engagement_id: int) -> list[Attachment]:
    return list(db.session.scalars(select(Attachment).where(Attachment.engagement_id == engagement_id)
                                   .order_by(Attachment.id)))
