"""The append-only audit log: one entry per operator action (and per system decision such as a risk hold).

Every moderation service calls `record()` in the same transaction as the
action it records, so an action and its audit entry commit together or not at all.
"""
from __future__ import annotations

from marketplace.accounts.models import User
from marketplace.extensions import db
from marketplace.moderation.models import AuditEntry

REASON_MAX = 2000
DETAILS_MAX = 2000


def record(actor: User | None, action: str, target_type: str, target_id: int, *,
           subject_user_id: int | None = None, reason: str = "", details: str = "") -> AuditEntry:
    entry = AuditEntry(actor_id=actor.id if actor is not None else None, action=action[:40],
                       target_type=target_type[:20], target_id=target_id, subject_user_id=subject_user_id,
                       reason=(reason or "")[:REASON_MAX], details=(details or "")[:DETAILS_MAX])
    db.session.add(entry)
    db.session.flush()
    return entry
