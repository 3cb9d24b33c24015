"""The job queue: in-process after commit (always), and on Redis through RQ when Redis answers."""
from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import func, select

from marketplace.core import observability, queue
from marketplace.extensions import db
from marketplace.moderation import audit
from marketplace.moderation.models import AuditEntry
from tests import factories

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
RAN: list[tuple[int, str | None]] = []
REPORTED: list[tuple[BaseException, dict]] = []


def record_job(n: int) -> int:
    """A job that writes a row, so what ran is what committed."""
    RAN.append((n, observability.current_request_id()))
    audit.record(None, "test_job", "job", n)
    return n


def failing_job(n: int) -> None:
    raise RuntimeError(f"job {n} broke")


def collect_error(exc: BaseException, context: dict) -> None:
    REPORTED.append((exc, context))


def _audited(n: int) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "test_job", AuditEntry.target_id == n))


@pytest.fixture()
def test_jobs(app):
    RAN.clear()
    REPORTED.clear()
    jobs = app.extensions["queued_jobs"]
    jobs.update({"test.record": record_job, "test.fail": failing_job})
    app.config["ERROR_REPORTER"] = "tests.core.test_queue.collect_error"
    yield
    jobs.pop("test.record")
    jobs.pop("test.fail")
    app.config["ERROR_REPORTER"] = None


# --- in-process (no REDIS_URL) ----------------------------------------------------------------------

def test_a_job_asked_for_in_a_transaction_runs_after_its_commit(app, test_jobs):
    factories.create_user()                       # uncommitted writes
    queue.enqueue("test.record", n=1)
    assert RAN == []
    db.session.commit()
    assert RAN == []                              # parked: no SQL inside the commit hook
    assert queue.run_ready() == 1
    assert [n for n, _ in RAN] == [1] and _audited(1) == 1


def test_a_rolled_back_transaction_runs_nothing(app, test_jobs):
    factories.create_user()
    queue.enqueue("test.record", n=2)
    db.session.rollback()
    db.session.commit()
    assert queue.run_ready() == 0 and RAN == []


def test_with_nothing_uncommitted_a_job_runs_at_once_even_after_reading(app, test_jobs):
    user = factories.create_user()
    db.session.commit()
    assert user.email                             # reading an expired attribute opens a transaction
    queue.enqueue("test.record", n=3)
    assert [n for n, _ in RAN] == [3]


def test_the_same_job_asked_twice_in_one_transaction_runs_once(app, test_jobs):
    factories.create_user()
    queue.enqueue("test.record", n=4)
    queue.enqueue("test.record", n=4)
    db.session.commit()
    assert queue.run_ready() == 1


def test_a_failing_job_is_logged_counted_and_reported_and_the_caller_goes_on(app, test_jobs, caplog):
    before = observability.JOB_FAILURES.labels(job="test.fail")._value.get()
    queue.enqueue("test.fail", n=5)
    assert observability.JOB_FAILURES.labels(job="test.fail")._value.get() == before + 1
    assert "job test.fail failed" in caplog.text
    (exc, context), = REPORTED
    assert str(exc) == "job 5 broke" and context["job"] == "test.fail"


def test_an_unknown_job_is_refused(app):
    with pytest.raises(queue.UnknownJob):
        queue.enqueue("no.such.job")


def test_a_request_runs_its_jobs_after_committing_and_they_carry_its_request_id(app, client, login_as, test_jobs):
    from marketplace.payments.executor import execute_for_engagement
    seen = []

    def payments_job(engagement_id):
        seen.append((engagement_id, observability.current_request_id(), db.session().info.get(queue.WROTE_KEY)))
        return execute_for_engagement(engagement_id)
    app.extensions["queued_jobs"]["payments.engagement"] = payments_job
    try:
        e = factories.create_engagement(amount=30_000)
        login_as(e.business)
        response = client.post(f"/engagements/{e.id}/cancel", data={"note": "not needed"},
                               headers={"X-Request-ID": "req-abc-123"})
    finally:
        app.extensions["queued_jobs"]["payments.engagement"] = execute_for_engagement
    assert response.headers["X-Request-ID"] == "req-abc-123"
    assert seen == [(e.id, "req-abc-123", None)]   # after the cancel committed, with the click's request id


def test_the_jobs_page_says_jobs_run_in_process(client, login_operator):
    login_operator(factories.create_operator())
    page = client.get("/moderation/jobs").get_data(as_text=True)
    assert 'data-testid="jobs-in-process"' in page


# --- Redis (RQ) -------------------------------------------------------------------------------------

def _redis_answers() -> bool:
    try:
        from redis import Redis
        return bool(Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=0.5).ping())
    except Exception:
        return False


@pytest.fixture()
def redis_queue(app, test_jobs):
    if not _redis_answers():
        pytest.skip(f"Redis does not answer at {TEST_REDIS_URL} (set TEST_REDIS_URL)")
    saved = {key: app.config[key] for key in ("REDIS_URL", "JOBS_QUEUE", "JOB_RETRY_DELAYS")}
    app.config.update(REDIS_URL=TEST_REDIS_URL, JOBS_QUEUE=f"test-{uuid.uuid4().hex}", JOB_RETRY_DELAYS=[])
    q = queue.rq_queue()
    yield q
    for registry in (q.failed_job_registry, q.finished_job_registry):
        for job_id in registry.get_job_ids():
            registry.remove(job_id, delete_job=True)
    q.delete(delete_jobs=True)
    app.config.update(saved)


def _work(q) -> None:
    from rq import SimpleWorker
    SimpleWorker([q], connection=q.connection).work(burst=True)


def test_redis_a_job_is_queued_only_when_its_transaction_commits(app, redis_queue, test_jobs):
    factories.create_user()
    queue.enqueue("test.record", n=10)
    assert redis_queue.count == 0
    db.session.rollback()
    assert redis_queue.count == 0                 # rolled back: never queued

    factories.create_user()
    queue.enqueue("test.record", n=11)
    db.session.commit()
    assert redis_queue.count == 1 and RAN == []   # the worker runs it, not the request
    _work(redis_queue)
    assert [n for n, _ in RAN] == [11] and _audited(11) == 1
    assert queue.queue_depth()["queued"] == 0


def test_redis_a_payout_job_that_runs_twice_pays_once(app, redis_queue):
    """A retry after a worker died runs the job again: the payout claims its row, so money moves once."""
    from marketplace.engagements import transitions
    from marketplace.payments import ledger, services
    from marketplace.payments.ledger import PAYABLE
    from marketplace.payments.models import LedgerTransaction, Transfer
    from tests.payments.helpers import assert_ledger_ok, sandbox_fund
    e = factories.create_engagement(amount=30_000)
    sandbox_fund(e)
    transitions.deliver(e.freelancer, e, "Done.")
    transfer = transitions.approve(e.business, e)
    db.session.commit()
    services.sandbox_connect(e.freelancer)
    db.session.commit()
    queue.enqueue("payments.transfer", transfer_id=transfer.id)
    queue.enqueue("payments.engagement", engagement_id=e.id)   # the same payout asked for a second way
    assert redis_queue.count == 2
    _work(redis_queue)
    db.session.refresh(transfer)
    assert transfer.status == "paid" and ledger.balance(PAYABLE, "USD", engagement_id=e.id) == 0
    assert db.session.scalar(select(func.count()).select_from(LedgerTransaction)
                             .where(LedgerTransaction.kind == "transfer", LedgerTransaction.engagement_id == e.id)) == 1
    assert_ledger_ok()


def test_redis_dead_letters_are_listed_retried_and_audited(app, client, login_operator, redis_queue):
    queue.enqueue("test.fail", n=12)
    _work(redis_queue)
    failed = queue.failed_jobs()
    assert [job.name for job in failed] == ["test.fail"] and "job 12 broke" in failed[0].error
    assert queue.queue_depth()["failed"] == 1

    login_operator(factories.create_operator())
    page = client.get("/moderation/jobs").get_data(as_text=True)
    assert f'data-testid="failed-job-{failed[0].id}"' in page and "job 12 broke" in page
    response = client.post(f"/moderation/jobs/{failed[0].id}/retry", data={"job-reason": "fixed"},
                           follow_redirects=True)
    assert "queued again" in response.get_data(as_text=True)
    assert redis_queue.count == 1 and queue.failed_jobs() == []
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "retry_job"))
    assert "test.fail" in entry.details and entry.reason == "fixed"
    # Already retried: a second click changes nothing.
    again = client.post(f"/moderation/jobs/{failed[0].id}/retry", follow_redirects=True)
    assert "no longer in the failed list" in again.get_data(as_text=True)


def test_redis_down_the_request_still_commits_and_the_failure_is_counted(app, test_jobs):
    saved = app.config["REDIS_URL"]
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"   # nothing listens there
    try:
        before = observability.JOB_ENQUEUE_FAILURES.labels(job="test.record")._value.get()
        factories.create_user()
        queue.enqueue("test.record", n=13)
        db.session.commit()
        assert observability.JOB_ENQUEUE_FAILURES.labels(job="test.record")._value.get() == before + 1
        assert RAN == []
    finally:
        app.config["REDIS_URL"] = saved
