"""Operators acting on payments needing attention: retrying a refused, failed or stuck payout, refund or
payout reversal. The retry itself is the payments service's (a new operation under a new idempotency
key); this adds the operator's audit entry in the same transaction."""
from __future__ import annotations

from marketplace.accounts.models import User
from marketplace.core.errors import NotFound
from marketplace.core.money import format_money
from marketplace.extensions import db
from marketplace.moderation import audit
from marketplace.moderation.access import require_operator
from marketplace.payments import attention, services


def retry_payment(operator: User, kind: str, row_id: int, reason: str = ""):
    """Retry one movement from the list (flush only; the caller commits, then sends it)."""
    require_operator(operator)
    payment = attention.find_movement(kind, row_id)
    if payment is None:
        raise NotFound("We couldn't find that payment.")
    previous = f"{payment.status}: {payment.failure_message}" if payment.failure_message else payment.status
    services.retry_payment(operator, payment)
    from marketplace.engagements.models import Engagement
    engagement = db.session.get(Engagement, payment.engagement_id)
    subject = None
    if engagement is not None:
        subject = engagement.business_id if kind == "refund" else engagement.freelancer_id
    audit.record(operator, "retry_payment", kind, payment.id, subject_user_id=subject, reason=reason,
                 details=f"{attention.LABELS[kind]} of {format_money(payment.amount, payment.currency)} on "
                         f"engagement {payment.engagement_id}; was {previous}")
    return payment
