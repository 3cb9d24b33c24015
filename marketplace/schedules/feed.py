"""A specialist's shifts as an iCalendar feed (RFC 5545, built with the `icalendar` package) at a
secret URL: only the token's SHA-256 is stored, and making a new one revokes the old."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from icalendar import Calendar, Event
from sqlalchemy import delete, select
from sqlalchemy.orm import selectinload

from marketplace.accounts.models import AccountStatus, User
from marketplace.core.errors import Forbidden, NotFound
from marketplace.extensions import db
from marketplace.schedules.calendar import describe_shift
from marketplace.schedules.models import Shift, ShiftFeed, ShiftSeat

FEED_PAST_DAYS = 30
FEED_AHEAD_DAYS = 120


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def has_feed(user: User) -> bool:
    return db.session.get(ShiftFeed, user.id) is not None


def new_feed_token(actor: User) -> str:
    """A fresh secret for the actor's feed (the previous URL stops working). Shown once."""
    if not actor.is_freelancer:
        raise Forbidden("Shift calendars are for specialists.")
    token = secrets.token_urlsafe(32)
    feed = db.session.get(ShiftFeed, actor.id)
    if feed is None:
        db.session.add(ShiftFeed(user_id=actor.id, token_hash=_hash(token)))
    else:
        feed.token_hash = _hash(token)
    db.session.flush()
    return token


def revoke_feed(actor: User) -> bool:
    return db.session.execute(delete(ShiftFeed).where(ShiftFeed.user_id == actor.id)).rowcount == 1


def user_for_token(token: str) -> User:
    if not token or len(token) > 100:
        raise NotFound("This calendar address doesn't exist (it may have been replaced).")
    feed = db.session.scalar(select(ShiftFeed).where(ShiftFeed.token_hash == _hash(token)))
    user = db.session.get(User, feed.user_id) if feed else None
    if user is None or user.status != AccountStatus.ACTIVE:
        raise NotFound("This calendar address doesn't exist (it may have been replaced).")
    return user


def calendar_for(user: User, now: datetime, site_name: str, host: str) -> bytes:
    shifts = db.session.scalars(
        select(Shift).join(ShiftSeat, ShiftSeat.shift_id == Shift.id)
        .where(ShiftSeat.holder_id == user.id, Shift.cancelled_at.is_(None),
               Shift.ends_at > now - timedelta(days=FEED_PAST_DAYS),
               Shift.starts_at < now + timedelta(days=FEED_AHEAD_DAYS))
        .options(selectinload(Shift.task)).order_by(Shift.starts_at)).all()
    cal = Calendar()
    cal.add("prodid", f"-//{site_name}//Shifts//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"{site_name} shifts")
    for shift in shifts:
        event = Event()
        event.add("uid", f"shift-{shift.id}-user-{user.id}@{host}")
        event.add("dtstamp", now)
        event.add("dtstart", shift.start)
        event.add("dtend", shift.end)
        event.add("summary", f"{shift.task.title} ({shift.channel})")
        event.add("description", f"Coverage shift: {describe_shift(shift)}.")
        cal.add_component(event)
    return cal.to_ical()
