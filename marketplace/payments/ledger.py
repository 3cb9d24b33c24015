"""The double-entry ledger: the platform's own record of where every minor unit is.

Sign convention: debit > 0, credit < 0; every transaction's entries sum to
zero per currency. Accounts (one per currency):

  platform_cash         money the platform holds at the gateway (asset)
  held_for_engagements  paid by businesses, not yet released or refunded (per engagement)
  freelancer_payable    released to a specialist, not yet transferred
  refunds_payable       decided refunds not yet executed by the gateway
  fee_revenue           the platform's fee
  dispute_losses        card disputes lost by the platform, with their dispute fee (and recoveries)
  stripe_fees           what Stripe keeps: processing fees (never returned on refunds), a won
                        dispute's fee when Stripe keeps it (expense)
  disputed_funds        withdrawn by Stripe for a card dispute still open (asset: it comes back
                        if the dispute is won, moves to dispute_losses if it is lost)

`post()` is idempotent by `source_id` (UNIQUE): the gateway's id (ch_, tr_,
re_, dp_...) or our own decision id (release:eng_7). A second post of the same
source returns the first transaction and writes nothing.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Callable

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from marketplace.core.errors import ValidationFailed
from marketplace.extensions import db
from marketplace.payments.models import LedgerAccount, LedgerEntry, LedgerTransaction

CASH = "platform_cash"
HELD = "held_for_engagements"
PAYABLE = "freelancer_payable"
REFUNDS = "refunds_payable"
FEES = "fee_revenue"
DISPUTES = "dispute_losses"
STRIPE_FEES = "stripe_fees"
DISPUTED_FUNDS = "disputed_funds"
ACCOUNT_CODES = (CASH, HELD, PAYABLE, REFUNDS, FEES, DISPUTES, STRIPE_FEES, DISPUTED_FUNDS)

# Every way money moves is a transaction kind, and each kind may touch only these accounts
# (`check()` reports any other): a new money path needs a line here.
KIND_ACCOUNTS: dict[str, frozenset[str]] = {
    "funding": frozenset({CASH, HELD}),
    "release": frozenset({HELD, FEES, PAYABLE}),
    "refund_decision": frozenset({HELD, REFUNDS}),
    "cancellation": frozenset({HELD, REFUNDS}),                 # the demo history's refund decisions
    "dispute_resolution": frozenset({HELD, FEES, PAYABLE, REFUNDS}),
    "transfer": frozenset({PAYABLE, CASH}),
    "refund": frozenset({REFUNDS, CASH}),
    "refund_failed": frozenset({CASH, REFUNDS}),                # a refund Stripe failed after success
    "transfer_reversal": frozenset({CASH, DISPUTES}),
    "card_dispute": frozenset({DISPUTES, CASH}),                # before fees were recorded
    "stripe_fee": frozenset({STRIPE_FEES, CASH}),               # a balance transaction's fee
    "card_dispute_funds": frozenset({DISPUTED_FUNDS, CASH}),    # withdrawn / reinstated amount
    "card_dispute_fee": frozenset({DISPUTED_FUNDS, CASH}),      # the dispute fee (or its return)
    "card_dispute_lost": frozenset({DISPUTED_FUNDS, DISPUTES}),
    "card_dispute_won": frozenset({DISPUTED_FUNDS, STRIPE_FEES}),  # the fee Stripe kept
    "card_dispute_settlement": frozenset({HELD, DISPUTES, REFUNDS}),  # held money covers a lost dispute
}
# Kinds whose platform_cash entries are Stripe's fee in `ledger reconcile` (the others are the amount).
FEE_KINDS = frozenset({"stripe_fee", "card_dispute_fee"})


@dataclass(frozen=True)
class Line:
    account: str
    amount: int  # debit > 0, credit < 0


def account(code: str, currency: str) -> LedgerAccount:
    currency = currency.upper()
    found = db.session.scalar(select(LedgerAccount).where(LedgerAccount.code == code,
                                                          LedgerAccount.currency == currency))
    if found is not None:
        return found
    try:
        with db.session.begin_nested():
            found = LedgerAccount(code=code, currency=currency)
            db.session.add(found)
    except IntegrityError:  # created by a parallel transaction
        found = db.session.scalar(select(LedgerAccount).where(LedgerAccount.code == code,
                                                              LedgerAccount.currency == currency))
    return found


def find(source_id: str) -> LedgerTransaction | None:
    return db.session.scalar(select(LedgerTransaction).where(LedgerTransaction.source_id == source_id))


def post(source_id: str, kind: str, lines: list[Line], *, currency: str, engagement_id: int | None = None,
         description: str = "", stripe_source: str | None = None) -> tuple[LedgerTransaction, bool]:
    """Write one balanced transaction unless `source_id` was already posted. Returns (txn, created)."""
    lines = [line for line in lines if line.amount != 0]
    if len(lines) < 2 or sum(line.amount for line in lines) != 0:
        raise ValidationFailed("A ledger transaction needs two or more entries that sum to zero.")
    if any(not isinstance(line.amount, int) or isinstance(line.amount, bool) for line in lines):
        raise ValidationFailed("Ledger amounts are integers of minor units.")
    existing = find(source_id)
    if existing is not None:
        return existing, False
    accounts = {code: account(code, currency) for code in {line.account for line in lines}}
    try:
        # A savepoint, so that losing a race on the UNIQUE source_id leaves the caller's transaction usable.
        with db.session.begin_nested():
            txn = LedgerTransaction(source_id=source_id, kind=kind, engagement_id=engagement_id,
                                    description=description[:200], stripe_source=stripe_source)
            db.session.add(txn)
            db.session.flush()
            db.session.add_all([LedgerEntry(transaction_id=txn.id, account_id=accounts[line.account].id,
                                            engagement_id=engagement_id, amount=line.amount,
                                            currency=currency.upper()) for line in lines])
    except IntegrityError:
        existing = find(source_id)
        if existing is None:
            raise
        return existing, False
    return txn, True


def balance(code: str, currency: str, *, engagement_id: int | None = None) -> int:
    """Signed balance (debits - credits) of an account, optionally for one engagement."""
    query = (select(func.coalesce(func.sum(LedgerEntry.amount), 0)).join(LedgerAccount)
             .where(LedgerAccount.code == code, LedgerAccount.currency == currency.upper()))
    if engagement_id is not None:
        query = query.where(LedgerEntry.engagement_id == engagement_id)
    return int(db.session.scalar(query))


def held_for(engagement) -> int:
    """What the platform holds for an engagement (a liability: the credit balance, >= 0 when healthy)."""
    return -balance(HELD, engagement.currency, engagement_id=engagement.id)


# --- checks ---------------------------------------------------------------------------------

HELD_BY_STATUS = {  # what must be held for an engagement in each state: "amount" or zero
    "awaiting_funding": 0, "active": "amount", "delivered": "amount", "disputed": "amount",
    "completed": 0, "resolved": 0, "cancelled": 0,
}


def check() -> list[str]:
    """Every problem found: unbalanced or one-legged transactions, held amounts that don't match state."""
    from marketplace.engagements.models import Engagement

    problems: list[str] = []
    sums: dict[tuple[int, str], int] = defaultdict(int)
    counts: dict[int, int] = defaultdict(int)
    for txn_id, currency, amount in db.session.execute(
            select(LedgerEntry.transaction_id, LedgerEntry.currency, LedgerEntry.amount)):
        sums[(txn_id, currency)] += amount
        counts[txn_id] += 1
    for (txn_id, currency), total in sorted(sums.items()):
        if total != 0:
            problems.append(f"ledger transaction {txn_id}: {currency} entries sum to {total}, not 0")
    for txn_id, count in sorted(counts.items()):
        if count < 2:
            problems.append(f"ledger transaction {txn_id}: only {count} entry")
    empty = db.session.scalars(select(LedgerTransaction.id).where(~LedgerTransaction.entries.any())).all()
    problems += [f"ledger transaction {txn_id}: no entries" for txn_id in empty]

    held_rows = dict(db.session.execute(
        select(LedgerEntry.engagement_id, func.sum(LedgerEntry.amount)).join(LedgerAccount)
        .where(LedgerAccount.code == HELD, LedgerEntry.engagement_id.is_not(None))
        .group_by(LedgerEntry.engagement_id)).all())
    for engagement in db.session.scalars(select(Engagement).order_by(Engagement.id)):
        held = -int(held_rows.get(engagement.id, 0))
        rule = HELD_BY_STATUS[engagement.status.value]
        expected = engagement.amount if rule == "amount" else 0
        if held != expected:
            problems.append(f"engagement {engagement.id} ({engagement.status.value}): holds {held}, "
                            f"expected {expected} {engagement.currency}")
    for code in (HELD, PAYABLE, REFUNDS):
        for currency, total in db.session.execute(
                select(LedgerAccount.currency, func.sum(LedgerEntry.amount)).join(LedgerAccount)
                .where(LedgerAccount.code == code).group_by(LedgerAccount.currency)):
            if total > 0:
                problems.append(f"account {code} {currency}: negative liability ({-total})")
    problems += _check_kinds()
    problems += _check_card_disputes()
    for extra in EXTRA_CHECKS.values():
        problems += extra()
    return problems


# Checks that other features add to `ledger check` (per contract and per invoice: marketplace/invoicing/audit.py).
EXTRA_CHECKS: dict[str, Callable[[], list[str]]] = {}


def register_check(name: str, check_fn: Callable[[], list[str]]) -> None:
    EXTRA_CHECKS[name] = check_fn


def _check_kinds() -> list[str]:
    problems = []
    for txn_id, kind, code in db.session.execute(
            select(LedgerTransaction.id, LedgerTransaction.kind, LedgerAccount.code).distinct()
            .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
            .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id).order_by(LedgerTransaction.id)):
        allowed = KIND_ACCOUNTS.get(kind)
        if allowed is None:
            problems.append(f"ledger transaction {txn_id}: kind {kind!r} has no rule in ledger check")
        elif code not in allowed:
            problems.append(f"ledger transaction {txn_id}: a {kind} may not touch {code}")
    return sorted(set(problems), key=problems.index)


def _check_card_disputes() -> list[str]:
    """Money withdrawn for a card dispute comes back or is a loss once the dispute is closed."""
    from marketplace.payments.models import CARD_DISPUTE_CLOSED, CardDispute
    problems = []
    for dispute in db.session.scalars(select(CardDispute).order_by(CardDispute.id)):
        outstanding = int(db.session.scalar(
            select(func.coalesce(func.sum(LedgerEntry.amount), 0)).join(LedgerAccount)
            .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
            .where(LedgerAccount.code == DISPUTED_FUNDS, LedgerTransaction.stripe_source == dispute.external_id)))
        if outstanding < 0:
            problems.append(f"card dispute {dispute.external_id}: more reinstated than withdrawn ({-outstanding})")
        elif outstanding and dispute.status in CARD_DISPUTE_CLOSED:
            problems.append(f"card dispute {dispute.external_id} ({dispute.status}): {outstanding} "
                            f"{dispute.currency} still recorded as withdrawn")
    return problems


def kind_counts() -> dict[str, int]:
    """How many transactions of each kind the ledger holds (one line each in `ledger check`)."""
    counted = dict(db.session.execute(select(LedgerTransaction.kind, func.count())
                                      .group_by(LedgerTransaction.kind)).all())
    return {kind: int(counted.get(kind, 0)) for kind in sorted(set(KIND_ACCOUNTS) | set(counted))}
