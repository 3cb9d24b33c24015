"""`ledger check` lines for contracts and weekly invoices.

- per contract: what its payables were charged (funding) = released (fee + payout) + refunded
  (decided refunds, and held money that covered a lost card dispute) + still held, from the
  ledger's entries on the contract's payables;
- per invoice: billable minutes x rate / 60 (half up) + retainer = its amount = its payable's
  amount, its lines' billable minutes add up to the invoice's, and it never bills past the limit.
"""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select

from marketplace.engagements.models import Engagement
from marketplace.extensions import db
from marketplace.invoicing.models import InvoiceLine, WeeklyInvoice
from marketplace.payments.ledger import DISPUTES, FEES, HELD, KIND_ACCOUNTS, PAYABLE, REFUNDS
from marketplace.payments.models import LedgerAccount, LedgerEntry, LedgerTransaction
from marketplace.timesheets.weeks import week_amount

CHARGE_KINDS = ("funding",)
# Every other kind that moves held money out: what goes to the fee and the specialist is released; what
# goes back to the business (or covers a lost card dispute) is refunded.
OUT_OF_HELD = frozenset(kind for kind, accounts in KIND_ACCOUNTS.items() if HELD in accounts) - set(CHARGE_KINDS)


def contract_problems() -> list[str]:
    rows = db.session.execute(
        select(Engagement.contract_id, LedgerTransaction.kind, LedgerAccount.code, func.sum(LedgerEntry.amount))
        .join(LedgerEntry, LedgerEntry.engagement_id == Engagement.id)
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
        .group_by(Engagement.contract_id, LedgerTransaction.kind, LedgerAccount.code))
    charged: dict[int, int] = defaultdict(int)
    released: dict[int, int] = defaultdict(int)
    refunded: dict[int, int] = defaultdict(int)
    held: dict[int, int] = defaultdict(int)
    for contract_id, kind, code, total in rows:
        total = int(total)
        if code == HELD:
            held[contract_id] -= total
            if kind in CHARGE_KINDS:
                charged[contract_id] -= total
        elif code in (FEES, PAYABLE) and kind in OUT_OF_HELD:
            released[contract_id] -= total
        elif code in (REFUNDS, DISPUTES) and kind in OUT_OF_HELD:
            refunded[contract_id] -= total
    problems = []
    for contract_id in sorted(set(charged) | set(held) | set(released) | set(refunded)):
        c, r, f, h = charged[contract_id], released[contract_id], refunded[contract_id], held[contract_id]
        if c != r + f + h:
            problems.append(f"contract {contract_id}: charged {c} != released {r} + refunded {f} + held {h}")
    return problems


def invoice_problems() -> list[str]:
    line_minutes = dict(db.session.execute(select(InvoiceLine.invoice_id, func.sum(InvoiceLine.billable_minutes))
                                           .group_by(InvoiceLine.invoice_id)).all())
    problems = []
    for invoice in db.session.scalars(select(WeeklyInvoice).order_by(WeeklyInvoice.id)):
        expected = week_amount(invoice.billable_minutes, invoice.hourly_rate, invoice.retainer)
        if expected != invoice.amount:
            problems.append(f"invoice {invoice.id}: {invoice.billable_minutes} min x {invoice.hourly_rate}/h "
                            f"+ {invoice.retainer} = {expected}, but it bills {invoice.amount}")
        if int(line_minutes.get(invoice.id, 0)) != invoice.billable_minutes:
            problems.append(f"invoice {invoice.id}: its lines bill {int(line_minutes.get(invoice.id, 0))} min, "
                            f"the invoice {invoice.billable_minutes}")
        if invoice.billable_minutes > invoice.limit_minutes:
            problems.append(f"invoice {invoice.id}: bills {invoice.billable_minutes} min over a "
                            f"{invoice.limit_minutes} min limit")
        payable = invoice.engagement
        if payable is not None and payable.amount != invoice.amount:
            problems.append(f"invoice {invoice.id}: its payable {payable.id} is {payable.amount}, "
                            f"the invoice {invoice.amount}")
    # Every billable minute is billed once: no entry minute on two invoices.
    seen: dict[int, list[tuple]] = defaultdict(list)
    for entry_id, start, end in db.session.execute(select(InvoiceLine.time_entry_id, InvoiceLine.started_at,
                                                          InvoiceLine.ended_at).order_by(InvoiceLine.time_entry_id,
                                                                                         InvoiceLine.started_at)):
        if seen[entry_id] and seen[entry_id][-1][1] > start:
            problems.append(f"time entry {entry_id}: billed twice (two invoice lines overlap)")
        seen[entry_id].append((start, end))
    return problems


def billing_problems() -> list[str]:
    return contract_problems() + invoice_problems()
