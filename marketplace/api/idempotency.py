"""Idempotency-Key on every POST, with Stripe's semantics.

The first request with a key claims it (a row committed at once, unique per token owner and
key), runs, and stores its response in the same transaction as its changes. A retry with the
same key and the same request gets that response again for API_IDEMPOTENCY_HOURS (marked
`Idempotent-Replayed: true`); with a different request it gets 422; while the first still runs,
409. A response that is not stored (a server error, a rate limit) frees the key for a retry.
"""
from __future__ import annotations

import hashlib
import json
from datetime import timedelta

from flask import Response, current_app, g, request
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from marketplace.api.models import IdempotencyRecord
from marketplace.core.errors import Conflict, DomainError, ValidationFailed
from marketplace.core.time import utcnow
from marketplace.extensions import db

HEADER = "Idempotency-Key"
MAX_KEY = 255


class KeyReused(DomainError):
    status_code = 422
    problem = "idempotency-key-reused"


class KeyInProgress(Conflict):
    problem = "idempotency-request-in-progress"


def fingerprint() -> str:
    raw = request.get_data(cache=True)
    try:
        body = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode() if raw else b""
    except ValueError:
        body = raw
    return hashlib.sha256(b"\n".join([request.method.encode(), request.full_path.encode(), body])).hexdigest()


def _aware(moment):
    from datetime import timezone
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def begin(user_id: int) -> Response | None:
    """Claim the request's key, or answer from the stored response. No key: nothing to do."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY or not key.isprintable():
        raise ValidationFailed(f"{HEADER} must be 1 to {MAX_KEY} printable characters.", field=HEADER)
    print_ = fingerprint()
    cutoff = utcnow() - timedelta(hours=current_app.config["API_IDEMPOTENCY_HOURS"])
    # Expired keys may be used afresh.
    db.session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.user_id == user_id,
                                                       IdempotencyRecord.key == key,
                                                       IdempotencyRecord.created_at < cutoff))
    record = IdempotencyRecord(user_id=user_id, key=key, fingerprint=print_)
    try:
        with db.session.begin_nested():
            db.session.add(record)
            db.session.flush()
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        existing = db.session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.user_id == user_id,
                                                                     IdempotencyRecord.key == key))
        if existing is None:   # freed between our insert and this read: ask for a retry
            raise KeyInProgress("Another request with this Idempotency-Key just finished; send it again.")
        if existing.fingerprint != print_:
            raise KeyReused(f"This {HEADER} was already used with a different request. Use a new key.")
        if existing.status_code is None:
            raise KeyInProgress(f"A request with this {HEADER} is still running; retry in a moment.")
        response = Response(existing.body, status=existing.status_code, content_type=existing.content_type)
        response.headers["Idempotent-Replayed"] = "true"
        return response
    g.idempotency_record_id = record.id
    return None


def finish(response: Response) -> None:
    """Store the response with the request's own changes (the caller commits)."""
    record_id = g.pop("idempotency_record_id", None)
    if record_id is None:
        return
    record = db.session.get(IdempotencyRecord, record_id)
    if record is None:
        return
    if response.status_code >= 500 or response.status_code == 429:
        db.session.delete(record)
        return
    record.status_code = response.status_code
    record.content_type = response.content_type or ""
    record.body = response.get_data(as_text=True)
    response.headers["Idempotent-Replayed"] = "false"
