"""Deterministic demo data: `flask --app wsgi seed-demo [--freelancers N] [--businesses N] [--seed S]`.

Bulk inserts (executemany through SQLAlchemy's insertmanyvalues) and one
password hash shared by every generated account keep 100,000 specialists to
minutes. The three demo logins are created once, with full profiles.
"""
from __future__ import annotations

import random
import time

import click
from sqlalchemy import func, insert, select

from marketplace.accounts.models import Role, User
from marketplace.accounts.passwords import hash_password
from marketplace.core.reference import (CHANNELS, COMPANY_SIZES, INDUSTRIES, LANGUAGES, PROFICIENCIES, channel_mask,
                                        language_mask)
from marketplace.core.time import utcnow
from marketplace.extensions import db
from marketplace.profiles.models import (BusinessProfile, FreelancerChannel, FreelancerLanguage, FreelancerProfile,
                                         FreelancerSkill, Skill)
from marketplace.profiles.taxonomy import ensure_skill_taxonomy

DEMO_PASSWORD = "demo-support-2026"
DEMO_LOGINS = {
    "business": "business@example.com",
    "freelancer": "freelancer@example.com",
    "operator": "operator@example.com",
}
CHUNK = 2000

FIRST_NAMES = ["Amara", "Luis", "Sofia", "Kenji", "Priya", "Mateo", "Chloe", "Tunde", "Ingrid", "Omar", "Mei",
               "Daniel", "Fatima", "Jonas", "Lucia", "Arjun", "Zanele", "Noah", "Elif", "Camille", "Diego",
               "Hana", "Kwame", "Marta", "Ravi", "Sara", "Tomasz", "Yara", "Leila", "Ethan", "Ana", "Bao"]
LAST_NAMES = ["Okafor", "García", "Rossi", "Tanaka", "Sharma", "Fernández", "Martin", "Adeyemi", "Larsen",
              "Haddad", "Chen", "Kowalski", "Silva", "Nguyen", "Müller", "Patel", "Dlamini", "Johnson", "Yılmaz",
              "Dubois", "Moreau", "Kim", "Mensah", "Novak", "Ivanova", "Cohen", "Santos", "Ali", "Berg", "Costa"]
TIMEZONES = ["America/New_York", "America/Chicago", "America/Los_Angeles", "America/Mexico_City",
             "America/Sao_Paulo", "America/Bogota", "Europe/London", "Europe/Berlin", "Europe/Madrid",
             "Europe/Warsaw", "Africa/Lagos", "Africa/Nairobi", "Asia/Manila", "Asia/Kolkata", "Asia/Tokyo",
             "Australia/Sydney"]
HEADLINES = ["Calm voice for upset customers", "Tier-2 troubleshooter who explains without jargon",
             "Bilingual chat specialist for launch weekends", "Churn-save calls with a human touch",
             "Patient phone support for older customers", "Billing disputes resolved kindly",
             "Onboarding calls that make customers stay", "Network and PC setup, step by step",
             "Empathetic email support, fast and thorough", "De-escalation specialist for hard cases"]
COMPANIES = ["Brightline", "Nimbus", "Parcelwise", "Kettle & Co", "Lumen Health", "Orbit Telecom", "Fernway",
             "Quillpay", "Harbor Travel", "Pixelforge", "Greenleaf", "Tandem", "Northwind", "Bluebird Labs"]
LANGUAGE_WEIGHTS = {"en": 60, "es": 25, "pt": 10, "fr": 10, "de": 8, "it": 5, "pl": 4, "tl": 6, "hi": 5,
                    "ar": 4, "zh": 4, "ja": 3, "ko": 2, "nl": 3, "tr": 3, "ru": 3, "uk": 2, "vi": 2}


TASK_TEMPLATES = [
    ("Bilingual chat queue for our launch weekend", "chat",
     "We launch a new plan on Saturday and expect a spike of questions. Answer customers kindly in chat, "
     "explain the plans, and hand billing disputes to our team with a clear summary."),
    ("Churn-save calls with customers who asked to cancel", "phone",
     "Call customers who requested cancellation, listen to why, and offer the right alternative without "
     "pressure. Empathy first; we measure saves and satisfaction."),
    ("Patient Tier-2 troubleshooting for router customers", "phone",
     "Help older customers get their new routers online step by step. Network troubleshooting experience "
     "needed; no jargon, lots of patience."),
    ("Email backlog: refunds and returns with a human touch", "email",
     "Work through a backlog of refund and return requests. Clear, warm replies; follow our policy and flag "
     "edge cases."),
    ("Onboarding video calls for new SaaS accounts", "video",
     "Run 30-minute onboarding calls with new business customers, show them the product and make sure "
     "they succeed in their first week."),
    ("Social media replies during a service outage", "social",
     "Reply to worried customers on social media during planned maintenance. Calm, honest, consistent "
     "updates; escalate angry threads."),
    ("De-escalation specialist for billing disputes", "chat",
     "Take over chats where customers dispute charges. De-escalate, explain the bill, and resolve within "
     "your authority."),
    ("Accessibility support for a banking app", "phone",
     "Help customers using screen readers and other assistive technology complete tasks in our app."),
]


def seed_demo(freelancers: int = 40, businesses: int = 10, seed: int = 7, echo=print, tasks: int = 0) -> dict:
    rng = random.Random(seed)
    ensure_skill_taxonomy()
    skills = list(db.session.scalars(select(Skill).order_by(Skill.id)))
    demo_created = _ensure_demo_accounts(skills)
    shared_hash = hash_password(DEMO_PASSWORD)
    offset = db.session.scalar(select(func.count()).select_from(User).where(User.email.like("specialist%@example.net")))
    started = time.perf_counter()
    made = 0
    while made < freelancers:
        n = min(CHUNK, freelancers - made)
        _bulk_freelancers(rng, skills, shared_hash, offset + made, n)
        made += n
        if freelancers >= 10_000:
            echo(f"  {made:,} specialists ({time.perf_counter() - started:.0f} s)")
    boffset = db.session.scalar(select(func.count()).select_from(User).where(User.email.like("company%@example.org")))
    _bulk_businesses(rng, shared_hash, boffset, businesses)
    made = 0
    while made < tasks:
        n = min(CHUNK, tasks - made)
        _bulk_tasks(rng, skills, n)
        made += n
        if tasks >= 10_000:
            echo(f"  {made:,} tasks ({time.perf_counter() - started:.0f} s)")
    db.session.flush()
    return {"freelancers": freelancers, "businesses": businesses, "tasks": tasks,
            "demo_accounts_created": demo_created}


def _bulk_tasks(rng: random.Random, skills: list[Skill], n: int) -> None:
    """Open, approved tasks spread over the businesses, starting in the next weeks."""
    from datetime import timedelta

    from marketplace.tasks.models import Task, TaskLanguage, TaskSkill

    business_ids = list(db.session.scalars(select(User.id).where(User.role == Role.BUSINESS).order_by(User.id)))
    if not business_ids:
        return
    now = utcnow()
    today = now.date()
    languages, language_weights = list(LANGUAGE_WEIGHTS), list(LANGUAGE_WEIGHTS.values())
    rows = []
    for _ in range(n):
        title, channel, description = rng.choice(TASK_TEMPLATES)
        start = today + timedelta(days=rng.randint(3, 45))
        hourly = rng.random() < 0.4
        start_hour = rng.choice([6, 8, 9, 12, 14, 18])
        rows.append({
            "business_id": rng.choice(business_ids), "title": title, "description": description,
            "channel": channel, "timezone": rng.choice(TIMEZONES), "work_hours_start": start_hour,
            "work_hours_end": min(24, start_hour + rng.choice([4, 6, 8])), "start_date": start,
            "end_date": start + timedelta(days=rng.randint(1, 30)),
            "pricing": "hourly" if hourly else "fixed", "currency": "USD",
            "budget": None if hourly else rng.randrange(5_000, 300_000, 500),
            "max_rate": rng.randrange(1_500, 6_000, 100) if hourly else None,
            "estimated_hours": rng.choice([8, 16, 20, 40, 80]) if hourly else None,
            "seats": rng.choice([1, 1, 1, 2, 3]), "filled_seats": 0, "hiring_mode": "open", "status": "open",
            "moderation_status": "approved", "created_at": now, "updated_at": now, "published_at": now,
        })
    ids = list(db.session.scalars(insert(Task).returning(Task.id, sort_by_parameter_order=True), rows))
    skill_rows, language_rows = [], []
    for task_id in ids:
        chosen = rng.sample(skills, rng.randint(2, 5))
        required = rng.randint(1, min(3, len(chosen)))
        for i, skill in enumerate(chosen):
            skill_rows.append({"task_id": task_id, "skill_id": skill.id, "min_level": rng.randint(2, 4),
                               "required": i < required})
        for code in set(rng.choices(languages, language_weights, k=rng.randint(1, 2))):
            language_rows.append({"task_id": task_id, "language": code})
    db.session.execute(insert(TaskSkill), skill_rows)
    db.session.execute(insert(TaskLanguage), language_rows)


def _ensure_demo_accounts(skills: list[Skill]) -> bool:
    from marketplace.accounts.services import create_user, find_by_email
    from marketplace.profiles.services import (BusinessProfileData, FreelancerProfileData,
                                               update_business_profile, update_freelancer_profile)

    if find_by_email(DEMO_LOGINS["business"]) is not None:
        return False
    business = create_user(DEMO_LOGINS["business"], DEMO_PASSWORD, "Bea Lindqvist", Role.BUSINESS, verified=True)
    update_business_profile(business, db.session.get(BusinessProfile, business.id), BusinessProfileData(
        company_name="Brightline Home Internet", website="https://brightline.example", industry="Telecom",
        size="51-200", timezone="Europe/Berlin"))
    freelancer = create_user(DEMO_LOGINS["freelancer"], DEMO_PASSWORD, "Lucía Fernández", Role.FREELANCER,
                             verified=True)
    by_slug = {s.slug: s.id for s in skills}
    update_freelancer_profile(freelancer, db.session.get(FreelancerProfile, freelancer.id), FreelancerProfileData(
        headline="Bilingual Tier-2 troubleshooter with endless patience",
        bio="Eight years helping people get back online, in English and Spanish. I slow down, listen, and "
            "explain each step until it makes sense.",
        hourly_rate=3200, timezone="Europe/Madrid", hours_per_week=30, preferred_hours="Weekdays 08:00–16:00 CET",
        channels=["chat", "phone", "email"],
        skills={by_slug["tier-2-troubleshooting"]: 5, by_slug["network-troubleshooting"]: 4,
                by_slug["zendesk"]: 4, by_slug["de-escalation"]: 5, by_slug["bilingual-support"]: 5},
        languages={"es": "native", "en": "C2"}))
    from marketplace.accounts.services import create_operator
    create_operator(DEMO_LOGINS["operator"], DEMO_PASSWORD, "Olu Operator")
    return True


def _bulk_freelancers(rng: random.Random, skills: list[Skill], password_hash: str, start: int, n: int) -> None:
    now = utcnow()
    users = [{"email": f"specialist{start + i + 1}@example.net", "password_hash": password_hash,
              "full_name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}", "role": Role.FREELANCER,
              "email_verified_at": now, "session_token": f"demo{rng.getrandbits(96):024x}", "created_at": now}
             for i in range(n)]
    ids = list(db.session.scalars(insert(User).returning(User.id, sort_by_parameter_order=True), users))
    languages, language_weights = list(LANGUAGE_WEIGHTS), list(LANGUAGE_WEIGHTS.values())
    profiles, skill_rows, language_rows, channel_rows = [], [], [], []
    for uid in ids:
        profiles.append({"user_id": uid, "headline": rng.choice(HEADLINES),
                         "bio": "I treat every customer like a neighbour: listen first, then fix.",
                         "hourly_rate": rng.randrange(1200, 6500, 50), "currency": "USD",
                         "timezone": rng.choice(TIMEZONES), "hours_per_week": rng.choice([10, 20, 30, 40]),
                         "preferred_hours": "", "payout_status": "not_connected", "updated_at": now})
        for skill in rng.sample(skills, rng.randint(3, 7)):
            skill_rows.append({"freelancer_id": uid, "skill_id": skill.id, "level": rng.randint(1, 5)})
        native = rng.choices(languages, language_weights)[0]
        spoken = {native: "native"}
        if rng.random() < 0.7:
            other = rng.choices(languages, language_weights)[0]
            if other != native:
                spoken[other] = rng.choice(["B1", "B2", "C1", "C2"])
        language_rows.extend({"freelancer_id": uid, "language": code, "proficiency": level}
                             for code, level in spoken.items())
        chosen_channels = rng.sample(list(CHANNELS), rng.randint(1, 3))
        for channel in chosen_channels:
            channel_rows.append({"freelancer_id": uid, "channel": channel})
        profiles[-1]["language_mask"] = language_mask(spoken)
        profiles[-1]["channel_mask"] = channel_mask(chosen_channels)
    db.session.execute(insert(FreelancerProfile), profiles)
    db.session.execute(insert(FreelancerSkill), skill_rows)
    db.session.execute(insert(FreelancerLanguage), language_rows)
    db.session.execute(insert(FreelancerChannel), channel_rows)


def _bulk_businesses(rng: random.Random, password_hash: str, start: int, n: int) -> None:
    if n <= 0:
        return
    now = utcnow()
    users = [{"email": f"company{start + i + 1}@example.org", "password_hash": password_hash,
              "full_name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}", "role": Role.BUSINESS,
              "email_verified_at": now, "session_token": f"demo{rng.getrandbits(96):024x}", "created_at": now}
             for i in range(n)]
    ids = list(db.session.scalars(insert(User).returning(User.id, sort_by_parameter_order=True), users))
    db.session.execute(insert(BusinessProfile), [
        {"user_id": uid, "company_name": f"{rng.choice(COMPANIES)} {rng.choice(['Support', 'Labs', 'Inc', 'Group'])}",
         "website": "", "industry": rng.choice(INDUSTRIES), "size": rng.choice(COMPANY_SIZES),
         "timezone": rng.choice(TIMEZONES), "payment_method_status": "none", "updated_at": now} for uid in ids])


@click.command("seed-demo")
@click.option("--freelancers", default=300, show_default=True, type=click.IntRange(0, 1_000_000))
@click.option("--businesses", default=10, show_default=True, type=click.IntRange(0, 1_000_000))
@click.option("--tasks", default=30, show_default=True, type=click.IntRange(0, 1_000_000),
              help="Open demo tasks spread over the businesses.")
@click.option("--seed", default=7, show_default=True, type=int)
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has accounts.")
def seed_demo_command(freelancers: int, businesses: int, tasks: int, seed: int, if_empty: bool) -> None:
    """Create deterministic demo data and print the demo logins."""
    if if_empty and db.session.scalar(select(func.count()).select_from(User)):
        click.echo("Database already has accounts; demo data left as it is.")
    else:
        started = time.perf_counter()
        result = seed_demo(freelancers, businesses, seed, echo=click.echo, tasks=tasks)
        db.session.commit()
        click.echo(f"Seeded {result['freelancers']:,} specialists, {result['businesses']:,} businesses and "
                   f"{result['tasks']:,} tasks "
                   f"in {time.perf_counter() - started:.1f} s.")
    click.echo("Demo logins (password for all: %s):" % DEMO_PASSWORD)
    for role, email in DEMO_LOGINS.items():
        click.echo(f"  {role:<10} {email}")
