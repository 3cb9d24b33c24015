"""Logs, metrics and error reports: what an operator of several app servers needs to see.

- Every request gets a request id (the caller's `X-Request-ID` when it is well formed, else a new
  one), sent back in the response and written on every log line; a job carries the id of the
  request that asked for it, so one id follows a click into the worker.
- `LOG_FORMAT=json` (the production default) writes one JSON object per log line.
- Prometheus metrics at `/metrics`, open only to `METRICS_TOKEN` (Bearer) or `METRICS_ALLOW_IPS`
  (disabled when neither is set). Under gunicorn with several workers set
  `PROMETHEUS_MULTIPROC_DIR` (gunicorn.conf.py does) so every worker's figures are added up.
- `ERROR_REPORTER`: a dotted path to a callable `report(exc, context)` called with every unhandled
  exception of a request or a job (Sentry, Rollbar... behind a two-line adapter).
"""
from __future__ import annotations

import contextlib
import contextvars
import hmac
import ipaddress
import logging
import os
import re
import sys
import time
import uuid
from typing import Any, Callable

from flask import Flask, Response, abort, current_app, g, has_request_context, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from werkzeug.utils import import_string

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_SHAPE = re.compile(r"[A-Za-z0-9._-]{1,64}")
_job_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("job_request_id", default=None)

REQUEST_LATENCY = Histogram("http_request_duration_seconds", "Time to answer a request, per endpoint",
                            ["endpoint", "method", "status"],
                            buckets=(0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5, 10))
JOB_DURATION = Histogram("job_duration_seconds", "Time to run a queued job", ["job"],
                         buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120))
JOB_FAILURES = Counter("job_failures_total", "Queued jobs that raised", ["job"])
JOB_ENQUEUE_FAILURES = Counter("job_enqueue_failures_total", "Jobs that could not be put on the queue", ["job"])
SCHEDULE_RUNS = Counter("schedule_runs_total", "Scheduled steps of jobs run-due", ["schedule", "outcome"])
PAYMENT_FAILURES = Counter("payment_failures_total", "Payouts, refunds and reversals the gateway failed",
                           ["kind", "outcome"])
EMAIL_FAILURES = Counter("email_failures_total", "Mail deliveries that failed", ["outcome"])


# --- request ids ------------------------------------------------------------------------------------

def current_request_id() -> str | None:
    if has_request_context():
        return g.get("request_id")
    return _job_request_id.get()


@contextlib.contextmanager
def request_id_context(request_id: str | None):
    token = _job_request_id.set(request_id or uuid.uuid4().hex)
    try:
        yield
    finally:
        _job_request_id.reset(token)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            try:
                record.request_id = current_request_id()
            except RuntimeError:
                record.request_id = None
        return True


def configure_logging(app: Flask) -> None:
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.INFO)
    root.setLevel(logging.INFO)
    if app.config.get("LOG_FORMAT") == "json":
        from pythonjsonlogger.json import JsonFormatter
        formatter = JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
                                  rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
                                  timestamp=False)
        for handler in root.handlers:
            handler.setFormatter(formatter)
    for handler in root.handlers:
        if not any(isinstance(f, RequestIdFilter) for f in handler.filters):
            handler.addFilter(RequestIdFilter())


# --- error reports ----------------------------------------------------------------------------------

def _reporter() -> Callable[[BaseException, dict], Any] | None:
    path = current_app.config.get("ERROR_REPORTER")
    return import_string(path) if path else None


def report_error(exc: BaseException | None = None, **context: Any) -> None:
    """Hand an exception to the configured reporter; a broken reporter is logged, never raised."""
    exc = exc or sys.exc_info()[1]
    if exc is None:
        return
    try:
        reporter = _reporter()
        if reporter is not None:
            reporter(exc, {"request_id": current_request_id(), **context})
    except Exception:
        log.exception("the error reporter (ERROR_REPORTER) failed")


# --- metrics ----------------------------------------------------------------------------------------

class _QueueDepthCollector:
    def collect(self):
        from marketplace.core.queue import queue_depth
        family = GaugeMetricFamily("job_queue_depth", "Jobs on the queue by state", labels=["state"])
        try:
            for state, count in queue_depth().items():
                family.add_metric([state], count)
        except Exception:
            log.warning("queue depth unavailable", exc_info=True)
        yield family


def metrics_text() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        body = generate_latest(registry)
    else:
        from prometheus_client import REGISTRY
        body = generate_latest(REGISTRY)
    queue_registry = CollectorRegistry()
    queue_registry.register(_QueueDepthCollector())
    return body + generate_latest(queue_registry)


def _metrics_allowed() -> bool:
    cfg = current_app.config
    token = cfg.get("METRICS_TOKEN")
    if token:
        given = request.headers.get("Authorization", "")
        if given.startswith("Bearer ") and hmac.compare_digest(given[7:].encode(), token.encode()):
            return True
    allowed = cfg.get("METRICS_ALLOW_IPS") or []
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(network, strict=False) for network in allowed)


def register_observability(app: Flask) -> None:
    configure_logging(app)

    @app.before_request
    def _start():
        given = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = given if _REQUEST_ID_SHAPE.fullmatch(given) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def _finish(response: Response) -> Response:
        response.headers[REQUEST_ID_HEADER] = g.get("request_id", "")
        started = g.get("request_started")
        if started is not None:
            REQUEST_LATENCY.labels(endpoint=request.endpoint or "unmatched", method=request.method,
                                   status=str(response.status_code)).observe(time.perf_counter() - started)
        return response

    @app.get("/metrics")
    def metrics():
        if not (app.config.get("METRICS_TOKEN") or app.config.get("METRICS_ALLOW_IPS")) or not _metrics_allowed():
            abort(404)
        return Response(metrics_text(), mimetype=CONTENT_TYPE_LATEST)
