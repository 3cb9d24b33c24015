"""Weekly invoices: what one closed billing week of an hourly contract bills, and the entries it covers.

The money of an invoice moves through its payable (an `Engagement` row with payable_kind
"invoice"); this row keeps the audit trail of how the amount was computed: the period, the
limit, the billable minutes, the rate, the retainer, and one line per time entry (the part of
the entry inside the week, with its billable minutes). A week with nothing to bill still gets a
row (amount 0, no payable), so the weekly close knows the week is done.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (Boolean, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint,
                        false)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.contracts.models import Contract
from marketplace.core.time import as_utc, utcnow
from marketplace.engagements.models import Engagement
from marketplace.extensions import db


class WeeklyInvoice(db.Model):
    __tablename__ = "weekly_invoices"
    __table_args__ = (
        # One invoice per contract per week, whoever closes it (two job runners, an ending contract).
        UniqueConstraint("contract_id", "week_start", name="uq_weekly_invoices_contract_week"),
        UniqueConstraint("engagement_id", name="uq_weekly_invoices_engagement"),
        CheckConstraint("hours_amount + retainer = amount", name="amount_adds_up"),
        CheckConstraint("billable_minutes >= 0 AND billable_minutes <= limit_minutes", name="billable_within_limit"),
        CheckConstraint("over_limit_minutes >= 0 AND hourly_rate > 0 AND retainer >= 0", name="terms_positive"),
        CheckConstraint("(amount = 0) = (engagement_id IS NULL)", name="payable_iff_amount"),
        Index("ix_weekly_invoices_review_ends_at", "review_ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    engagement_id: Mapped[int | None] = mapped_column(ForeignKey("engagements.id"))
    week_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))     # Monday 00:00 UTC
    period_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))     # next Monday, or the early close
    limit_minutes: Mapped[int] = mapped_column(Integer)
    logged_minutes: Mapped[int] = mapped_column(Integer)
    billable_minutes: Mapped[int] = mapped_column(Integer)
    over_limit_minutes: Mapped[int] = mapped_column(Integer)
    hourly_rate: Mapped[int] = mapped_column(Integer)                         # minor units per hour
    hours_amount: Mapped[int] = mapped_column(Integer)                        # billable x rate / 60, half up
    retainer: Mapped[int] = mapped_column(Integer, default=0)
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    closed_early: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    closed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Disputes are possible until this instant (Saturday 00:00 UTC after the week: "until Friday 23:59").
    review_ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    charge_attempted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    payment_failed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reminder_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paused_contract_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    contract: Mapped[Contract] = relationship()
    engagement: Mapped[Engagement | None] = relationship()
    lines: Mapped[list[InvoiceLine]] = relationship(back_populates="invoice", order_by="InvoiceLine.started_at",
                                                    cascade="all, delete-orphan")

    @property
    def week(self) -> datetime:
        return as_utc(self.week_start)

    @property
    def review_ends(self) -> datetime:
        return as_utc(self.review_ends_at)

    @property
    def status(self) -> str:
        """What both sides see: nothing to pay, awaiting payment, payment failed, in review, paid, disputed..."""
        if self.engagement is None:
            return "nothing_billed"
        status = self.engagement.status.value
        if status == "awaiting_funding":
            return "payment_failed" if self.payment_failed_at else "awaiting_payment"
        if status in ("active", "delivered"):
            return "in_review"
        return {"completed": "paid", "resolved": "resolved", "disputed": "disputed",
                "cancelled": "cancelled"}.get(status, status)


class InvoiceLine(db.Model):
    """The part of one time entry inside an invoice's week (an entry crossing Monday 00:00 has two lines)."""

    __tablename__ = "invoice_lines"
    __table_args__ = (
        UniqueConstraint("invoice_id", "time_entry_id", name="uq_invoice_lines_invoice_entry"),
        CheckConstraint("billable_minutes >= 0 AND billable_minutes <= minutes", name="billable_within_minutes"),
        CheckConstraint("ended_at > started_at", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("weekly_invoices.id", ondelete="CASCADE"), index=True)
    time_entry_id: Mapped[int] = mapped_column(ForeignKey("time_entries.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    minutes: Mapped[int] = mapped_column(Integer)
    billable_minutes: Mapped[int] = mapped_column(Integer)
    memo: Mapped[str] = mapped_column(String(500))
    disputed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    invoice: Mapped[WeeklyInvoice] = relationship(back_populates="lines")

    @property
    def start(self) -> datetime:
        return as_utc(self.started_at)

    @property
    def end(self) -> datetime:
        return as_utc(self.ended_at)
