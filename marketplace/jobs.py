"""Background work: scheduled jobs (`jobs run-due`) and queued jobs (`enqueue(name, ...)`).

Scheduled jobs are idempotent: each selects only the rows that are due and marks them done in
the same transaction, so overlapping runs do no harm. On PostgreSQL each step also holds an
advisory lock while it runs, so two hosts running `jobs run-due` at once never run the same
step together: the second one skips it (and does it on its next run).

Queued jobs (`marketplace/core/queue.py`) take ids, not objects, and are safe to run twice.
"""
from __future__ import annotations

import time
import zlib
from typing import Callable

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import text

from marketplace.extensions import db

jobs_cli = AppGroup("jobs", help="Scheduled and queued jobs.")

# First half of every advisory-lock key this app takes (pg_try_advisory_lock(int, int)): "HT".
ADVISORY_LOCK_CLASS = 0x4854


def _due_jobs() -> list[tuple[str, Callable[[], int]]]:
    """(name, function returning how many items it handled), in the order they run."""
    from marketplace.accounts.lockout import purge_expired
    from marketplace.engagements.transitions import auto_approve_due
    from marketplace.invoicing.charging import charge_due_invoices, pause_unpaid, remind_review_closing, settle_funded
    from marketplace.invoicing.closing import close_due_weeks
    from marketplace.notifications.services import send_message_digests
    from marketplace.outbox.services import deliver_queued
    from marketplace.payments.executor import process_due
    from marketplace.payments.attention import alert_operators
    from marketplace.payments.saved_methods import finish_due as finish_saved_cards
    from marketplace.payments.settlement import settle_due
    from marketplace.reviews.services import reveal_due, send_review_reminders
    from marketplace.schedules.blocks import extend_horizons
    from marketplace.schedules.reminders import alert_open_shifts, ask_about_unlogged_shifts, send_shift_reminders
    from marketplace.webhooks.services import deliver_due as deliver_webhooks
    return [
        ("message digests", send_message_digests),
        ("close billing weeks", close_due_weeks),
        ("charge invoices", charge_due_invoices),
        ("funded invoices and bonuses", settle_funded),   # on-session or Checkout payments since the last run
        ("invoice review reminders", remind_review_closing),
        ("pause contracts with unpaid invoices", pause_unpaid),
        ("auto-approve deliveries", auto_approve_due),   # also releases invoices whose review window closed
        ("payments due", process_due),  # after auto-approval, so its transfers go out in the same run
        ("stripe charges and fees", settle_due),
        ("replaced cards to detach", finish_saved_cards),
        ("payments needing attention", alert_operators),   # after the payments, so new failures are told
        ("reveal reviews", reveal_due),
        ("review reminders", send_review_reminders),
        ("expired login lockouts", purge_expired),
        ("coverage shifts ahead", extend_horizons),
        ("shift reminders", send_shift_reminders),
        ("open shift alerts", alert_open_shifts),   # after the horizon grows, so new shifts are seen
        ("unlogged shifts", ask_about_unlogged_shifts),
        # After every job that announces events, so what they announced goes out in this run.
        ("outgoing webhooks", deliver_webhooks),
        # Last, so the mail the jobs above wrote goes out in the same run; it also retries failed mail.
        ("mail delivery", deliver_queued),
    ]


def queued_jobs() -> list[tuple[str, Callable[..., object]]]:
    """(name, function) of the jobs `enqueue()` may ask for; keyword arguments are plain values."""
    from marketplace.matching.service import auto_invite_task
    from marketplace.outbox.services import deliver_queued
    from marketplace.payments.executor import execute_for_engagement, execute_transfer
    return [
        ("payments.engagement", execute_for_engagement),   # refunds, payouts, reversals an engagement has due
        ("payments.transfer", execute_transfer),
        ("mail.deliver", deliver_queued),
        ("matching.auto_invite", auto_invite_task),
    ]


# --- jobs run-due -----------------------------------------------------------------------------------

def _lock_key(name: str) -> int:
    return zlib.crc32(name.encode()) - 2**31   # a signed int4, stable across hosts and Python versions


def run_schedule(name: str, job: Callable[[], int]) -> int | None:
    """Run one scheduled step under its advisory lock; None when another host is running it."""
    from marketplace.core import observability, queue
    if db.engine.dialect.name != "postgresql":
        handled = job()
        db.session.commit()
        queue.run_ready()
        observability.SCHEDULE_RUNS.labels(schedule=name, outcome="done").inc()
        return handled
    # A session-level lock on a connection of its own: held across the step's many commits, and released
    # by PostgreSQL itself if this process dies.
    with db.engine.connect() as lock_conn:
        key = {"cls": ADVISORY_LOCK_CLASS, "obj": _lock_key(name)}
        if not lock_conn.scalar(text("SELECT pg_try_advisory_lock(:cls, :obj)"), key):
            observability.SCHEDULE_RUNS.labels(schedule=name, outcome="skipped").inc()
            return None
        try:
            handled = job()
            db.session.commit()
            queue.run_ready()
        except Exception:
            db.session.rollback()
            observability.SCHEDULE_RUNS.labels(schedule=name, outcome="failed").inc()
            raise
        finally:
            lock_conn.execute(text("SELECT pg_advisory_unlock(:cls, :obj)"), key)
            lock_conn.commit()
    observability.SCHEDULE_RUNS.labels(schedule=name, outcome="done").inc()
    return handled


def run_due(schedules: list[tuple[str, Callable[[], int]]] | None = None) -> list[tuple[str, int | None]]:
    return [(name, run_schedule(name, job)) for name, job in (schedules or _due_jobs())]


@jobs_cli.command("run-due")
def run_due_command() -> None:
    """Run every job that has work due."""
    for name, handled in run_due():
        click.echo(f"{name}: " + ("running on another host, skipped" if handled is None else str(handled)))


@jobs_cli.command("scheduler")
@click.option("--every", default=60, show_default=True, help="Seconds between runs.")
def scheduler_command(every: int) -> None:
    """Run `run-due` forever, every N seconds (the `scheduler` process; cron works as well)."""
    import logging
    log = logging.getLogger("marketplace.scheduler")
    while True:
        started = time.monotonic()
        try:
            for name, handled in run_due():
                if handled:
                    log.info("%s: %s", name, handled)
        except Exception:
            db.session.rollback()
            log.exception("a scheduled run failed; trying again next time")
        db.session.remove()
        time.sleep(max(1.0, every - (time.monotonic() - started)))


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
def worker_command(burst: bool) -> None:
    """Run queued jobs from Redis (REDIS_URL); retries come back through RQ's scheduler."""
    from rq import SimpleWorker

    from marketplace.core.queue import redis_connection, rq_queue
    if not current_app.config.get("REDIS_URL"):
        raise click.ClickException("REDIS_URL is not set: jobs run inside the web process, no worker needed.")
    # SimpleWorker runs jobs in this process, inside the app context the flask command set up (a forking
    # worker would share the database pool's sockets with its children).
    # Maintenance every minute: a job whose worker died (kill -9, a lost host) is found once its timeout
    # has passed and queued again while it has retries left (jobs are safe to run twice).
    worker = SimpleWorker([rq_queue()], connection=redis_connection(), maintenance_interval=60)
    worker.work(burst=burst, with_scheduler=True, logging_level="INFO")
