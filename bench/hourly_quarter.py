"""A simulated quarter of hourly billing at scale, then `ledger check`.

13 weekly cycles over BENCH_HOURLY_CONTRACTS (300) hourly contracts, through the real services and jobs
on the sandbox gateway (tests/invoicing/quarter.py: time logged over the limit and across midnight
and the week boundary, closes, off-session charges with declines and authentication failures paid
on-session or after the grace pause, disputes split by an operator, bonuses, early endings). Prints
the counts, the wall time per weekly cycle and the ledger check, on a fresh SQLite file
(bench/hourly.sqlite3) or BENCH_DATABASE_URL (PostgreSQL; its tables are dropped and recreated).

    .venv/bin/python bench/hourly_quarter.py
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CONTRACTS = int(os.environ.get("BENCH_HOURLY_CONTRACTS", 300))


def main() -> int:
    from flask_migrate import upgrade
    from sqlalchemy import text

    from config import TestingConfig
    from marketplace import create_app
    from marketplace.extensions import db

    url = os.environ.get("BENCH_DATABASE_URL", "")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    path = ROOT / "bench" / "hourly.sqlite3"
    if not url:
        path.unlink(missing_ok=True)
        url = f"sqlite:///{path}"

    class BenchConfig(TestingConfig):
        SQLALCHEMY_DATABASE_URI = url

    app = create_app(BenchConfig)
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade()
        from marketplace.profiles.taxonomy import ensure_skill_taxonomy
        ensure_skill_taxonomy()
        db.session.commit()
        from marketplace.payments import ledger
        from tests.invoicing.quarter import simulate_quarter
        started = time.perf_counter()
        stats = simulate_quarter(n_contracts=CONTRACTS, weeks=13, seed=11)
        elapsed = time.perf_counter() - started
        problems = ledger.check()
        print(f"{stats.contracts} hourly contracts x {stats.weeks} weeks ({db.engine.dialect.name}): "
              f"{stats.invoices} weekly closes, {stats.entries} time entries, {stats.charged_off_session} "
              f"off-session charges, {stats.failed_charges} failed then paid, {stats.paused} pauses, "
              f"{stats.disputes} disputes split, {stats.bonuses} bonuses, {stats.ended} contracts ended early")
        print(f"{elapsed:.1f} s in all, {elapsed / stats.weeks:.1f} s per weekly cycle")
        print("ledger check: OK" if not problems else f"ledger check: {len(problems)} problem(s)")
        for problem in problems[:20]:
            print("  " + problem)
        return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
