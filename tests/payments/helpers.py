"""Shared helpers for payment tests."""
from __future__ import annotations

from sqlalchemy import func, select

from marketplace.engagements import transitions
from marketplace.extensions import db
from marketplace.payments import ledger
from marketplace.payments.models import LedgerEntry, LedgerTransaction


def ledger_counts() -> tuple[int, int]:
    return (db.session.scalar(select(func.count()).select_from(LedgerTransaction)),
            db.session.scalar(select(func.count()).select_from(LedgerEntry)))


def assert_ledger_ok() -> None:
    problems = ledger.check()
    assert problems == [], problems


def sandbox_fund(engagement):
    """Fund through the sandbox exactly as the checkout page does."""
    from marketplace.payments import services
    charge = transitions.begin_funding(engagement.business, engagement, "sandbox")
    assert services.sandbox_pay(engagement.business, charge) == "funded"
    return charge
