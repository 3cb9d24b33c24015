"""Domain events: a service says what happened; interested features subscribe.

`publish()` is called inside the transaction of the change. Subscribers (outgoing
webhooks today) must only write rows in that same session, never do I/O, so the
event exists exactly when the change committed (the outbox pattern).
"""
from __future__ import annotations

from typing import Iterable

from blinker import Namespace

_signals = Namespace()
domain_event = _signals.signal("domain-event")

# Every event type, with what it means. The webhook pages and the README list them from here.
EVENT_TYPES: dict[str, str] = {
    "proposal.received": "A specialist sent a proposal on one of your tasks.",
    "invitation.answered": "A specialist accepted or declined your invitation.",
    "engagement.funded": "An engagement (milestone) was funded; work can start.",
    "engagement.delivered": "The specialist delivered the work.",
    "engagement.approved": "The delivery was approved and the payment released.",
    "engagement.disputed": "A dispute was opened on an engagement.",
    "message.received": "Someone sent you a message.",
    "invoice.charged": "A weekly invoice of an hourly contract was charged.",
    "review.revealed": "A review of you became visible.",
}


def publish(event_type: str, recipients: Iterable[int], data: dict) -> None:
    """Announce `event_type` to the users in `recipients`, with `data` (JSON-serialisable ids and states)."""
    assert event_type in EVENT_TYPES, event_type
    domain_event.send(event_type, recipients=sorted(set(recipients)), data=data)
