"""Outgoing webhooks: events written with the change (outbox), signed delivery, retries, log, replay, SSRF."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marketplace.core.errors import ValidationFailed
from marketplace.core.time import utcnow
from marketplace.extensions import db
from marketplace.webhooks import services, signing
from marketplace.webhooks.models import DeliveryStatus, OutgoingEvent, WebhookAttempt, WebhookDelivery
from tests import factories
from tests.api.helpers import auth, token_for
from tests.webhooks.receiver import Receiver


def _deliveries():
    db.session.expire_all()
    return list(db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def _propose(client, task, specialist, **body):
    payload = {"amount": 40_000, "cover_note": "I have done this for years."} | body
    return client.post(f"/api/v1/tasks/{task.id}/proposals", json=payload, headers=auth(token_for(specialist)))


def test_event_is_written_with_the_change_and_not_without_it(client):
    business, specialist = factories.create_business(), factories.create_freelancer()
    task = factories.create_task(business)
    endpoint = services.create_endpoint(business, "http://127.0.0.1:9/hooks", ["proposal.received"])
    services.create_endpoint(business, "http://127.0.0.1:9/other", ["message.received"])   # not subscribed
    refused = _propose(client, task, specialist, amount=0)
    assert refused.status_code == 422
    assert _deliveries() == []
    created = _propose(client, task, specialist)
    assert created.status_code == 201
    [delivery] = _deliveries()
    assert delivery.endpoint_id == endpoint.id and delivery.status == DeliveryStatus.PENDING
    payload = json.loads(delivery.event.payload)
    assert payload["type"] == "proposal.received"
    assert payload["data"]["proposal_id"] == created.json["id"] and payload["data"]["task_id"] == task.id


def test_receiver_failing_twice_then_succeeding_gets_it_signed_on_the_third_try(client):
    business, specialist = factories.create_business(), factories.create_freelancer()
    task = factories.create_task(business)
    with Receiver([500, 503, 200]) as receiver:
        endpoint = services.create_endpoint(business, receiver.url, ["proposal.received"])
        assert _propose(client, task, specialist).status_code == 201
        start = utcnow()
        assert services.deliver_due(now=start) == 1
        [delivery] = _deliveries()
        assert delivery.status == DeliveryStatus.PENDING and delivery.last_status_code == 500
        assert delivery.next_attempt_at.replace(tzinfo=start.tzinfo) == start + timedelta(seconds=30)
        assert services.deliver_due(now=start + timedelta(seconds=10)) == 0          # not due yet
        assert services.deliver_due(now=start + timedelta(seconds=31)) == 1
        assert _deliveries()[0].next_attempt_at.replace(tzinfo=start.tzinfo) == start + timedelta(seconds=91)
        assert services.deliver_due(now=start + timedelta(seconds=92)) == 1
        assert services.deliver_due(now=start + timedelta(hours=1)) == 0             # done: not sent again
    [delivery] = _deliveries()
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempts == 3
    assert [a.status_code for a in delivery.attempt_log] == [500, 503, 200]
    assert len(receiver.received) == 3
    headers, body = receiver.received[-1]
    assert headers[signing.EVENT_HEADER] == "proposal.received"
    timestamp = signing.verify(body, headers[signing.SIGNATURE_HEADER], endpoint.secret,
                               now=(start + timedelta(seconds=92)).timestamp())
    assert timestamp == int((start + timedelta(seconds=92)).timestamp())
    assert json.loads(body)["type"] == "proposal.received"


def test_retries_stop_after_the_window_and_a_manual_replay_sends_again(client):
    business, specialist = factories.create_business(), factories.create_freelancer()
    task = factories.create_task(business)
    with Receiver([500] * 40) as receiver:
        services.create_endpoint(business, receiver.url, ["proposal.received"])
        _propose(client, task, specialist)
        now = utcnow()
        tries = 0
        while _deliveries()[0].status == DeliveryStatus.PENDING:
            now = _deliveries()[0].next_attempt_at.replace(tzinfo=now.tzinfo)
            tries += services.deliver_due(now=now)
        [delivery] = _deliveries()
        assert delivery.status == DeliveryStatus.FAILED
        assert now - delivery.window_started_at.replace(tzinfo=now.tzinfo) <= timedelta(hours=24)
        assert 10 <= tries <= 30          # exponential backoff, capped at two hours between tries
        # By hand, from the delivery log page.
        factories_login(client, business)
        client.post(f"/account/webhooks/deliveries/{delivery.id}/replay")
        receiver.statuses = [200]
        assert services.deliver_due(now=utcnow()) == 1
    assert _deliveries()[0].status == DeliveryStatus.SUCCEEDED


def factories_login(client, user):
    client.post("/login", data={"email": user.email, "password": factories.PASSWORD})


def test_other_users_cannot_replay_or_see_deliveries(client):
    owner, other = factories.create_business(), factories.create_business()
    endpoint = services.create_endpoint(owner, "http://127.0.0.1:9/x", ["message.received"])
    factories_login(client, other)
    assert client.get(f"/account/webhooks/{endpoint.id}").status_code == 404
    assert client.post(f"/account/webhooks/{endpoint.id}/rotate").status_code in (302, 404)
    db.session.expire_all()
    assert endpoint.previous_secret is None


def test_rotation_keeps_the_old_secret_signing_until_the_overlap_ends(app):
    business = factories.create_business()
    endpoint = services.create_endpoint(business, "http://127.0.0.1:9/x", ["message.received"])
    old = endpoint.secret
    new = services.rotate_secret(business, endpoint)
    assert services.signing_secrets(endpoint) == [new, old]
    later = utcnow() + timedelta(hours=app.config["WEBHOOK_SECRET_OVERLAP_HOURS"], seconds=1)
    assert services.signing_secrets(endpoint, now=later) == [new]


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/hooks", "https://127.0.0.1/hooks", "https://10.1.2.3/x",
                                 "https://[::1]/x", "https://169.254.169.254/latest", "https://localhost/x",
                                 "ftp://example.com/x", "https://user:pw@example.com/x"])
def test_private_and_odd_urls_are_refused_in_production(app, url):
    app.config["WEBHOOKS_ALLOW_PRIVATE_URLS"] = False
    try:
        with pytest.raises(ValidationFailed):
            services.create_endpoint(factories.create_business(), url, ["message.received"])
    finally:
        app.config["WEBHOOKS_ALLOW_PRIVATE_URLS"] = True


def test_endpoint_pages_register_and_show_the_secret(client):
    business = factories.create_business()
    factories_login(client, business)
    bad = client.post("/account/webhooks", data={"url": "not a url", "event_types": ["proposal.received"]})
    assert bad.status_code == 400 and "full http(s) URL" in bad.get_data(as_text=True)
    none = client.post("/account/webhooks", data={"url": "https://hooks.example.com/in"})
    assert none.status_code == 400 and "at least one event type" in none.get_data(as_text=True)
    made = client.post("/account/webhooks", data={"url": "https://hooks.example.com/in",
                                                  "event_types": ["proposal.received", "engagement.funded"]})
    assert made.status_code == 302
    [endpoint] = services.endpoints_of(business)
    assert endpoint.event_list == ["proposal.received", "engagement.funded"]
    page = client.get(made.headers["Location"]).get_data(as_text=True)
    assert endpoint.secret in page and signing.SIGNATURE_HEADER in page


def test_jobs_run_due_delivers_webhooks(app, client):
    business, specialist = factories.create_business(), factories.create_freelancer()
    task = factories.create_task(business)
    with Receiver([200]) as receiver:
        services.create_endpoint(business, receiver.url, ["proposal.received"])
        _propose(client, task, specialist)
        db.session.commit()
        result = app.test_cli_runner().invoke(args=["jobs", "run-due"])
        assert "outgoing webhooks: 1" in result.output, result.output
    assert len(receiver.received) == 1
    assert db.session.scalar(select(func.count()).select_from(WebhookAttempt)) == 1
