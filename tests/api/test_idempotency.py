"""Idempotency-Key on POST: replayed for 24 h, 422 on another request, one run under concurrency."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from marketplace.api.models import IdempotencyRecord
from marketplace.extensions import db
from marketplace.tasks.models import Task
from tests import factories
from tests.conftest import FreshContextClient
from tests.api.helpers import auth, skill_id, task_body, token_for


def tasks_of(business) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Task).where(Task.business_id == business.id))


def test_same_key_same_request_replays_the_first_response(client):
    business = factories.create_business()
    headers = auth(token_for(business), **{"Idempotency-Key": "order-7781"})
    body = task_body(skill_id())
    first = client.post("/api/v1/tasks", json=body, headers=headers)
    again = client.post("/api/v1/tasks", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json == again.json
    assert first.headers["Idempotent-Replayed"] == "false" and again.headers["Idempotent-Replayed"] == "true"
    assert tasks_of(business) == 1


def test_same_key_other_body_is_refused_with_422(client):
    business = factories.create_business()
    headers = auth(token_for(business), **{"Idempotency-Key": "order-7782"})
    client.post("/api/v1/tasks", json=task_body(skill_id()), headers=headers)
    other = client.post("/api/v1/tasks", json=task_body(skill_id(), title="Another title"), headers=headers)
    assert other.status_code == 422
    assert other.json["type"] == "/api/v1/problems/idempotency-key-reused"
    assert tasks_of(business) == 1


def test_keys_belong_to_the_token_owner(client):
    one, two = factories.create_business(), factories.create_business()
    body = task_body(skill_id())
    for business in (one, two):
        response = client.post("/api/v1/tasks", json=body, headers=auth(token_for(business), **{"Idempotency-Key": "k"}))
        assert response.status_code == 201 and response.headers["Idempotent-Replayed"] == "false"
    assert tasks_of(one) == tasks_of(two) == 1


def test_refusals_are_replayed_too_and_expired_keys_start_afresh(client):
    business = factories.create_business()
    headers = auth(token_for(business), **{"Idempotency-Key": "retry-me"})
    body = task_body(skill_id(), budget=100)
    assert client.post("/api/v1/tasks", json=body, headers=headers).status_code == 400
    replay = client.post("/api/v1/tasks", json=body, headers=headers)
    assert replay.status_code == 400 and replay.headers["Idempotent-Replayed"] == "true"
    db.session.execute(update(IdempotencyRecord).values(created_at=IdempotencyRecord.created_at - timedelta(hours=25)))
    fresh = client.post("/api/v1/tasks", json=task_body(skill_id()), headers=headers)
    assert fresh.status_code == 201 and fresh.headers["Idempotent-Replayed"] == "false"


def test_without_a_key_each_post_runs(client):
    business = factories.create_business()
    secret = token_for(business)
    for _ in range(2):
        assert client.post("/api/v1/tasks", json=task_body(skill_id()), headers=auth(secret)).status_code == 201
    assert tasks_of(business) == 2


def test_a_key_too_long_is_a_clear_400(client):
    business = factories.create_business()
    response = client.post("/api/v1/tasks", json=task_body(skill_id()),
                           headers=auth(token_for(business), **{"Idempotency-Key": "x" * 256}))
    assert response.status_code == 400 and response.json["errors"][0]["field"] == "Idempotency-Key"
    assert tasks_of(business) == 0


PARALLEL = 8


@pytest.mark.no_db_transaction
def test_concurrent_requests_with_one_key_run_once(app, committed_world):
    business = factories.create_business()
    secret = token_for(business)
    db.session.commit()
    body = task_body(skill_id())
    barrier = threading.Barrier(PARALLEL)
    answers: list = [None] * PARALLEL

    def post(i: int) -> None:
        client = FreshContextClient(app, app.response_class)
        barrier.wait()
        answers[i] = client.post("/api/v1/tasks", json=body, headers=auth(secret, **{"Idempotency-Key": "burst"}))

    threads = [threading.Thread(target=post, args=(i,)) for i in range(PARALLEL)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    codes = sorted(a.status_code for a in answers)
    originals = [a for a in answers if a.status_code == 201 and a.headers["Idempotent-Replayed"] == "false"]
    assert len(originals) == 1, codes
    assert set(codes) <= {201, 409}, codes
    for answer in answers:
        if answer.status_code == 201:
            assert answer.json["id"] == originals[0].json["id"]
        else:
            assert answer.json["type"] == "/api/v1/problems/idempotency-request-in-progress"
    assert tasks_of(business) == 1
