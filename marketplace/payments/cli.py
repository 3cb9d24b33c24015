"""`flask --app wsgi ledger check` and `flask --app wsgi ledger reconcile`."""
from __future__ import annotations

import sys
from dataclasses import dataclass

import click
from flask.cli import AppGroup
from sqlalchemy import select

from marketplace.extensions import db

ledger_cli = AppGroup("ledger", help="Check the double-entry ledger and reconcile it with Stripe.")


@ledger_cli.command("check")
def check_command() -> None:
    """Every transaction balances, touches only its kind's accounts, and every engagement holds what its
    state says; exit 1 otherwise. One line per transaction kind."""
    from marketplace.payments.ledger import check, kind_counts
    problems = check()
    for kind, count in kind_counts().items():
        click.echo(f"  {kind}: {count} transaction(s)")
    if problems:
        for problem in problems:
            click.echo(problem, err=True)
        click.echo(f"ledger check: {len(problems)} problem(s)", err=True)
        sys.exit(1)
    click.echo("ledger check: OK")


# Balance transactions that mirror money the platform moves (payouts to the platform's bank, Stripe's
# own billing and the like are not in the ledger).
RECONCILED_TYPES = ("charge", "payment", "refund", "payment_refund", "refund_failure", "payment_failure_refund",
                    "transfer", "transfer_refund", "adjustment")
STRIPE_PREFIXES = ("ch_", "py_", "re_", "pyr_", "tr_", "trr_", "dp_", "du_")


@dataclass
class _Side:
    amount: int = 0
    fee: int = 0
    currency: str = ""

    @property
    def net(self) -> int:
        return self.amount - self.fee


def _stripe_object_of(source_id: str) -> str:
    # "re_123:failed" is a second posting about the Stripe object re_123.
    head = source_id.split(":", 1)[0]
    return head if head.startswith(STRIPE_PREFIXES) else source_id


def _ledger_by_stripe_object() -> dict[str, _Side]:
    """What the ledger says moved through platform_cash, per Stripe object: its amount and Stripe's fee."""
    from marketplace.payments.ledger import CASH, FEE_KINDS
    from marketplace.payments.models import Charge, LedgerAccount, LedgerEntry, LedgerTransaction
    # Funding is posted under the payment intent; Stripe's balance names the charge.
    charge_of_intent = dict(db.session.execute(select(Charge.payment_intent_id, Charge.external_id).where(
        Charge.payment_intent_id.is_not(None), Charge.external_id.is_not(None))).all())
    sides: dict[str, _Side] = {}
    rows = db.session.execute(
        select(LedgerTransaction.source_id, LedgerTransaction.stripe_source, LedgerTransaction.kind,
               LedgerEntry.amount, LedgerEntry.currency)
        .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id).where(LedgerAccount.code == CASH))
    for source_id, stripe_source, kind, amount, currency in rows:
        key = stripe_source or charge_of_intent.get(source_id) or _stripe_object_of(source_id)
        side = sides.setdefault(key, _Side(currency=currency.lower()))
        if kind in FEE_KINDS:
            side.fee -= amount
        else:
            side.amount += amount
    return sides


def reconcile(gateway) -> list[str]:
    """Compare Stripe's balance transactions with the ledger per Stripe object: amount, fee and net."""
    ledger_sides = _ledger_by_stripe_object()
    stripe_sides: dict[str, tuple[str, _Side]] = {}
    for bt in gateway.balance_transactions():
        if bt.type not in RECONCILED_TYPES and bt.source_id not in ledger_sides:
            continue
        kind, side = stripe_sides.setdefault(bt.source_id, (bt.type, _Side(currency=bt.currency.lower())))
        side.amount += bt.amount
        side.fee += bt.fee
    problems = []
    for source, (kind, theirs) in stripe_sides.items():
        ours = ledger_sides.get(source)
        if ours is None and not theirs.amount and not theirs.fee:
            continue   # e.g. a refund that failed: Stripe took the money out and put it back
        if ours is None:
            problems.append(f"Stripe {kind} {source} ({theirs.amount} {theirs.currency}) is not in the ledger")
            continue
        for what in ("amount", "fee", "net"):
            if getattr(theirs, what) != getattr(ours, what):
                problems.append(f"Stripe {kind} {source}: {what} {getattr(theirs, what)} {theirs.currency}, "
                                f"ledger {getattr(ours, what)} {ours.currency}")
    problems += [f"ledger source {s} has no Stripe balance transaction" for s in sorted(ledger_sides)
                 if s.startswith(STRIPE_PREFIXES) and s not in stripe_sides]
    return problems


@ledger_cli.command("reconcile")
def reconcile_command() -> None:
    from marketplace.payments.gateway import get_gateway, uses_stripe
    if not uses_stripe():
        click.echo("The sandbox gateway is in use (no STRIPE_SECRET_KEY): money moves only in the ledger, "
                   "so there is nothing to reconcile.")
        return
    problems = reconcile(get_gateway())
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        click.echo(f"ledger reconcile: {len(problems)} difference(s)", err=True)
        sys.exit(1)
    click.echo("ledger reconcile: OK")
