"""One reminder to write a review, sent by `jobs run-due` while the review window is still open."""
from __future__ import annotations

from sqlalchemy import select

from marketplace.extensions import db
from marketplace.notifications.models import Notification
from marketplace.reviews.services import REMINDER_KIND, send_review_reminders
from tests.reviews.helpers import business_review, ended_engagement


def reminders_to(user) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id,
                                                              Notification.kind == REMINDER_KIND)))


def test_each_side_that_has_not_reviewed_is_reminded_once():
    engagement = ended_engagement(days_ago=11)
    business_review(engagement)
    assert send_review_reminders() == 1
    [reminder] = reminders_to(engagement.freelancer)
    assert engagement.task.title in reminder.title
    assert reminder.link == f"/engagements/{engagement.id}#reviews"
    assert reminders_to(engagement.business) == []        # already reviewed
    assert send_review_reminders() == 0                    # idempotent
    assert len(reminders_to(engagement.freelancer)) == 1


def test_no_reminder_too_early_or_after_the_window_closed():
    early = ended_engagement(days_ago=3)
    closed = ended_engagement(days_ago=15)
    assert send_review_reminders() == 0
    for engagement in (early, closed):
        assert reminders_to(engagement.business) == [] and reminders_to(engagement.freelancer) == []


def test_the_job_runs_from_the_command_line(app):
    engagement = ended_engagement(days_ago=12)
    result = app.test_cli_runner().invoke(args=["jobs", "run-due"])
    assert result.exit_code == 0, result.output
    assert "review reminders: 2" in result.output
    assert len(reminders_to(engagement.business)) == 1 and len(reminders_to(engagement.freelancer)) == 1


def test_suspended_accounts_are_not_reminded():
    from marketplace.accounts.models import AccountStatus
    engagement = ended_engagement(days_ago=11)
    engagement.freelancer.status = AccountStatus.SUSPENDED
    db.session.flush()
    assert send_review_reminders() == 1
    assert reminders_to(engagement.freelancer) == [] and len(reminders_to(engagement.business)) == 1
