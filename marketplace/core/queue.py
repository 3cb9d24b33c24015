"""One way to run work off the request path: `enqueue("job name", **kwargs)`.

Jobs are registered by name in `marketplace/jobs.py` (`queued_jobs()`); their keyword
arguments are plain ids and strings, so a job can be sent to another process.

Two modes, chosen by `REDIS_URL`:

- unset (the embedded default, `make run`, tests): the job runs in this process, exactly
  where the work ran before there was a queue: at once when nothing is uncommitted,
  otherwise after the surrounding transaction commits (at the end of the request, or of the
  `jobs run-due` step). A failure is logged; the scheduled sweep in `jobs run-due` retries it.
- set: the job goes onto an RQ queue in Redis once the transaction that asked for it has
  committed (a rolled-back request enqueues nothing), and `flask jobs worker` runs it with
  retries and backoff (`JOB_RETRY_DELAYS`); a job out of retries stays in RQ's failed-job
  registry, which operators see and retry at `/moderation/jobs`.

Either way a job may run twice (a retry after a worker died, a sweep that overlaps a worker):
every job claims its rows with a conditional UPDATE or checks what is already done first.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from flask import Flask, current_app, g, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from marketplace.core import observability
from marketplace.extensions import db

log = logging.getLogger(__name__)

PENDING_KEY = "queue_pending"   # Session.info: asked for in the open transaction
WROTE_KEY = "queue_wrote"       # Session.info: the open transaction has written something
READY_KEY = "queue_ready"       # Session.info: committed, waiting for the in-process runner


@dataclass
class PendingJob:
    name: str
    kwargs: dict[str, Any]
    request_id: str | None = field(default=None)


class UnknownJob(KeyError):
    pass


# --- registry ---------------------------------------------------------------------------------------

def init_queue(app: Flask, jobs: list[tuple[str, Callable[..., Any]]]) -> None:
    app.extensions["queued_jobs"] = dict(jobs)


def registry() -> dict[str, Callable[..., Any]]:
    return current_app.extensions["queued_jobs"]


def uses_redis() -> bool:
    return bool(current_app.config.get("REDIS_URL"))


# --- asking for a job -------------------------------------------------------------------------------

def enqueue(name: str, **kwargs: Any) -> None:
    """Run job `name` with `kwargs` once what the caller wrote is committed."""
    if name not in registry():
        raise UnknownJob(name)
    job = PendingJob(name, kwargs, observability.current_request_id())
    session = db.session()
    if _writes_uncommitted(session):
        pending = session.info.setdefault(PENDING_KEY, [])
        if job not in pending:   # one mail delivery for ten mails written in one request
            pending.append(job)
        return
    _dispatch(session, [job])


def _writes_uncommitted(session: Session) -> bool:
    # Not session.in_transaction(): reading an attribute expired by the last commit opens a transaction too.
    return bool(session.info.get(WROTE_KEY) or session.new or session.dirty or session.deleted)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, flush_context) -> None:
    session.info[WROTE_KEY] = True


@event.listens_for(Session, "do_orm_execute")
def _after_statement(state) -> None:
    if not state.is_select:
        state.session.info[WROTE_KEY] = True


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    session.info.pop(WROTE_KEY, None)
    pending = session.info.pop(PENDING_KEY, None)
    if not pending or not has_app_context():
        return
    if uses_redis():
        for job in pending:
            _push(job)
    else:
        # No SQL inside the session's own after_commit hook: park the jobs for run_ready(), which the
        # end of the request (or of the `jobs run-due` step) calls.
        session.info.setdefault(READY_KEY, []).extend(pending)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)
    session.info.pop(WROTE_KEY, None)


def _dispatch(session: Session, jobs: list[PendingJob]) -> None:
    if uses_redis():
        for job in jobs:
            _push(job)
    else:
        session.info.setdefault(READY_KEY, []).extend(jobs)
        run_ready()


def run_ready() -> int:
    """In-process mode: run the jobs whose transaction has committed; returns how many ran."""
    session = db.session()
    ran = 0
    while session.info.get(READY_KEY):
        job = session.info[READY_KEY].pop(0)
        run_job(job.name, job.kwargs, job.request_id, reraise=False)
        ran += 1
    return ran


def register_request_hook(app: Flask) -> None:
    @app.teardown_request
    def _run_committed_jobs(exc):
        if exc is None and not uses_redis():
            try:
                run_ready()
            except Exception:  # a job must never break a page
                log.exception("in-process jobs failed")
        db.session().info.pop(READY_KEY, None)


# --- running a job ----------------------------------------------------------------------------------

def run_job(name: str, kwargs: dict[str, Any], request_id: str | None = None, *, reraise: bool = True) -> Any:
    """Run one job in its own transaction (commit on success, rollback on error), measured."""
    function = registry()[name]
    started = time.perf_counter()
    with observability.request_id_context(request_id):
        try:
            result = function(**kwargs)
            db.session.commit()
        except Exception:
            db.session.rollback()
            observability.JOB_FAILURES.labels(job=name).inc()
            observability.report_error(job=name)
            log.exception("job %s failed", name, extra={"job": name})
            if reraise:
                raise
            return None
        finally:
            observability.JOB_DURATION.labels(job=name).observe(time.perf_counter() - started)
        log.info("job %s done", name, extra={"job": name})
        return result


# --- Redis (RQ) -------------------------------------------------------------------------------------

def redis_connection():
    from redis import Redis
    cfg = current_app.config
    return Redis.from_url(cfg["REDIS_URL"], socket_connect_timeout=cfg["REDIS_TIMEOUT_SECONDS"],
                          socket_timeout=cfg["REDIS_TIMEOUT_SECONDS"], health_check_interval=30)


def rq_queue():
    from rq import Queue
    if "rq_queue" not in g:
        g.rq_queue = Queue(current_app.config["JOBS_QUEUE"], connection=redis_connection())
    return g.rq_queue


def _push(job: PendingJob) -> None:
    from rq import Retry
    delays = current_app.config["JOB_RETRY_DELAYS"]
    try:
        rq_queue().enqueue("marketplace.core.queue.perform", job.name, job.kwargs, job.request_id,
                           retry=Retry(max=len(delays), interval=delays) if delays else None,
                           job_timeout=current_app.config["JOB_TIMEOUT_SECONDS"],
                           failure_ttl=current_app.config["JOB_FAILURE_TTL_SECONDS"],
                           description=f"{job.name} {job.kwargs}")
    except Exception:
        # Redis is down: what the job would do is recorded in the database (a due payment, queued mail),
        # so the scheduled sweep of `jobs run-due` does it instead. Never fail the committed request.
        observability.JOB_ENQUEUE_FAILURES.labels(job=job.name).inc()
        log.exception("could not enqueue %s; the scheduled sweep will do it", job.name, extra={"job": job.name})


_worker_app: Flask | None = None


def perform(name: str, kwargs: dict[str, Any], request_id: str | None = None) -> Any:
    """RQ's entry point in the worker: run the job inside the app (the one the worker runs in, if any)."""
    global _worker_app
    if has_app_context():
        return run_job(name, kwargs, request_id)
    if _worker_app is None:
        from marketplace import create_app
        _worker_app = create_app()
    with _worker_app.app_context():
        try:
            return run_job(name, kwargs, request_id)
        finally:
            db.session.remove()


def queue_depth() -> dict[str, int]:
    """Jobs waiting, running and failed (Redis mode); empty in-process."""
    if not uses_redis():
        return {}
    queue = rq_queue()
    return {"queued": queue.count, "started": queue.started_job_registry.count,
            "scheduled": queue.scheduled_job_registry.count + queue.deferred_job_registry.count,
            "failed": queue.failed_job_registry.count}


# --- dead letters (operators: /moderation/jobs) -------------------------------------------------------

@dataclass
class FailedJob:
    id: str
    name: str
    kwargs: dict[str, Any]
    error: str
    failed_at: Any
    request_id: str | None


def failed_jobs(limit: int = 200) -> list[FailedJob]:
    """Jobs that ran out of retries, newest first (Redis mode; none in-process, where the sweep retries)."""
    if not uses_redis():
        return []
    from rq.job import Job
    registry_ = rq_queue().failed_job_registry
    ids = list(reversed(registry_.get_job_ids()))[:limit]
    jobs = []
    for job in Job.fetch_many(ids, connection=rq_queue().connection):
        if job is None:
            continue
        name, kwargs, request_id = (list(job.args) + [None, None, None])[:3]
        result = job.latest_result()
        error = (result.exc_string if result is not None and result.exc_string else "") or ""
        jobs.append(FailedJob(job.id, str(name), kwargs or {}, error.strip().splitlines()[-1] if error else "",
                              job.ended_at, request_id))
    return jobs


def retry_failed(job_id: str) -> FailedJob | None:
    """Put a dead job back on the queue (it is safe to run twice); None when it is not a failed job."""
    for job in failed_jobs():
        if job.id == job_id:
            rq_queue().failed_job_registry.requeue(job_id)
            return job
    return None


def discard_failed(job_id: str) -> FailedJob | None:
    for job in failed_jobs():
        if job.id == job_id:
            rq_queue().failed_job_registry.remove(job_id, delete_job=True)
            return job
    return None
