"""The demo's coverage schedule (called by `seed-demo`): an hourly chat queue in New York time with
weekday blocks held by three specialists, a Saturday block nobody has claimed, and a past with two
missed shifts and two late drops, all through the real schedule services."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from marketplace.accounts.models import Role, User
from marketplace.core.time import utcnow
from marketplace.extensions import db

DEMO_SCHEDULE_TITLE = "Chat queue coverage, weekdays 09:00–17:00 New York time"
DEMO_SHIFT_SPECIALISTS = [   # (email, name, zone, stated availability)
    ("marcus.bell@example.com", "Marcus Bell", "America/Chicago", "Weekdays 07:00-17:00"),
    ("aiko.tanaka@example.com", "Aiko Tanaka", "America/Los_Angeles", "Mon-Fri 06:00-15:00"),
]

DEMO_WEEKEND_SPECIALIST = ("noor.haddad@example.com", "Noor Haddad", "America/New_York", "Weekends 08:00-16:00")


def _specialist(email: str, name: str, zone: str, hours: str, password: str, skills: dict[str, int]) -> User:
    from marketplace.accounts.services import create_user
    from marketplace.profiles.models import FreelancerProfile
    from marketplace.profiles.services import FreelancerProfileData, update_freelancer_profile
    user = create_user(email, password, name, Role.FREELANCER, verified=True)
    update_freelancer_profile(user, db.session.get(FreelancerProfile, user.id), FreelancerProfileData(
        headline="Steady chat support for busy queues", bio="Calm, quick and kind in chat.", hourly_rate=2800,
        timezone=zone, hours_per_week=35, preferred_hours=hours, channels=["chat", "email"],
        skills=skills, languages={"en": "native"}))
    return user


def seed_coverage_schedule(business: User, lead: User, password: str) -> None:
    from marketplace.bidding.models import Bid
    from marketplace.engagements.hiring import accept_bid
    from marketplace.profiles.models import Skill
    from marketplace.schedules import blocks, claims, records
    from marketplace.schedules.models import Shift, ShiftSeat
    from marketplace.tasks.models import Task, TaskLanguage, TaskSkill

    zendesk = db.session.scalar(select(Skill.id).where(Skill.slug == "zendesk"))
    now = utcnow()
    published = now - timedelta(days=40)
    task = Task(business_id=business.id, title=DEMO_SCHEDULE_TITLE, channel="chat",
                description="Keep our chat queue answered every weekday, 09:00-17:00 New York time, two people at "
                            "a time, and Saturday mornings with one. Claim the shifts that suit you on My shifts.",
                timezone="America/New_York", work_hours_start=9, work_hours_end=17,
                start_date=(now - timedelta(days=35)).date(), end_date=(now + timedelta(days=60)).date(),
                pricing="hourly", currency="USD", max_rate=3500, estimated_hours=20, seats=4, filled_seats=0,
                hiring_mode="open", status="open", moderation_status="approved", created_at=published,
                updated_at=published, published_at=published)
    db.session.add(task)
    db.session.flush()
    db.session.add(TaskSkill(task_id=task.id, skill_id=zendesk, min_level=3, required=True))
    db.session.add(TaskLanguage(task_id=task.id, language="en"))
    team = [lead] + [_specialist(*row, password, {zendesk: 4}) for row in DEMO_SHIFT_SPECIALISTS]
    # Not hired: whose stated weekend hours make them the first "Find specialists" answer for Saturdays.
    _specialist(*DEMO_WEEKEND_SPECIALIST, password, {zendesk: 5})
    from marketplace.payments.saved_methods import has_saved_method, save_sandbox_card
    if not has_saved_method(business.id):
        save_sandbox_card(business, "succeeds")     # hourly contracts start (time can be logged) with a card
    for person in team:
        bid = Bid(task_id=task.id, freelancer_id=person.id, amount=2800, estimated_hours=20,
                  cover_note="Happy to hold regular shifts on your chat queue.", status="pending")
        db.session.add(bid)
        db.session.flush()
        accept_bid(business, bid)

    planned = now - timedelta(days=36)
    for weekday in range(5):
        blocks.add_block(business, task, blocks.BlockInput(weekday, None, 9 * 60, 17 * 60, "chat", 2), now=planned)
    saturday = blocks.add_block(business, task, blocks.BlockInput(5, None, 10 * 60, 14 * 60, "chat", 1), now=planned)
    blocks.extend_horizons(now)
    lucia, marcus, aiko = team

    # Everyone claims "every <weekday>" from the first week on: Lucía Mon/Wed/Fri, Marcus Tue/Thu, Aiko all five.
    first_week = db.session.scalars(select(Shift).where(Shift.task_id == task.id, Shift.block_id != saturday.id)
                                    .order_by(Shift.starts_at).limit(5)).all()
    for person, picks in ((lucia, (0, 2, 4)), (marcus, (1, 3)), (aiko, (0, 1, 2, 3, 4))):
        for index in picks:
            shift = first_week[index]
            claims.claim_series(person, shift, now=shift.start - timedelta(days=2))
    past = db.session.scalars(select(Shift).where(Shift.task_id == task.id, Shift.block_id != saturday.id,
                                                  Shift.ends_at < now - timedelta(days=2))
                              .order_by(Shift.starts_at.desc())).all()
    marcus_past = [s for s in past if any(seat.holder_id == marcus.id for seat in s.seat_rows)]
    for shift in marcus_past[:2]:
        seat = next(seat for seat in shift.seat_rows if seat.holder_id == marcus.id)
        records.mark_missed(business, seat, now=shift.start + timedelta(hours=3))
    aiko_past = [s for s in past if any(seat.holder_id == aiko.id for seat in s.seat_rows)]
    for shift in aiko_past[3:5]:
        claims.drop(aiko, shift, now=shift.start - timedelta(hours=3))
    # The weeks before were followed up already; the latest finished shift is left for `jobs run-due` to ask about.
    ended = db.session.scalars(select(Shift.id).where(Shift.task_id == task.id, Shift.ends_at <= now)
                               .order_by(Shift.ends_at.desc())).all()
    if len(ended) > 1:
        db.session.execute(update(ShiftSeat).where(ShiftSeat.shift_id.in_(ended[1:]), ShiftSeat.holder_id.is_not(None))
                           .values(followup_sent_at=now))
    db.session.flush()
