"""Charging invoices and bonuses to the business's saved card, and what follows a payment.

- `charge_due_invoices` (job): every invoice not yet charged is claimed (a conditional UPDATE of
  `charge_attempted_at`, committed before the gateway is called, so two runners never charge it
  twice) and charged off-session with the saved card (payments.off_session.charge_off_session).
  A failure marks the invoice payment_failed; the business gets a link to pay on-session.
- `settle_funded` (job, also called right after a charge): a funded invoice is marked delivered
  with its release time = the end of its review window (or now, if it was paid after the window);
  a funded bonus is released at once. The existing auto-approval job then releases invoices
  through the usual approve -> ledger -> transfer path, minus the platform fee.
- `remind_review_closing` (job): one notice to the business before an invoice's window closes.
- `pause_unpaid` (job): an invoice still unpaid INVOICE_GRACE_HOURS after its charge failed pauses
  the contract (no new billable time; its shifts that haven't started are released) and tells both
  sides; the hours stay on the invoice. Paying it (on-session) resumes a contract that was paused for
  that reason and has nothing else overdue.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from marketplace.contracts.models import Contract, ContractStatus
from marketplace.core.errors import Conflict
from marketplace.core.money import format_money
from marketplace.core.time import app_now, as_utc
from marketplace.engagements import transitions
from marketplace.engagements.models import Engagement, EngagementStatus as S, PayableKind
from marketplace.core import events
from marketplace.extensions import db
from marketplace.invoicing.closing import invoice_link
from marketplace.invoicing.models import WeeklyInvoice
from marketplace.notifications.services import notify
from marketplace.payments.off_session import charge_off_session
from marketplace.schedules.claims import release_contract_seats, released_note


def _invoice_for(engagement_id: int) -> WeeklyInvoice | None:
    return db.session.scalar(select(WeeklyInvoice).where(WeeklyInvoice.engagement_id == engagement_id))


def charge_invoice(invoice_id: int, now: datetime) -> str | None:
    """Claim and charge one invoice. Commits: the claim before the gateway call, the outcome after."""
    claimed = db.session.execute(
        update(WeeklyInvoice).where(WeeklyInvoice.id == invoice_id, WeeklyInvoice.charge_attempted_at.is_(None),
                                    WeeklyInvoice.engagement_id.is_not(None))
        .values(charge_attempted_at=now).execution_options(synchronize_session=False))
    db.session.commit()
    if claimed.rowcount != 1:
        return None
    invoice = db.session.get(WeeklyInvoice, invoice_id)
    db.session.refresh(invoice)
    payable = invoice.engagement
    db.session.refresh(payable)
    if payable.status != S.AWAITING_FUNDING:
        return "already funded"
    outcome = charge_off_session(payable)    # commits (the intent before the gateway call, then the outcome)
    db.session.refresh(payable)
    db.session.refresh(invoice)
    if payable.status != S.AWAITING_FUNDING:
        settle_funded_payable(payable, now)
    elif outcome.status in ("failed", "requires_action"):
        record_failed_charge(invoice, now, outcome.message)
    # "pending": processing at the gateway; its webhook funds the payable and `settle_funded` follows.
    db.session.commit()
    return outcome.status


def record_failed_charge(invoice: WeeklyInvoice, now: datetime, message: str = "") -> None:
    if invoice.payment_failed_at is not None:
        return
    invoice.payment_failed_at = now
    db.session.flush()
    contract = invoice.contract
    grace = current_app.config["INVOICE_GRACE_HOURS"]
    # The business is emailed and notified with the on-session pay link by charge_off_session itself;
    # the specialist learns the invoice is awaiting payment (never why: that is the business's affair).
    notify(contract.freelancer_id, "invoice_payment_failed", f"Invoice for the week of {invoice.week:%d %b} "
           "is awaiting payment",
           f"The charge of {format_money(invoice.amount, invoice.currency)} to the business's card didn't go "
           f"through. They have been asked to pay it; if it is still unpaid after {grace} hours the contract "
           "is paused. Your hours stay on the invoice.", invoice_link(invoice))


def charge_due_invoices(now: datetime | None = None) -> int:
    """Scheduled job: charge every invoice not yet charged. Idempotent."""
    now = now or app_now()
    due = db.session.scalars(select(WeeklyInvoice.id).where(WeeklyInvoice.engagement_id.is_not(None),
                                                            WeeklyInvoice.charge_attempted_at.is_(None))
                             .order_by(WeeklyInvoice.id)).all()
    return sum(1 for invoice_id in due if charge_invoice(invoice_id, now) is not None)


def release_at(invoice: WeeklyInvoice, now: datetime) -> datetime:
    """When a funded invoice is released: the end of its review window, or now if paid after it."""
    return max(invoice.review_ends, now)


def settle_funded_payable(payable: Engagement, now: datetime) -> bool:
    """A funded (active) invoice goes into review until its window closes; a funded bonus is released."""
    if payable.status != S.ACTIVE:
        return False
    if payable.payable_kind == PayableKind.INVOICE:
        invoice = _invoice_for(payable.id)
        if invoice is None:
            return False
        until = release_at(invoice, now)
        shown = until - timedelta(minutes=1)
        if not transitions.deliver_by_platform(
                payable, until, f"Charged: in review until {shown:%a %d %b %H:%M} UTC, then released"):
            return False
        invoice.paid_at = invoice.paid_at or now
        db.session.flush()
        notify(payable.business_id, "invoice_charged", f"Invoice for the week of {invoice.week:%d %b} paid",
               f"{format_money(payable.amount, payable.currency)} was charged. You can dispute entries until "
               f"{shown:%a %d %b %H:%M} UTC.", invoice_link(invoice))
        events.publish("invoice.charged", [payable.business_id],
                       {"invoice_id": invoice.id, "contract_id": invoice.contract_id, "engagement_id": payable.id,
                        "week_start": invoice.week.isoformat(), "amount": payable.amount,
                        "currency": payable.currency, "review_ends": shown.isoformat()})
        _resume_if_paid_up(invoice.contract, now)
        return True
    if payable.payable_kind == PayableKind.BONUS:
        if not transitions.deliver_by_platform(payable, now, "Bonus paid by the business"):
            return False
        transitions.approve(None, payable, "Bonus released to the specialist")
        return True
    return False


def settle_funded(now: datetime | None = None) -> int:
    """Scheduled job: put freshly funded invoices into review and release funded bonuses (funded on
    the recovery page or through Checkout since the last run)."""
    now = now or app_now()
    funded = db.session.scalars(select(Engagement).where(
        Engagement.status == S.ACTIVE, Engagement.payable_kind.in_((PayableKind.INVOICE, PayableKind.BONUS)))
        .order_by(Engagement.id)).all()
    done = 0
    for payable in funded:
        try:
            with db.session.begin_nested():
                done += settle_funded_payable(payable, now)
        except Conflict:
            continue   # e.g. frozen by a card dispute: left as it is, tried again at the next run
    return done


def remind_review_closing(now: datetime | None = None) -> int:
    """Scheduled job: tell the business once, a day (setting) before, that an invoice's window closes."""
    now = now or app_now()
    ahead = timedelta(hours=current_app.config["INVOICE_REVIEW_REMINDER_HOURS"])
    due = db.session.scalars(select(WeeklyInvoice).join(Engagement, Engagement.id == WeeklyInvoice.engagement_id)
                             .where(Engagement.status == S.DELIVERED, WeeklyInvoice.reminder_sent_at.is_(None),
                                    WeeklyInvoice.review_ends_at > now, WeeklyInvoice.review_ends_at <= now + ahead)
                             .order_by(WeeklyInvoice.id)).all()
    sent = 0
    for invoice in due:
        marked = db.session.execute(update(WeeklyInvoice).where(WeeklyInvoice.id == invoice.id,
                                                                WeeklyInvoice.reminder_sent_at.is_(None))
                                    .values(reminder_sent_at=now).execution_options(synchronize_session=False))
        if marked.rowcount != 1:
            continue
        shown = invoice.review_ends - timedelta(minutes=1)
        notify(invoice.contract.business_id, "invoice_review_closing",
               f"Review window for the week of {invoice.week:%d %b} closes soon",
               f"You can dispute entries of this invoice until {shown:%a %d %b %H:%M} UTC. After that "
               f"{format_money(invoice.amount, invoice.currency)} is released to the specialist.",
               invoice_link(invoice))
        sent += 1
    return sent


def pause_unpaid(now: datetime | None = None) -> int:
    """Scheduled job: pause the contracts whose failed invoice is still unpaid after the grace period."""
    now = now or app_now()
    grace = timedelta(hours=current_app.config["INVOICE_GRACE_HOURS"])
    overdue = db.session.scalars(select(WeeklyInvoice).join(Engagement, Engagement.id == WeeklyInvoice.engagement_id)
                                 .where(Engagement.status == S.AWAITING_FUNDING,
                                        WeeklyInvoice.payment_failed_at <= now - grace,
                                        WeeklyInvoice.paused_contract_at.is_(None))
                                 .order_by(WeeklyInvoice.id)).all()
    paused = 0
    for invoice in overdue:
        marked = db.session.execute(update(WeeklyInvoice).where(WeeklyInvoice.id == invoice.id,
                                                                WeeklyInvoice.paused_contract_at.is_(None))
                                    .values(paused_contract_at=now).execution_options(synchronize_session=False))
        if marked.rowcount != 1:
            continue
        contract = invoice.contract
        changed = db.session.execute(update(Contract).where(Contract.id == contract.id,
                                                            Contract.status == ContractStatus.ACTIVE)
                                     .values(status=ContractStatus.PAUSED, paused_at=now)
                                     .execution_options(synchronize_session=False))
        db.session.refresh(contract)
        if changed.rowcount == 1:
            paused += 1
            released = release_contract_seats(contract, now=now, reason="paused")
            body = (f"The invoice for the week of {invoice.week:%d %b} "
                    f"({format_money(invoice.amount, invoice.currency)}) is still unpaid, so the contract is "
                    "paused: no new time can be logged. The hours already worked stay on the invoice."
                    + released_note(released))
            notify(contract.business_id, "contract_paused", f"“{contract.task.title}” is paused: invoice unpaid",
                   body + " Pay the invoice to resume it.", invoice_link(invoice))
            notify(contract.freelancer_id, "contract_paused", f"“{contract.task.title}” is paused: invoice unpaid",
                   body + " It resumes once the business pays.", invoice_link(invoice))
    return paused


def _resume_if_paid_up(contract: Contract, now: datetime) -> None:
    """A contract paused for an unpaid invoice resumes once nothing that paused it is unpaid any more."""
    db.session.refresh(contract)
    if contract.status != ContractStatus.PAUSED:
        return
    paused_by_invoice = db.session.scalars(select(WeeklyInvoice).where(
        WeeklyInvoice.contract_id == contract.id, WeeklyInvoice.paused_contract_at.is_not(None))).all()
    if not paused_by_invoice or as_utc(contract.paused_at) != max(i.paused_contract_at and as_utc(i.paused_contract_at)
                                                                  for i in paused_by_invoice):
        return   # paused by one of the sides, not (only) for non-payment
    if any(i.engagement is not None and i.engagement.status == S.AWAITING_FUNDING for i in paused_by_invoice):
        return
    db.session.execute(update(Contract).where(Contract.id == contract.id, Contract.status == ContractStatus.PAUSED)
                       .values(status=ContractStatus.ACTIVE, paused_at=None).execution_options(synchronize_session=False))
    db.session.refresh(contract)
    for user_id in (contract.business_id, contract.freelancer_id):
        notify(user_id, "contract_resumed", f"“{contract.task.title}” is running again",
               "The unpaid invoice was paid, so the contract is active again and time can be logged.",
               f"/contracts/{contract.id}")
