"""Request ids, JSON logs, the protected /metrics endpoint."""
from __future__ import annotations

import io
import json
import logging

import pytest

from marketplace.core import observability


@pytest.fixture()
def metrics_config(app):
    saved = app.config["METRICS_TOKEN"], app.config["METRICS_ALLOW_IPS"]
    yield app.config
    app.config["METRICS_TOKEN"], app.config["METRICS_ALLOW_IPS"] = saved


def test_metrics_are_off_until_a_token_or_network_is_configured(client, metrics_config):
    metrics_config.update(METRICS_TOKEN=None, METRICS_ALLOW_IPS=[])
    assert client.get("/metrics").status_code == 404


def test_metrics_want_the_token(client, metrics_config):
    metrics_config.update(METRICS_TOKEN="s3cret-token", METRICS_ALLOW_IPS=[])
    client.get("/tasks")
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
    response = client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert 'http_request_duration_seconds_bucket{endpoint="tasks.browse",le="0.3",method="GET",status="200"}' in body
    for name in ("job_duration_seconds", "job_failures_total", "payment_failures_total", "email_failures_total",
                 "job_queue_depth"):
        assert name in body


def test_metrics_from_an_allowed_network(client, metrics_config):
    metrics_config.update(METRICS_TOKEN=None, METRICS_ALLOW_IPS=["10.0.0.0/8"])
    assert client.get("/metrics").status_code == 404                       # the test client is 127.0.0.1
    metrics_config.update(METRICS_ALLOW_IPS=["127.0.0.0/8"])
    assert client.get("/metrics").status_code == 200


def test_every_response_carries_a_request_id_and_a_bad_one_is_replaced(client):
    given = client.get("/tasks", headers={"X-Request-ID": "edge-42"})
    assert given.headers["X-Request-ID"] == "edge-42"
    made = client.get("/tasks", headers={"X-Request-ID": "bad id <script>" + "x" * 80})
    assert made.headers["X-Request-ID"] != "bad id" and len(made.headers["X-Request-ID"]) == 32


def test_json_logs_carry_the_request_id(app):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    saved = app.config["LOG_FORMAT"]
    app.config["LOG_FORMAT"] = "json"
    formatters = {h: h.formatter for h in root.handlers}
    try:
        observability.configure_logging(app)
        with app.test_request_context("/"):
            app.preprocess_request()
            logging.getLogger("marketplace.test").warning("payout %s sent", 7)
            expected = observability.current_request_id()
    finally:
        app.config["LOG_FORMAT"] = saved
        for h, formatter in formatters.items():
            h.setFormatter(formatter)
        root.removeHandler(handler)
    line = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert line["message"] == "payout 7 sent" and line["level"] == "WARNING"
    assert line["request_id"] == expected and expected


REPORTS = []


def remember(exc, context):
    REPORTS.append((exc, context))


def test_an_unhandled_exception_reaches_the_error_reporter(app):
    from config import TestingConfig
    from marketplace import create_app
    REPORTS.clear()
    boom_app = create_app(TestingConfig)   # a route of its own, added before its first request

    @boom_app.get("/_test/boom")
    def _boom():
        raise ValueError("broken")
    boom_app.config.update(ERROR_REPORTER="tests.core.test_observability.remember", PROPAGATE_EXCEPTIONS=False)
    assert boom_app.test_client().get("/_test/boom", headers={"X-Request-ID": "boom-1"}).status_code == 500
    (exc, context), = REPORTS
    assert str(exc) == "broken" and context == {"request_id": "boom-1", "path": "/_test/boom",
                                                "endpoint": "_boom"}
