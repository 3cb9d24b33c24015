"""Factories that build real rows and flush (never commit)."""
from __future__ import annotations

import itertools

from marketplace.accounts.models import Role, User
from marketplace.accounts.passwords import hash_password
from marketplace.core.time import utcnow
from marketplace.extensions import db
from marketplace.profiles.models import BusinessProfile, FreelancerProfile

PASSWORD = "quiet-harbor-lantern-42"
_PASSWORD_HASH = hash_password(PASSWORD)  # hashed once: argon2 is deliberately slow
_seq = itertools.count(1)


def create_user(role: Role = Role.FREELANCER, *, email: str | None = None, full_name: str | None = None,
                verified: bool = True, **fields) -> User:
    n = next(_seq)
    user = User(email=(email or f"user{n}@example.com").lower(), full_name=full_name or f"Test User{n}",
                role=role, password_hash=_PASSWORD_HASH, email_verified_at=utcnow() if verified else None, **fields)
    db.session.add(user)
    db.session.flush()
    if role == Role.FREELANCER:
        db.session.add(FreelancerProfile(user_id=user.id))
    elif role == Role.BUSINESS:
        db.session.add(BusinessProfile(user_id=user.id, company_name=f"Company {n}"))
    db.session.flush()
    return user


def create_freelancer(**kw) -> User:
    return create_user(Role.FREELANCER, **kw)


def create_business(**kw) -> User:
    return create_user(Role.BUSINESS, **kw)


def create_operator(**kw) -> User:
    return create_user(Role.OPERATOR, **kw)


def create_task(business: User | None = None, *, status: str = "open", skills: dict[str, int] | None = None,
                nice_skills: dict[str, int] | None = None, languages: list[str] | None = None, **fields):
    """A task row (published and approved by default). skills: slug -> minimum level."""
    from datetime import timedelta

    from sqlalchemy import select

    from marketplace.profiles.models import Skill
    from marketplace.tasks.models import Task, TaskLanguage, TaskSkill, TaskStatus

    business = business or create_business()
    today = utcnow().date()
    values = dict(title="Bilingual chat support for a launch weekend",
                  description="Answer customers kindly in English and Spanish during our launch.",
                  channel="chat", timezone="Europe/Madrid", work_hours_start=9, work_hours_end=17,
                  start_date=today + timedelta(days=7), end_date=today + timedelta(days=9),
                  pricing="fixed", budget=50_000, currency="USD", seats=1, hiring_mode="open")
    values.update(fields)
    task = Task(business_id=business.id, status=TaskStatus(status), **values)
    if task.status != TaskStatus.DRAFT:
        task.published_at = utcnow()
    db.session.add(task)
    db.session.flush()
    by_slug = {s.slug: s.id for s in db.session.scalars(select(Skill))}
    for slug, level in (skills if skills is not None else {"zendesk": 3}).items():
        db.session.add(TaskSkill(task_id=task.id, skill_id=by_slug[slug], min_level=level, required=True))
    for slug, level in (nice_skills or {}).items():
        db.session.add(TaskSkill(task_id=task.id, skill_id=by_slug[slug], min_level=level, required=False))
    for code in languages if languages is not None else ["en"]:
        db.session.add(TaskLanguage(task_id=task.id, language=code))
    db.session.flush()
    db.session.expire(task, ["skills", "languages"])
    return task


def create_contract(task, bid, *, fee_bps: int = 1000):
    """The contract a hire on `bid` opens (fixed or hourly after the task's pricing)."""
    from marketplace.contracts.services import open_contract
    return open_contract(task, bid, fee_bps)


def create_engagement(business: User | None = None, freelancer: User | None = None, *, amount: int = 45_678,
                      currency: str = "USD", fee_bps: int = 1000, task=None):
    """An engagement awaiting funding, as hiring leaves it (task, accepted bid, timeline event)."""
    from marketplace.bidding.models import Bid, BidStatus
    from marketplace.core.money import split_fee
    from marketplace.engagements.models import Engagement, EngagementEvent, EngagementStatus

    business = business or create_business()
    freelancer = freelancer or create_freelancer()
    task = task or create_task(business, status="in_progress", currency=currency)
    bid = Bid(task_id=task.id, freelancer_id=freelancer.id, amount=amount, cover_note="I can help.",
              status=BidStatus.ACCEPTED)
    db.session.add(bid)
    db.session.flush()
    fee, payout = split_fee(amount, fee_bps)
    contract = create_contract(task, bid, fee_bps=fee_bps)
    engagement = Engagement(contract_id=contract.id, task_id=task.id, bid_id=bid.id, business_id=business.id,
                            freelancer_id=freelancer.id, amount=amount, currency=currency, fee_bps=fee_bps,
                            fee_amount=fee, payout_amount=payout, title=task.title, position=1,
                            status=EngagementStatus.AWAITING_FUNDING)
    db.session.add(engagement)
    db.session.flush()
    db.session.add(EngagementEvent(engagement_id=engagement.id, actor_id=business.id, from_status=None,
                                   to_status="awaiting_funding", note="Proposal accepted"))
    db.session.flush()
    return engagement
