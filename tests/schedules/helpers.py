"""Hourly tasks with hired specialists, through the real hiring service, for the schedule tests."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from marketplace.bidding.models import Bid
from marketplace.engagements.hiring import hire as hire_on_bid
from marketplace.extensions import db
from marketplace.payments.saved_methods import has_saved_method, save_sandbox_card
from marketplace.profiles.models import FreelancerProfile
from marketplace.schedules import blocks
from tests import factories

UTC = timezone.utc
# A Wednesday morning in New York: 2026-11-25 14:00 UTC = 09:00 EST.
NOW = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)


def hourly_task(business=None, *, zone: str = "America/New_York", seats: int = 3, start: date = date(2026, 11, 23),
                end: date = date(2027, 1, 31), **fields):
    business = business or factories.create_business()
    return factories.create_task(business, pricing="hourly", budget=None, max_rate=3000, estimated_hours=20,
                                 timezone=zone, seats=seats, start_date=start, end_date=end, **fields)


def hire(task, specialist=None, *, zone: str = "UTC", rate: int = 2500):
    """A specialist hired on the task (an active hourly contract), with a profile in `zone`. The business
    saves a test card first if it has none, as the hiring pages ask: an hourly contract starts with a card."""
    specialist = specialist or factories.create_freelancer()
    db.session.get(FreelancerProfile, specialist.id).timezone = zone
    business = db.session.get(type(task.business), task.business_id)
    if not has_saved_method(business.id):
        save_sandbox_card(business, "succeeds")
    bid = Bid(task_id=task.id, freelancer_id=specialist.id, amount=rate, estimated_hours=20, cover_note="I can help.")
    db.session.add(bid)
    db.session.flush()
    return specialist, hire_on_bid(business, bid)


def weekly(weekday: int, start: str, end: str, *, seats: int = 1, channel: str = "chat") -> blocks.BlockInput:
    h1, m1 = map(int, start.split(":"))
    h2, m2 = map(int, end.split(":"))
    return blocks.BlockInput(weekday=weekday, on_date=None, start_minute=h1 * 60 + m1, end_minute=h2 * 60 + m2,
                             channel=channel, seats=seats)


def once(day: date, start: str, end: str, *, seats: int = 1, channel: str = "chat") -> blocks.BlockInput:
    data = weekly(0, start, end, seats=seats, channel=channel)
    return blocks.BlockInput(weekday=None, on_date=day, start_minute=data.start_minute, end_minute=data.end_minute,
                             channel=channel, seats=seats)


def later(hours: float) -> datetime:
    return NOW + timedelta(hours=hours)
