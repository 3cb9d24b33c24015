"""Outgoing webhooks: registering endpoints, writing events (outbox), delivering them.

`record_event()` is subscribed to domain events (core/events.py): it writes the event and one
pending delivery per matching endpoint in the caller's transaction. `deliver_due()` (the job
`jobs run-due`, or any worker) sends what is due outside any request, signs it, and retries
with exponential backoff for WEBHOOK_RETRY_HOURS; every try lands in the delivery log.
"""
from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.request
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from marketplace.accounts.models import AccountStatus, User
from marketplace.core.errors import Forbidden, NotFound, ValidationFailed
from marketplace.core.events import EVENT_TYPES, domain_event
from marketplace.core.text import one_line
from marketplace.core.time import utcnow
from marketplace.extensions import db
from marketplace.webhooks import signing
from marketplace.webhooks.models import (DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint,
                                         OutgoingEvent)
from marketplace.webhooks.urls import check_url

MAX_ENDPOINTS = 10
FIRST_RETRY_SECONDS = 30
USER_AGENT = "HumanTouch-Webhooks/1"


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


# --- endpoints (the pages under account settings call these) ------------------------------------------

def _require_can_register(actor: User) -> None:
    if actor.is_operator:
        raise Forbidden("Operator accounts don't receive webhooks.")
    if actor.status != AccountStatus.ACTIVE:
        raise Forbidden("This account is suspended.")


def _clean_types(event_types) -> str:
    chosen = [t for t in (event_types or []) if t]
    if not chosen:
        raise ValidationFailed("Choose at least one event type.", field="event_types")
    unknown = [t for t in chosen if t not in EVENT_TYPES]
    if unknown:
        raise ValidationFailed(f"Unknown event type: {unknown[0]}.", field="event_types")
    return " ".join(t for t in EVENT_TYPES if t in chosen)


def create_endpoint(actor: User, url: str, event_types, description: str = "") -> WebhookEndpoint:
    _require_can_register(actor)
    if len(endpoints_of(actor)) >= MAX_ENDPOINTS:
        raise ValidationFailed(f"You can register at most {MAX_ENDPOINTS} endpoints.", field="url")
    description = one_line(description or "")
    if len(description) > 200:
        raise ValidationFailed("Keep the description under 200 characters.", field="description")
    endpoint = WebhookEndpoint(user_id=actor.id, url=check_url(url), event_types=_clean_types(event_types),
                               description=description, secret=new_secret())
    db.session.add(endpoint)
    db.session.flush()
    return endpoint


def endpoints_of(actor: User) -> list[WebhookEndpoint]:
    return list(db.session.scalars(select(WebhookEndpoint).where(WebhookEndpoint.user_id == actor.id)
                                   .order_by(WebhookEndpoint.id)))


def get_endpoint_for(actor: User, endpoint_id: int) -> WebhookEndpoint:
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.user_id != actor.id:
        raise NotFound("We couldn't find that endpoint.")
    return endpoint


def update_endpoint(actor: User, endpoint: WebhookEndpoint, *, event_types, active: bool) -> None:
    _require_can_register(actor)
    endpoint.event_types = _clean_types(event_types)
    endpoint.active = active
    db.session.flush()


def delete_endpoint(actor: User, endpoint: WebhookEndpoint) -> None:
    if endpoint.user_id != actor.id:
        raise NotFound("We couldn't find that endpoint.")
    db.session.delete(endpoint)
    db.session.flush()


def rotate_secret(actor: User, endpoint: WebhookEndpoint) -> str:
    """A new signing secret; the old one keeps signing too for WEBHOOK_SECRET_OVERLAP_HOURS."""
    _require_can_register(actor)
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = utcnow() + timedelta(
        hours=current_app.config["WEBHOOK_SECRET_OVERLAP_HOURS"])
    endpoint.secret = new_secret()
    db.session.flush()
    return endpoint.secret


def signing_secrets(endpoint: WebhookEndpoint, now=None) -> list[str]:
    now = now or utcnow()
    found = [endpoint.secret]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and _aware(expires) > now:
        found.append(endpoint.previous_secret)
    return found


def deliveries_of(actor: User, endpoint: WebhookEndpoint, limit: int = 50) -> list[WebhookDelivery]:
    if endpoint.user_id != actor.id:
        raise NotFound("We couldn't find that endpoint.")
    return list(db.session.scalars(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
                                   .order_by(WebhookDelivery.id.desc()).limit(limit)))


def replay(actor: User, delivery_id: int) -> WebhookDelivery:
    """Send a delivery again by hand (whatever its state), with a fresh retry window."""
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.endpoint.user_id != actor.id:
        raise NotFound("We couldn't find that delivery.")
    now = utcnow()
    delivery.status = DeliveryStatus.PENDING
    delivery.next_attempt_at = now
    delivery.window_started_at = now
    delivery.attempts = 0
    db.session.flush()
    return delivery


# --- the outbox: events written with the change ------------------------------------------------------

def record_event(event_type: str, *, recipients: list[int], data: dict) -> None:
    now = utcnow()
    for user_id in recipients:
        endpoints = [e for e in db.session.scalars(select(WebhookEndpoint).where(
            WebhookEndpoint.user_id == user_id, WebhookEndpoint.active.is_(True))) if event_type in e.event_list]
        if not endpoints:
            continue
        event = OutgoingEvent(user_id=user_id, type=event_type, payload="", created_at=now)
        db.session.add(event)
        db.session.flush()
        event.payload = json.dumps({"id": f"evt_{event.id}", "type": event_type,
                                    "created": now.isoformat().replace("+00:00", "Z"), "data": data},
                                   separators=(",", ":"), sort_keys=True)
        for endpoint in endpoints:
            db.session.add(WebhookDelivery(endpoint_id=endpoint.id, event_id=event.id, next_attempt_at=now,
                                           window_started_at=now))
    db.session.flush()


def _on_domain_event(event_type: str, recipients: list[int], data: dict, **_) -> None:
    record_event(event_type, recipients=recipients, data=data)


def connect_signals() -> None:
    domain_event.connect(_on_domain_event)   # idempotent: blinker keeps one connection per receiver


# --- delivery: outside any request ---------------------------------------------------------------

def _aware(moment):
    from datetime import timezone
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def backoff(attempts: int) -> timedelta:
    """Delay before the next try after `attempts` failed ones: 30 s, 1 min, 2 min, ... at most 2 h."""
    return timedelta(seconds=min(FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0), 7200))


def _post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    """The receiver's status code; raises OSError for network failures. Redirects are not followed."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def send(delivery: WebhookDelivery, *, manual: bool = False, now=None) -> WebhookAttempt:
    """One signed POST of the delivery's event; records the attempt and schedules the next one."""
    now = now or utcnow()
    endpoint, event = delivery.endpoint, delivery.event
    body = event.payload.encode()
    timestamp = int(now.timestamp())
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
               signing.SIGNATURE_HEADER: signing.signature_header(signing_secrets(endpoint, now), timestamp, body),
               signing.EVENT_HEADER: event.type, signing.DELIVERY_HEADER: str(delivery.id)}
    status_code, error = None, ""
    try:
        check_url(endpoint.url)   # again at send time: DNS may have changed since registration
        status_code = _post(endpoint.url, body, headers, current_app.config["WEBHOOK_TIMEOUT_SECONDS"])
        if not 200 <= status_code < 300:
            error = f"The receiver answered {status_code}."
    except ValidationFailed as refused:
        error = refused.message
    except (OSError, ValueError) as failure:
        error = f"Could not connect: {failure}"[:300]
    attempt = WebhookAttempt(delivery_id=delivery.id, status_code=status_code, error=error[:300], manual=manual,
                             attempted_at=now)
    db.session.add(attempt)
    delivery.attempts += 1
    delivery.last_status_code = status_code
    delivery.last_error = error[:300]
    if not error:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = DeliveryStatus.SUCCEEDED, now, None
    else:
        retry_at = now + backoff(delivery.attempts)
        window_ends = _aware(delivery.window_started_at) + timedelta(hours=current_app.config["WEBHOOK_RETRY_HOURS"])
        if retry_at > window_ends:
            delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
        else:
            delivery.next_attempt_at = retry_at
    db.session.flush()
    return attempt


def deliver_due(now=None, limit: int = 100) -> int:
    """Send every delivery that is due. Each is claimed first (a conditional update that pushes its
    next attempt out), committed, then sent and committed, so overlapping runs never send one twice
    at the same time and a slow receiver holds no transaction open."""
    now = now or utcnow()
    lease = timedelta(seconds=current_app.config["WEBHOOK_TIMEOUT_SECONDS"] * 4)
    due = list(db.session.scalars(select(WebhookDelivery.id).where(
        WebhookDelivery.status == DeliveryStatus.PENDING, WebhookDelivery.next_attempt_at <= now)
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id).limit(limit)))
    sent = 0
    for delivery_id in due:
        claimed = db.session.execute(update(WebhookDelivery).where(
            WebhookDelivery.id == delivery_id, WebhookDelivery.status == DeliveryStatus.PENDING,
            WebhookDelivery.next_attempt_at <= now).values(next_attempt_at=now + lease)
            .execution_options(synchronize_session=False))
        db.session.commit()
        if claimed.rowcount != 1:
            continue
        delivery = db.session.get(WebhookDelivery, delivery_id)
        if delivery.endpoint.active:
            send(delivery, now=now)
            sent += 1
        else:
            delivery.next_attempt_at = None
            delivery.status = DeliveryStatus.FAILED
            delivery.last_error = "The endpoint is disabled."
        db.session.commit()
    return sent
