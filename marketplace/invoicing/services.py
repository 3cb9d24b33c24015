"""What the sides of an hourly contract do with its billing: read invoices, dispute entries, pay a
bonus, pause, resume and end the contract. Authorization is checked here; functions only flush.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from marketplace.accounts.models import AccountStatus, User
from marketplace.contracts.lifecycle import end_contract
from marketplace.contracts.models import Contract, ContractKind, ContractStatus
from marketplace.contracts.services import TITLE_MAX, _new_payable
from marketplace.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from marketplace.core.money import format_money
from marketplace.core.text import one_line
from marketplace.engagements import transitions
from marketplace.engagements.models import Engagement, EngagementStatus as S, PayableKind
from marketplace.extensions import db
from marketplace.invoicing.closing import close_week, invoice_link, lock_contract
from marketplace.invoicing.models import InvoiceLine, WeeklyInvoice
from marketplace.notifications.services import notify
from marketplace.core.time import as_utc
from marketplace.schedules.claims import release_contract_seats, released_note
from marketplace.timesheets.services import contract_start
from marketplace.timesheets.weeks import WEEK, amount_for_minutes, format_minutes, week_start

REASON_MAX = 1000


def _require_party(actor: User, contract: Contract) -> None:
    if actor.status != AccountStatus.ACTIVE:
        raise Forbidden("This account is suspended.")
    if actor.id not in (contract.business_id, contract.freelancer_id):
        if actor.is_operator:
            raise Forbidden("Only the business and the specialist on this contract can do that.")
        raise NotFound("We couldn't find that contract.")


def _require_hourly(contract: Contract) -> None:
    if contract.kind != ContractKind.HOURLY:
        raise Conflict("Only hourly contracts are billed by the week.")


# --- reading --------------------------------------------------------------------------------------

def invoices_of(contract: Contract) -> list[WeeklyInvoice]:
    """The contract's invoices with something billed, newest week first."""
    return list(db.session.scalars(select(WeeklyInvoice).where(WeeklyInvoice.contract_id == contract.id,
                                                               WeeklyInvoice.amount > 0)
                                   .order_by(WeeklyInvoice.week_start.desc())
                                   .options(selectinload(WeeklyInvoice.engagement))))


def get_invoice_for(actor: User, contract: Contract, invoice_id: int) -> WeeklyInvoice:
    """An invoice of a contract the actor was already allowed to see."""
    invoice = db.session.scalar(select(WeeklyInvoice).where(WeeklyInvoice.id == invoice_id,
                                                            WeeklyInvoice.contract_id == contract.id)
                                .options(selectinload(WeeklyInvoice.lines), selectinload(WeeklyInvoice.engagement)))
    if invoice is None:
        raise NotFound("We couldn't find that invoice on this contract.")
    return invoice


def invoice_for_payable(engagement_id: int) -> WeeklyInvoice | None:
    return db.session.scalar(select(WeeklyInvoice).where(WeeklyInvoice.engagement_id == engagement_id)
                             .options(selectinload(WeeklyInvoice.lines)))


def disputed_lines(engagement_id: int) -> list[InvoiceLine]:
    """The time entries a business disputed on an invoice (shown on the operator's dispute page)."""
    invoice = invoice_for_payable(engagement_id)
    return [line for line in invoice.lines if line.disputed] if invoice else []


def bonuses_of(contract: Contract) -> list[Engagement]:
    return [p for p in contract.payables if p.payable_kind == PayableKind.BONUS]


def can_dispute(actor: User, invoice: WeeklyInvoice, now: datetime) -> bool:
    payable = invoice.engagement
    return (payable is not None and actor.id == invoice.contract.business_id and actor.status == AccountStatus.ACTIVE
            and payable.status in (S.ACTIVE, S.DELIVERED) and now < invoice.review_ends)


# --- disputing entries -----------------------------------------------------------------------------

def dispute_entries(actor: User, invoice: WeeklyInvoice, entry_ids: list[int], reason: str, *,
                    now: datetime) -> Engagement:
    """The business disputes some entries of a charged invoice during its review window: the invoice's
    payable goes into the operator dispute flow with the entries attached."""
    contract = invoice.contract
    _require_party(actor, contract)
    if actor.id != contract.business_id:
        raise Forbidden("Only the business on this contract can dispute its invoices.")
    payable = invoice.engagement
    if payable is None:
        raise Conflict("Nothing was billed for this week.")
    if now >= invoice.review_ends:
        shown = invoice.review_ends - timedelta(minutes=1)
        raise Conflict(f"The review window for this invoice closed on {shown:%a %d %b %H:%M} UTC.")
    if payable.status == S.AWAITING_FUNDING:
        raise Conflict("This invoice isn't paid yet: pay it first, then dispute entries within the window.")
    if payable.status not in (S.ACTIVE, S.DELIVERED):
        raise Conflict("This invoice is already disputed or settled.")
    wanted = {int(i) for i in entry_ids}
    lines = [line for line in invoice.lines if line.time_entry_id in wanted]
    if not wanted or len(lines) != len(wanted):
        raise ValidationFailed("Choose at least one of this invoice's entries to dispute.", field="entries")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Please say what is wrong with these entries.", field="reason")
    if len(reason) > REASON_MAX:
        raise ValidationFailed(f"The reason can be at most {REASON_MAX} characters.", field="reason")
    listed = "; ".join(f"{line.start:%a %d %b %H:%M}–{line.end:%H:%M} UTC ({format_minutes(line.minutes)} h)"
                       for line in lines)
    transitions.open_dispute(actor, payable, f"{reason}\nDisputed entries: {listed}"[:REASON_MAX],
                             entries_attached=True)
    for line in lines:
        line.disputed = True
    db.session.flush()
    return payable


# --- bonuses ---------------------------------------------------------------------------------------

@dataclass
class BonusData:
    title: str
    amount: int | None    # minor units
    # The bonus form's one-time key (None: no form, e.g. a script). The same key on the same contract
    # means the same submit sent again (a double click, a resent request): one bonus, one charge.
    key: str | None = None


FORM_KEY_MAX = 64


def bonus_with_key(contract_id: int, key: str) -> Engagement | None:
    return db.session.scalar(select(Engagement).where(Engagement.contract_id == contract_id,
                                                      Engagement.payable_kind == PayableKind.BONUS,
                                                      Engagement.form_key == key))


def add_bonus(actor: User, contract: Contract, data: BonusData) -> tuple[Engagement, bool]:
    """The business adds a one-off bonus; it is funded (saved card or Checkout) and then released.

    Returns (bonus, created). A key already used on this contract returns the bonus it added, with
    created False: the caller must not charge it again. Two submits racing with one key: the contract
    row lock serialises them (PostgreSQL), and the unique (contract, key) backs it up on both databases.
    """
    _require_party(actor, contract)
    if actor.id != contract.business_id:
        raise Forbidden("Only the business on this contract can pay a bonus.")
    key = (data.key or "").strip() or None
    if key is not None and len(key) > FORM_KEY_MAX:
        raise ValidationFailed("That form expired. Please reload the page and try again.", field="key")
    title = one_line(data.title or "")
    if not title:
        raise ValidationFailed("Give the bonus a short title.", field="title")
    if len(title) > TITLE_MAX:
        raise ValidationFailed(f"The title can be at most {TITLE_MAX} characters.", field="title")
    amount = data.amount
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValidationFailed("Enter an amount above zero.", field="amount")
    limit = current_app.config["MAX_BID_AMOUNT"]
    if amount > limit:
        raise ValidationFailed(f"A bonus can be at most {format_money(limit, contract.currency)}.", field="amount")
    contract = lock_contract(contract.id)
    if key is not None:
        existing = bonus_with_key(contract.id, key)
        if existing is not None:
            return existing, False
    if contract.status == ContractStatus.ENDED and contract.kind == ContractKind.FIXED:
        raise Conflict("This contract has ended.")
    try:
        bonus = _new_payable(actor, contract, f"Bonus: {title}"[:TITLE_MAX], amount, None,
                             f"Bonus of {format_money(amount, contract.currency)} added by the business",
                             kind=PayableKind.BONUS, form_key=key)
    except Conflict:
        # The same key inserted a moment earlier by a parallel submit (SQLite has no row lock).
        existing = bonus_with_key(contract.id, key) if key is not None else None
        if existing is None:
            raise
        return existing, False
    notify(contract.freelancer_id, "bonus_added", f"A bonus on “{contract.task.title}”",
           f"{actor.full_name} is paying you a bonus of {format_money(amount, contract.currency)}: {title}.",
           f"/contracts/{contract.id}")
    return bonus, True


def over_limit_bonus(invoice: WeeklyInvoice) -> BonusData | None:
    """The over-limit time of a closed week, offered to the business as a prefilled bonus."""
    if not invoice.over_limit_minutes:
        return None
    amount = amount_for_minutes(invoice.over_limit_minutes, invoice.hourly_rate)
    if amount <= 0:
        return None
    return BonusData(title=f"{format_minutes(invoice.over_limit_minutes)} h over the limit, week of "
                           f"{invoice.week:%d %b %Y}", amount=amount)


# --- pausing, resuming, ending ---------------------------------------------------------------------

def _other(actor: User, contract: Contract) -> int:
    return contract.freelancer_id if actor.id == contract.business_id else contract.business_id


def pause_contract(actor: User, contract: Contract, *, now: datetime) -> Contract:
    """Either side pauses an hourly contract: no new billable time until it is resumed, and no shifts: the
    specialist's seats in shifts that haven't started open again (resuming doesn't give them back)."""
    _require_party(actor, contract)
    _require_hourly(contract)
    contract = lock_contract(contract.id)
    if contract.status != ContractStatus.ACTIVE:
        raise Conflict("Only an active contract can be paused.")
    db.session.execute(update(Contract).where(Contract.id == contract.id, Contract.status == ContractStatus.ACTIVE)
                       .values(status=ContractStatus.PAUSED, paused_at=now).execution_options(synchronize_session=False))
    db.session.refresh(contract)
    released = release_contract_seats(contract, now=now, reason="paused")
    notify(_other(actor, contract), "contract_paused", f"“{contract.task.title}” is paused",
           f"{actor.full_name} paused the contract: no new time can be logged until it is resumed."
           + released_note(released), f"/contracts/{contract.id}")
    return contract


def resume_contract(actor: User, contract: Contract, *, now: datetime) -> Contract:
    _require_party(actor, contract)
    _require_hourly(contract)
    contract = lock_contract(contract.id)
    if contract.status != ContractStatus.PAUSED:
        raise Conflict("Only a paused contract can be resumed.")
    overdue = db.session.scalar(select(WeeklyInvoice.id).join(Engagement, Engagement.id == WeeklyInvoice.engagement_id)
                                .where(WeeklyInvoice.contract_id == contract.id,
                                       WeeklyInvoice.paused_contract_at.is_not(None),
                                       Engagement.status == S.AWAITING_FUNDING).limit(1))
    if overdue is not None:
        raise Conflict("An unpaid invoice paused this contract: it resumes once the invoice is paid.")
    db.session.execute(update(Contract).where(Contract.id == contract.id, Contract.status == ContractStatus.PAUSED)
                       .values(status=ContractStatus.ACTIVE, paused_at=None).execution_options(synchronize_session=False))
    db.session.refresh(contract)
    notify(_other(actor, contract), "contract_resumed", f"“{contract.task.title}” is running again",
           f"{actor.full_name} resumed the contract.", f"/contracts/{contract.id}")
    return contract


def end_hourly_contract(actor: User, contract: Contract, *, now: datetime) -> WeeklyInvoice | None:
    """Either side ends an hourly contract: the current week closes early (its invoice follows the
    normal cycle: charged, reviewed until Friday, released), the specialist's seats in shifts that haven't
    started open again, and the double-blind reviews open once a payable of the contract is settled.
    Returns the early invoice (None if the week had nothing)."""
    _require_party(actor, contract)
    _require_hourly(contract)
    contract = lock_contract(contract.id)
    if contract.status == ContractStatus.ENDED:
        raise Conflict("This contract has already ended.")
    # Close every week up to now first (a job may not have run yet), then end.
    latest = db.session.scalar(select(WeeklyInvoice.week_start).where(WeeklyInvoice.contract_id == contract.id)
                               .order_by(WeeklyInvoice.week_start.desc()).limit(1))
    week = as_utc(latest) + WEEK if latest is not None else week_start(contract_start(contract))
    while week < week_start(now):
        close_week(contract, week, now=now)
        week += WEEK
    end_contract(contract)
    db.session.execute(update(Contract).where(Contract.id == contract.id).values(ended_at=now)
                       .execution_options(synchronize_session=False))
    db.session.refresh(contract)
    early = close_week(contract, week_start(now), now=now, early=True) if week_start(now) >= week else None
    released = release_contract_seats(contract, now=now, reason="ended")
    notify(_other(actor, contract), "contract_ended", f"“{contract.task.title}” has ended",
           f"{actor.full_name} ended the contract. This week's hours are invoiced as usual"
           + (f" ({format_money(early.amount, early.currency)})" if early and early.amount else "")
           + "; you can review each other once a payment is settled." + released_note(released),
           f"/contracts/{contract.id}")
    return early
