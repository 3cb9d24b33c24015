"""`jobs run-due` on several hosts: each scheduled step runs on one of them at a time."""
from __future__ import annotations

import threading
import time

import pytest

from marketplace.extensions import db
from marketplace.jobs import run_due, run_schedule


def test_run_due_runs_every_step_on_sqlite_and_postgresql(app):
    ran = []
    assert run_due([("one", lambda: ran.append(1) or 1), ("two", lambda: ran.append(2) or 0)]) == [("one", 1), ("two", 0)]
    assert ran == [1, 2]


@pytest.mark.no_db_transaction
def test_two_runners_started_together_never_run_the_same_step_at_once(app):
    """Two hosts (threads with their own connections) start `run-due` at the same instant: each step runs
    once; the runner that finds a step locked skips it and says so."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("advisory locks are PostgreSQL's (set TEST_DATABASE_URL)")
    inside, calls, results = [], [], {}
    start = threading.Barrier(2)
    guard = threading.Lock()

    def slow_step(name):
        def step():
            with guard:
                inside.append(name)
                overlapping = inside.count(name) > 1
            calls.append((name, overlapping))
            time.sleep(1.5)
            with guard:
                inside.remove(name)
            return 1
        return step

    def runner(label):
        with app.app_context():
            start.wait()
            results[label] = dict(run_due([("payouts", slow_step("payouts"))]))
            db.session.remove()

    threads = [threading.Thread(target=runner, args=(label,)) for label in ("host-a", "host-b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not any(overlapping for _, overlapping in calls)
    # The step held its lock for 1.5 s while the other runner reached it: it ran once and was skipped once.
    assert calls == [("payouts", False)]
    assert sorted((results[label]["payouts"] for label in results), key=str) == [1, None], results

    # The locks are released: a later run takes every step again.
    with app.app_context():
        assert run_schedule("payouts", lambda: 7) == 7
        db.session.remove()
