"""Payments needing attention: the money exceptions operators must see and act on.

An item is a payout, refund or payout reversal that Stripe refused or failed,
or that ran out of automatic attempts (with Stripe's message); one still in
flight past PAYMENTS_STUCK_AFTER_HOURS (an event lost, a job not running); or an open card
dispute. Each item is announced to operators once when it enters the list
(in-app and by email), recorded as a `PaymentAlert` under a key that includes
its state and attempt, so the same failure is announced once but a new
failure after a retry is announced again.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError

from marketplace.accounts.models import AccountStatus, Role, User
from marketplace.core.errors import Forbidden
from marketplace.core.money import format_money
from marketplace.core.time import utcnow
from marketplace.extensions import db
from marketplace.notifications.services import absolute_url, notify
from marketplace.outbox.services import send_mail
from marketplace.payments.models import (CARD_DISPUTE_CLOSED, CardDispute, PaymentAlert, Refund, Transfer,
                                         TransferReversal)

# States an operator must act on (refused / stuck / failed: nothing automatic will move them).
NEEDS_OPERATOR = ("failed", "refused", "stuck")
# States that move on their own, unless something is wrong: listed once older than PAYMENTS_STUCK_AFTER_HOURS.
IN_FLIGHT = ("pending", "submitting", "retrying", "processing")
MOVEMENTS = {"payout": Transfer, "refund": Refund, "reversal": TransferReversal}
LABELS = {"payout": "Payout to a specialist", "refund": "Refund to a business", "reversal": "Payout reversal",
          "card_dispute": "Card dispute"}
LIST_PATH = "/moderation/payments"


@dataclass
class Item:
    kind: str              # payout | refund | reversal | card_dispute
    id: int
    engagement_id: int | None
    amount: int
    currency: str
    status: str
    message: str
    since: datetime
    attempts: int = 0
    late: bool = False     # in flight past PAYMENTS_STUCK_AFTER_HOURS rather than refused/failed

    @property
    def key(self) -> str:
        if self.kind == "card_dispute":
            return f"card_dispute:{self.id}"
        return f"{self.kind}:{self.id}:{self.status}:{self.attempts}" + (":late" if self.late else "")

    @property
    def label(self) -> str:
        return LABELS[self.kind]

    @property
    def retryable(self) -> bool:
        return self.kind in MOVEMENTS and not self.late

    def summary(self) -> str:
        what = f"{self.label} of {format_money(self.amount, self.currency)}"
        where = f" (engagement {self.engagement_id})" if self.engagement_id else ""
        why = self.message or ("still in flight" if self.late else self.status.replace("_", " "))
        return f"{what}{where}: {why}"


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes for timezone-aware columns.
    from datetime import timezone
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def stuck_after() -> timedelta:
    return timedelta(hours=current_app.config["PAYMENTS_STUCK_AFTER_HOURS"])


def collect(now: datetime | None = None) -> list[Item]:
    """Every item needing attention, oldest first (no permission check: for jobs)."""
    now = now or utcnow()
    cutoff = now - stuck_after()
    items: list[Item] = []
    for kind, model in MOVEMENTS.items():
        rows = db.session.scalars(select(model).where(or_(
            model.status.in_(NEEDS_OPERATOR),
            and_(model.status.in_(IN_FLIGHT), model.updated_at < cutoff)))).all()
        for row in rows:
            items.append(Item(kind, row.id, row.engagement_id, row.amount, row.currency, row.status,
                              row.failure_message or "", _aware(row.updated_at), row.attempts,
                              late=row.status in IN_FLIGHT))
    for dispute in db.session.scalars(select(CardDispute).where(CardDispute.status.not_in(CARD_DISPUTE_CLOSED))):
        items.append(Item("card_dispute", dispute.id, dispute.engagement_id, dispute.amount, dispute.currency,
                          dispute.status, f"{dispute.reason.replace('_', ' ') or 'no reason given'}, "
                          f"Stripe dispute {dispute.external_id} on charge {dispute.charge_external_id}",
                          _aware(dispute.created_at)))
    return sorted(items, key=lambda item: (item.since, item.kind, item.id))


def items_for(actor: User) -> list[Item]:
    if actor is None or not actor.is_operator:
        raise Forbidden("Only operators can see payments needing attention.")
    return collect()


def count() -> int:
    return len(collect())


def announce(item: Item) -> bool:
    """Tell every operator about an item entering the list, once per key (flush only)."""
    try:
        with db.session.begin_nested():
            db.session.add(PaymentAlert(item_key=item.key[:120], summary=item.summary()[:300]))
    except IntegrityError:
        return False
    summary = item.summary()
    operators = db.session.scalars(select(User).where(User.role == Role.OPERATOR,
                                                      User.status == AccountStatus.ACTIVE)).all()
    for operator in operators:
        notify(operator, "payment_attention", f"Payment needing attention: {item.label.lower()}", summary,
               LIST_PATH, email=False)
        send_mail(operator.email, f"Payment needing attention: {item.label.lower()}",
                  f"Hello {operator.first_name or operator.full_name},\n\n{summary}\n\n"
                  f"See it and act on it here: {absolute_url(LIST_PATH)}\n")
    return True


def alert_operators() -> int:
    """Scheduled job: announce the items that entered the list since the last run. Idempotent."""
    announced = sum(announce(item) for item in collect())
    db.session.commit()
    return announced


def find_movement(kind: str, row_id: int):
    model = MOVEMENTS.get(kind)
    return db.session.get(model, row_id) if model is not None else None


def connect_signals() -> None:
    """Announce at once when the executor reports a movement entering a state an operator must act on."""
    from marketplace.payments import executor
    signal = getattr(executor, "payment_needs_attention", None)
    if signal is not None:
        signal.connect(_on_needs_attention, weak=False)


def _on_needs_attention(row, **_) -> None:
    kind = next((k for k, model in MOVEMENTS.items() if isinstance(row, model)), None)
    if kind is None:
        return
    announce(Item(kind, row.id, row.engagement_id, row.amount, row.currency, row.status, row.failure_message or "",
                  _aware(row.updated_at or utcnow()), row.attempts))
