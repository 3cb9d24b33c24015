"""Files attached to a message or to a delivery."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.core.time import utcnow
from marketplace.extensions import db


class Attachment(db.Model):
    """One uploaded file, on exactly one message or one engagement's delivery.

    The bytes live in storage under `storage_key` (and an image's preview under `preview_key`);
    the name is the uploader's, cleaned, and only ever shown or used as the download name.
    """

    __tablename__ = "attachments"
    __table_args__ = (
        CheckConstraint("(message_id IS NULL) <> (engagement_id IS NULL)", name="one_owner"),
        CheckConstraint("size > 0", name="size_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uploader_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    engagement_id: Mapped[int | None] = mapped_column(ForeignKey("engagements.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(120))
    content_type: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(10))          # image, pdf, text (files/content.py)
    size: Mapped[int] = mapped_column(Integer)
    storage_key: Mapped[str] = mapped_column(String(200))
    preview_key: Mapped[str | None] = mapped_column(String(200))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    @property
    def is_image(self) -> bool:
        return self.kind == "image"

    @property
    def size_label(self) -> str:
        if self.size < 1024:
            return f"{self.size} B"
        if self.size < 1024 * 1024:
            return f"{self.size / 1024:.0f} KB"
        return f"{self.size / (1024 * 1024):.1f} MB"
