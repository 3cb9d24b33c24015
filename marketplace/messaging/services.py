"""Messaging use cases (stub: replaced by the messaging feature)."""
from __future__ import annotations


def unread_thread_count(user) -> int:
    return 0
