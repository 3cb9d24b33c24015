"""A simulated quarter of weekly cycles ends with `ledger check` clean (bench/hourly_quarter.py runs more)."""
from __future__ import annotations

from sqlalchemy import func, select

from marketplace.engagements.models import Engagement, EngagementStatus as S, PayableKind
from marketplace.extensions import db
from marketplace.invoicing.models import WeeklyInvoice
from marketplace.payments import ledger
from tests.invoicing.quarter import simulate_quarter


def test_a_quarter_of_weekly_cycles_leaves_the_ledger_balanced(app):
    stats = simulate_quarter(n_contracts=25, weeks=13, seed=5)
    assert stats.invoices >= 25 * 13
    assert stats.disputes and stats.bonuses and stats.failed_charges and stats.ended
    assert ledger.check() == []
    result = app.test_cli_runner().invoke(args=["ledger", "check"])
    assert result.exit_code == 0 and "ledger check: OK" in result.output
    # Every invoice and bonus ended settled: released, or split by an operator.
    open_payables = db.session.scalar(select(func.count()).select_from(Engagement).where(
        Engagement.payable_kind.in_((PayableKind.INVOICE, PayableKind.BONUS)),
        Engagement.status.not_in((S.COMPLETED, S.RESOLVED))))
    assert open_payables == 0
    assert db.session.scalar(select(func.count()).select_from(WeeklyInvoice)
                             .where(WeeklyInvoice.billable_minutes > WeeklyInvoice.limit_minutes)) == 0
