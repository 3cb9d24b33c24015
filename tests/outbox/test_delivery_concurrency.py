"""Overlapping delivery runs (request teardowns, cron) send each message once.

Needs real concurrent transactions, so it runs on PostgreSQL with committed data.
"""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.outbox import services
from marketplace.outbox.models import OutboxMessage

RUNS = 8
MESSAGES = 30


@pytest.mark.no_db_transaction
def test_parallel_delivery_runs_send_every_message_exactly_once(app, committed_world, smtp_sink):
    for n in range(MESSAGES):
        db.session.add(OutboxMessage(to_address=f"user{n}@example.com", subject=f"Mail {n}", body="Body",
                                     status="queued"))
    db.session.commit()
    barrier = threading.Barrier(RUNS)
    counts, errors = [], []

    def run() -> None:
        with app.app_context():
            try:
                barrier.wait()
                counts.append(services.deliver_queued(limit=MESSAGES))
            except Exception as exc:  # reported below, not lost in the thread
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(RUNS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert errors == []
    assert sum(counts) == MESSAGES
    assert sorted(m["To"] for m in smtp_sink.messages) == sorted(f"user{n}@example.com" for n in range(MESSAGES))
    assert set(db.session.scalars(select(OutboxMessage.status))) == {"sent"}
    assert set(db.session.scalars(select(OutboxMessage.attempts))) == {1}
