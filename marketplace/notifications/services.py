"""The one notification service (stub: replaced by the notifications feature)."""
from __future__ import annotations


def unread_count(user) -> int:
    return 0


def send_message_digests() -> int:
    return 0


def notify(user, kind: str, title: str, body: str = "", link: str = "", email: bool = True):
    return None
