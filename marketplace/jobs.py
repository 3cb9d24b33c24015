"""Scheduled jobs: `flask --app wsgi jobs run-due`, safe to run from cron every minute.

Each job is idempotent: it selects only the rows that are due and marks them
done in the same transaction, so overlapping runs do no harm.
"""
from __future__ import annotations

from typing import Callable

import click
from flask.cli import AppGroup

from marketplace.extensions import db

jobs_cli = AppGroup("jobs", help="Scheduled jobs.")


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


@jobs_cli.command("run-due")
def run_due_command() -> None:
    """Run every job that has work due."""
    for name, job in _due_jobs():
        handled = job()
        db.session.commit()
        click.echo(f"{name}: {handled}")
