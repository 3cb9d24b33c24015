"""Payment records, webhook events, card disputes and the double-entry ledger.

Every movement of money is first written here as an intent row (amount,
idempotency key) and only then sent to the gateway; the external id it gets
back is unique, so a replayed webhook or a retried job finds the row it
already handled. Ledger entries are append-only (see `_forbid_changes`).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (Boolean, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint, event,
                        false, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.core.time import utcnow
from marketplace.extensions import db


class PayoutAccount(db.Model):
    """A specialist's account for receiving money: a Stripe Express account, or the sandbox's."""

    __tablename__ = "payout_accounts"
    __table_args__ = (CheckConstraint("status IN ('pending', 'ready', 'restricted')", name="status_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    provider: Mapped[str] = mapped_column(String(10))                 # sandbox | stripe
    # acct_... or sbx_acct_<user>; NULL while Stripe is being asked to create it (the row exists first, so an
    # `account.updated` arriving before our commit finds it by the account's metadata).
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    transfers_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    requirements: Mapped[str] = mapped_column(String(500), default="")  # what Stripe still needs
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class BillingProfile(db.Model):
    """A business's payment method on file, charged off-session for invoices and bonuses.

    One row per business. With Stripe it holds the Customer (created once, before the card is saved)
    and the card's PaymentMethod; the sandbox stores a test card whose `sandbox_behaviour` says what an
    off-session charge on it does. Saving again replaces the card; the replaced PaymentMethod id waits
    in `detach_pending` until it has been detached at Stripe.
    """

    __tablename__ = "billing_profiles"
    __table_args__ = (
        CheckConstraint("provider IN ('sandbox', 'stripe')", name="provider_known"),
        CheckConstraint("sandbox_behaviour IN ('succeeds', 'authentication_required', 'declined')",
                        name="sandbox_behaviour_known"),
        CheckConstraint("exp_month IS NULL OR exp_month BETWEEN 1 AND 12", name="exp_month_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    provider: Mapped[str] = mapped_column(String(10))
    customer_id: Mapped[str | None] = mapped_column(String(80), unique=True)        # cus_...
    payment_method_id: Mapped[str | None] = mapped_column(String(80), unique=True)  # pm_... or sbx_pm_...
    brand: Mapped[str] = mapped_column(String(20), default="")
    last4: Mapped[str] = mapped_column(String(4), default="")
    exp_month: Mapped[int | None] = mapped_column(Integer)
    exp_year: Mapped[int | None] = mapped_column(Integer)
    sandbox_behaviour: Mapped[str] = mapped_column(String(30), default="succeeds")
    detach_pending: Mapped[str | None] = mapped_column(String(80))
    saved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))      # the current card
    replaced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))   # when a card was last replaced
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    @property
    def has_card(self) -> bool:
        return self.payment_method_id is not None


class _Movement:
    """Columns every money movement has: the intent recorded before the gateway is called."""

    id: Mapped[int] = mapped_column(primary_key=True)
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    external_id: Mapped[str | None] = mapped_column(String(80), unique=True)
    failure_message: Mapped[str] = mapped_column(String(300), default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)   # requests sent under the current key
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # when `retrying`
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class Charge(_Movement, db.Model):
    """The business paying for an engagement: one Checkout attempt (pending -> succeeded | failed | expired).

    Exactly one charge per engagement is `succeeded`: the one that funded it (a partial unique index). A
    payment that arrives when the engagement no longer needs it is `duplicate` (another charge funded it)
    or `late` (it was cancelled meanwhile, or it paid a milestone's amount from before a split), and is
    refunded in full.
    """

    __tablename__ = "payment_charges"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),
                      Index("uq_payment_charges_one_funding", "engagement_id", unique=True,
                            sqlite_where=text("status = 'succeeded'"),
                            postgresql_where=text("status = 'succeeded'")))

    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(10))
    checkout_session_id: Mapped[str | None] = mapped_column(String(80), unique=True)
    payment_intent_id: Mapped[str | None] = mapped_column(String(80), unique=True)
    # external_id is the charge (ch_...): the source_transaction of the release transfer, stored when
    # funding is confirmed. balance_transaction_id is set once the charge's Stripe fee is in the ledger.
    balance_transaction_id: Mapped[str | None] = mapped_column(String(80), unique=True)
    # Charged to the business's saved card without them present (marketplace/payments/off_session.py),
    # rather than paid by them on a Checkout page.
    off_session: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    failure_code: Mapped[str] = mapped_column(String(40), default="", server_default="")  # card_declined, ...


class Transfer(_Movement, db.Model):
    """Paying a specialist their share; reversals reduce it.

    awaiting_account -> pending -> submitting -> paid, or -> retrying (network, 429, 5xx: same key, later)
    or -> refused (Stripe said no) / stuck (out of attempts), which an operator's retry or the account
    becoming ready restarts under a new idempotency key.
    """

    __tablename__ = "payment_transfers"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),
                      CheckConstraint("amount_reversed >= 0 AND amount_reversed <= amount", name="reversal_bounded"))

    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id", ondelete="CASCADE"), index=True)
    freelancer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    destination: Mapped[str | None] = mapped_column(String(64))
    amount_reversed: Mapped[int] = mapped_column(Integer, default=0)
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Refund(_Movement, db.Model):
    """Money going back to the business: pending -> submitting -> processing (pending at Stripe) -> succeeded,
    or failed (Stripe failed it) / refused / stuck, which an operator's retry restarts under a new key."""

    __tablename__ = "payment_refunds"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id", ondelete="CASCADE"), index=True)
    charge_id: Mapped[int] = mapped_column(ForeignKey("payment_charges.id"), index=True)
    reason: Mapped[str] = mapped_column(String(200), default="")


class TransferReversal(_Movement, db.Model):
    """Money taken back from a specialist's account after a transfer (e.g. after a lost card dispute)."""

    __tablename__ = "payment_transfer_reversals"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    transfer_id: Mapped[int] = mapped_column(ForeignKey("payment_transfers.id"), index=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id", ondelete="CASCADE"), index=True)
    transfer: Mapped[Transfer] = relationship()


class WebhookEvent(db.Model):
    """A Stripe event we acted on: its id is unique, written in the transaction of its effects."""

    __tablename__ = "webhook_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(80), unique=True)
    type: Mapped[str] = mapped_column(String(80))
    account: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(200), default="")
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


CARD_DISPUTE_CLOSED = ("won", "lost", "warning_closed", "prevented")


class CardDispute(db.Model):
    """A chargeback opened by the business's bank (charge.dispute.*), shown to operators.

    While it is open (any status but CARD_DISPUTE_CLOSED) its engagement is frozen: no release,
    no auto-approval, no refund.
    """

    __tablename__ = "card_disputes"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(80), unique=True)
    charge_external_id: Mapped[str] = mapped_column(String(80), index=True)
    engagement_id: Mapped[int | None] = mapped_column(ForeignKey("engagements.id", ondelete="SET NULL"), index=True)
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class PaymentAlert(db.Model):
    """An item of "Payments needing attention" that operators were emailed about (once per entry)."""

    __tablename__ = "payment_alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_key: Mapped[str] = mapped_column(String(120), unique=True)  # e.g. transfer:12:failed:3
    summary: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# --- ledger ---------------------------------------------------------------------------------

class LedgerAccount(db.Model):
    """One account per (code, currency). Entries are signed: debit > 0, credit < 0."""

    __tablename__ = "ledger_accounts"
    __table_args__ = (UniqueConstraint("code", "currency"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    currency: Mapped[str] = mapped_column(String(3))


class LedgerTransaction(db.Model):
    """Two or more entries summing to zero per currency; `source_id` (unique) makes posting idempotent."""

    __tablename__ = "ledger_transactions"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(30))
    engagement_id: Mapped[int | None] = mapped_column(ForeignKey("engagements.id", ondelete="RESTRICT"), index=True)
    description: Mapped[str] = mapped_column(String(200), default="")
    # The Stripe object (ch_, re_, tr_, trr_, dp_...) whose balance transaction this posting mirrors,
    # when it differs from source_id: `ledger reconcile` compares per Stripe object.
    stripe_source: Mapped[str | None] = mapped_column(String(80), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    entries: Mapped[list[LedgerEntry]] = relationship(back_populates="transaction", order_by="LedgerEntry.id")


class LedgerEntry(db.Model):
    __tablename__ = "ledger_entries"
    __table_args__ = (CheckConstraint("amount <> 0", name="amount_nonzero"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id", ondelete="RESTRICT"),
                                                index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"), index=True)
    engagement_id: Mapped[int | None] = mapped_column(ForeignKey("engagements.id", ondelete="RESTRICT"), index=True)
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))

    transaction: Mapped[LedgerTransaction] = relationship(back_populates="entries")
    account: Mapped[LedgerAccount] = relationship(lazy="joined")


class LedgerIsAppendOnly(RuntimeError):
    pass


@event.listens_for(LedgerEntry, "before_update")
@event.listens_for(LedgerEntry, "before_delete")
@event.listens_for(LedgerTransaction, "before_update")
@event.listens_for(LedgerTransaction, "before_delete")
def _forbid_changes(mapper, connection, target):
    # Corrections are new, reversing transactions; history is never rewritten.
    raise LedgerIsAppendOnly(f"{type(target).__name__} rows are append-only")
