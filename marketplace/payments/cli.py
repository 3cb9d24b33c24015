"""`flask --app wsgi ledger check` and `flask --app wsgi ledger reconcile`."""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from sqlalchemy import select

from marketplace.extensions import db

ledger_cli = AppGroup("ledger", help="Check the double-entry ledger and reconcile it with Stripe.")


@ledger_cli.command("check")
def check_command() -> None:
    """Every transaction balances and every engagement holds what its state says; exit 1 otherwise."""
    from marketplace.payments.ledger import check
    problems = check()
    if problems:
        for problem in problems:
            click.echo(problem, err=True)
        click.echo(f"ledger check: {len(problems)} problem(s)", err=True)
        sys.exit(1)
    click.echo("ledger check: OK")


def reconcile(gateway) -> list[str]:
    """Compare Stripe balance transactions with the ledger by source id (charges, refunds, transfers)."""
    from marketplace.payments.models import Charge, LedgerTransaction
    known = set(db.session.scalars(select(LedgerTransaction.source_id)))
    # Funding is posted under the payment intent id; Stripe's balance lists the charge.
    known |= set(db.session.scalars(select(Charge.external_id).where(Charge.payment_intent_id.in_(known),
                                                                     Charge.external_id.is_not(None))))
    problems, seen = [], set()
    for bt in gateway.balance_transactions():
        if bt.type not in ("charge", "payment", "refund", "transfer", "payment_refund"):
            continue
        seen.add(bt.source_id)
        if bt.source_id not in known:
            problems.append(f"Stripe {bt.type} {bt.source_id} ({bt.amount} {bt.currency}) is not in the ledger")
    stripe_ids = [s for s in known if s.startswith(("ch_", "re_", "tr_"))]
    problems += [f"ledger source {s} has no Stripe balance transaction" for s in sorted(stripe_ids) if s not in seen]
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
