"""Engagement models."""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.accounts.models import User
from marketplace.contracts.models import Contract
from marketplace.core.time import utcnow
from marketplace.extensions import db
from marketplace.tasks.models import Task, _enum


class EngagementStatus(str, enum.Enum):
    AWAITING_FUNDING = "awaiting_funding"
    ACTIVE = "active"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    DISPUTED = "disputed"
    RESOLVED = "resolved"


LIVE_ENGAGEMENT_STATUSES = ("awaiting_funding", "active", "delivered", "disputed")
# A payable in one of these states moves no more money: when all of a contract's payables are
# settled, the contract can end (marketplace/contracts/lifecycle.py).
SETTLED_ENGAGEMENT_STATUSES = ("completed", "cancelled", "resolved")


class PayableKind(str, enum.Enum):
    MILESTONE = "milestone"
    INVOICE = "invoice"
    BONUS = "bonus"


class Engagement(db.Model):
    """One payable under a contract: a milestone today (an invoice or a bonus later).

    It carries the whole money lifecycle (funding, delivery, approval, refunds, disputes),
    which marketplace/engagements/transitions.py moves along.
    """

    __tablename__ = "engagements"
    __table_args__ = (
        UniqueConstraint("contract_id", "position", name="uq_engagements_contract_position"),
        UniqueConstraint("contract_id", "form_key", name="uq_engagements_contract_form_key"),
        CheckConstraint("position >= 1", name="position_positive"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("fee_amount >= 0 AND payout_amount >= 0 AND fee_amount + payout_amount = amount",
                        name="fee_split_exact"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    payable_kind: Mapped[PayableKind] = mapped_column(_enum(PayableKind), default=PayableKind.MILESTONE,
                                                      server_default=PayableKind.MILESTONE.value)
    title: Mapped[str] = mapped_column(String(120))
    due_on: Mapped[date | None] = mapped_column(Date)
    position: Mapped[int] = mapped_column(Integer)        # 1, 2, ... within the contract
    # The proposal hiring accepted, on the contract's first milestone; empty on later payables
    # (the contract owns the one-hire-per-bid rule).
    bid_id: Mapped[int | None] = mapped_column(ForeignKey("bids.id"))
    business_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    freelancer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    amount: Mapped[int] = mapped_column(Integer)          # agreed total, minor units
    currency: Mapped[str] = mapped_column(String(3))
    fee_bps: Mapped[int] = mapped_column(Integer)
    fee_amount: Mapped[int] = mapped_column(Integer)
    payout_amount: Mapped[int] = mapped_column(Integer)
    status: Mapped[EngagementStatus] = mapped_column(_enum(EngagementStatus),
                                                     default=EngagementStatus.AWAITING_FUNDING, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    # Payments (marketplace/engagements/transitions.py moves these along with the status).
    funded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivery_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    auto_approve_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    dispute_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    # An operator's split of a disputed engagement (minor units; refund + release == amount).
    resolution_refund: Mapped[int | None] = mapped_column(Integer)
    resolution_release: Mapped[int | None] = mapped_column(Integer)
    # The last off-session charge for this payable failed (marketplace/payments/off_session.py): the
    # business is asked to pay it on-session. Cleared when the payable is funded. The reason is the
    # business's own affair: it lives on the failed Charge, never shown to the specialist.
    payment_failed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    # The one-time key of the page form that added this payable (the bonus form): a second submit of
    # the same form finds this payable instead of adding and charging another. Empty otherwise.
    form_key: Mapped[str | None] = mapped_column(String(64))

    contract: Mapped[Contract] = relationship(back_populates="payables")
    task: Mapped[Task] = relationship()
    business: Mapped[User] = relationship(foreign_keys=[business_id])
    freelancer: Mapped[User] = relationship(foreign_keys=[freelancer_id])
    events: Mapped[list[EngagementEvent]] = relationship(back_populates="engagement",
                                                         order_by="EngagementEvent.id",
                                                         cascade="all, delete-orphan")


class EngagementEvent(db.Model):
    """One transition of an engagement: the timeline shown to both sides."""

    __tablename__ = "engagement_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    engagement: Mapped[Engagement] = relationship(back_populates="events")
