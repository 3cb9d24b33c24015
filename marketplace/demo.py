"""Deterministic demo data: `flask --app wsgi seed-demo [--freelancers N] [--businesses N] [--seed S]`.

Bulk inserts (executemany through SQLAlchemy's insertmanyvalues) and one
password hash shared by every generated account keep 100,000 specialists to
minutes. The three demo logins are created once, with full profiles.
"""
from __future__ import annotations

import random
import time

import click
from sqlalchemy import func, insert, select, update

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
ACTIVITY_MIN_TASKS = 10_000   # bulk seeding this many tasks also seeds a history of bids, hires and payments
SEEDED_CHARGE_PREFIX = "seed:checkout:"   # the idempotency keys of the history's payments

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
    if tasks >= ACTIVITY_MIN_TASKS:
        seed_activity(random.Random(seed + 1), tasks // 2, echo=echo)
    if demo_created:
        _demo_story(random.Random(seed + 2))
        _demo_milestone_contract()
        _demo_hourly_contract()
        _demo_coverage_schedule()
    db.session.flush()
    return {"freelancers": freelancers, "businesses": businesses, "tasks": tasks,
            "demo_accounts_created": demo_created}


# --- the demo accounts' story: something to see on the money, dispute and metrics pages ----------------

DEMO_STORY = [  # (task template, days ago published, hours to first bid, hours to hire, amount, outcome)
    (0, 26, 3, 20, 48_000, "completed"),
    (3, 19, 1, 9, 36_500, "completed"),
    (2, 12, 5, 30, 52_000, "disputed"),
    (4, 6, 2, 14, 29_000, "active"),
    (5, 3, 7, None, None, None),
    (6, 1, None, None, None, None),
]


def _demo_story(rng: random.Random) -> None:
    """The demo business's tasks over the last weeks: bids, two completed engagements with revealed
    reviews, one dispute waiting for the demo operator, one active engagement. Through the real
    transitions (sandbox payments), so the ledger, receipts and notifications are all consistent."""
    from datetime import timedelta

    from marketplace.bidding.models import Bid, BidStatus
    from marketplace.contracts.services import open_contract
    from marketplace.core.money import split_fee
    from marketplace.engagements import transitions
    from marketplace.engagements.models import Engagement, EngagementEvent, EngagementStatus
    from marketplace.messaging.models import Message, Thread
    from marketplace.moderation.disputes import add_statement
    from marketplace.payments import services as payments
    from marketplace.payments.models import Charge
    from marketplace.reviews.models import Review
    from marketplace.tasks.models import Task, TaskLanguage, TaskSkill

    business = db.session.scalar(select(User).where(User.email == DEMO_LOGINS["business"]))
    demo_freelancer = db.session.scalar(select(User).where(User.email == DEMO_LOGINS["freelancer"]))
    others = list(db.session.scalars(select(User).where(User.role == Role.FREELANCER, User.id != demo_freelancer.id)
                                     .order_by(User.id).limit(8)))
    skills = {s.slug: s.id for s in db.session.scalars(select(Skill))}
    now = utcnow()
    fee_bps = 1000
    for n, (template, days_ago, bid_h, hire_h, amount, outcome) in enumerate(DEMO_STORY):
        title, channel, description = TASK_TEMPLATES[template]
        published = now - timedelta(days=days_ago, hours=rng.randint(0, 6))
        start = published.date() + timedelta(days=5)
        task = Task(business_id=business.id, title=title, description=description, channel=channel,
                    timezone="Europe/Berlin", work_hours_start=9, work_hours_end=17, start_date=start,
                    end_date=start + timedelta(days=10), pricing="fixed", currency="USD",
                    budget=(amount or 40_000) + 5_000, seats=1, filled_seats=0, hiring_mode="open",
                    status="in_progress" if outcome else "open", moderation_status="approved",
                    created_at=published, updated_at=published, published_at=published)
        db.session.add(task)
        db.session.flush()
        db.session.add(TaskSkill(task_id=task.id, skill_id=skills["de-escalation"], min_level=3, required=True))
        db.session.add(TaskLanguage(task_id=task.id, language="en"))
        if bid_h is None:
            continue
        # The demo specialist wins the first, third (the dispute) and fourth tasks; others bid too.
        winner = demo_freelancer if n in (0, 2, 3) or not others else others[n % len(others)]
        bidders = [winner] + [f for f in others[n:n + 3] if f.id != winner.id]
        bids = []
        for i, freelancer in enumerate(bidders):
            bid = Bid(task_id=task.id, freelancer_id=freelancer.id, amount=amount or 38_000 + 1_000 * i,
                      cover_note="I have handled queues like this before; happy to start on your dates.",
                      status=BidStatus.PENDING, created_at=published + timedelta(hours=bid_h + 3 * i),
                      updated_at=published + timedelta(hours=bid_h + 3 * i))
            db.session.add(bid)
            bids.append(bid)
        db.session.flush()
        if hire_h is None:
            continue
        hired_at = published + timedelta(hours=hire_h)
        bids[0].status = BidStatus.ACCEPTED
        for other in bids[1:]:
            other.status = BidStatus.DECLINED
        task.filled_seats = 1
        fee, payout = split_fee(amount, fee_bps)
        contract = open_contract(task, bids[0], fee_bps)
        contract.created_at = contract.updated_at = hired_at
        engagement = Engagement(contract_id=contract.id, task_id=task.id, bid_id=bids[0].id, business_id=business.id,
                                freelancer_id=winner.id, amount=amount, currency="USD", fee_bps=fee_bps,
                                fee_amount=fee, payout_amount=payout, status=EngagementStatus.AWAITING_FUNDING,
                                title=task.title, position=1, created_at=hired_at, updated_at=hired_at)
        db.session.add(engagement)
        db.session.flush()
        db.session.add(EngagementEvent(engagement_id=engagement.id, actor_id=business.id, from_status=None,
                                       to_status="awaiting_funding", note="Proposal accepted",
                                       created_at=hired_at))
        thread = Thread(task_id=task.id, business_id=business.id, freelancer_id=winner.id,
                        engagement_id=engagement.id, created_at=hired_at, last_message_at=hired_at)
        db.session.add(thread)
        db.session.flush()
        for i, (sender, body) in enumerate([
                (business, "Welcome aboard! The queue opens at 09:00 Berlin time."),
                (winner, "Thanks! I'll be online 15 minutes early to read the macros.")]):
            db.session.add(Message(thread_id=thread.id, sender_id=sender.id, body=body,
                                   created_at=hired_at + timedelta(minutes=10 * (i + 1))))
        charge = transitions.begin_funding(business, engagement, "sandbox")
        payments.sandbox_pay(business, charge)
        funded_at = hired_at + timedelta(hours=2)
        engagement.funded_at = funded_at
        db.session.execute(update(Charge).where(Charge.id == charge.id).values(created_at=funded_at))
        if outcome == "active":
            continue
        transitions.deliver(winner, engagement, "All shifts covered; the handover notes are in the shared doc.")
        if outcome == "completed":
            transitions.approve(business, engagement)
            _revealed_reviews(Review, engagement, business, winner, rng, now)
        elif outcome == "disputed":
            transitions.open_dispute(business, engagement, "Two of the five evening shifts were not covered, "
                                     "and customers waited over an hour in the chat queue.")
            add_statement(winner, engagement, "I covered every shift I was scheduled for; the schedule "
                          "changed on day three and I only saw the message the next morning.")
            db.session.add(Message(thread_id=thread.id, sender_id=business.id,
                                   body="The queue was unattended on Tuesday and Wednesday evening.",
                                   created_at=now - timedelta(days=1)))
    db.session.flush()


def _demo_milestone_contract() -> None:
    """A fixed-price contract in two milestones, through the real hiring, milestone and payment services:
    the first approved and released, the second funded and then refunded when the specialist stepped back.
    The contract has ended, so both sides have a review to write."""
    from datetime import timedelta

    from marketplace.bidding.models import Bid
    from marketplace.contracts import services as contracts
    from marketplace.engagements import transitions
    from marketplace.engagements.hiring import accept_bid
    from marketplace.payments import services as payments
    from marketplace.tasks.models import Task, TaskLanguage, TaskSkill

    business = db.session.scalar(select(User).where(User.email == DEMO_LOGINS["business"]))
    specialist = db.session.scalar(select(User).where(User.email == DEMO_LOGINS["freelancer"]))
    skill = db.session.scalar(select(Skill.id).where(Skill.slug == "de-escalation"))
    now = utcnow()
    published = now - timedelta(days=9)
    start = now.date() + timedelta(days=1)
    task = Task(business_id=business.id, title="Holiday returns: inbox clean-up in two stages", channel="email",
                description="Clear the backlog of holiday return requests in two stages: first the refunds, "
                            "then the exchanges. Warm, clear replies; flag anything outside the policy.",
                timezone="Europe/Berlin", work_hours_start=9, work_hours_end=17, start_date=start,
                end_date=start + timedelta(days=14), pricing="fixed", currency="USD", budget=90_000, seats=1,
                filled_seats=0, hiring_mode="open", status="open", moderation_status="approved",
                created_at=published, updated_at=published, published_at=published)
    db.session.add(task)
    db.session.flush()
    db.session.add(TaskSkill(task_id=task.id, skill_id=skill, min_level=3, required=True))
    db.session.add(TaskLanguage(task_id=task.id, language="en"))
    bid = Bid(task_id=task.id, freelancer_id=specialist.id, amount=84_000,
              cover_note="Returns backlogs are my favourite kind of mess; I can start tomorrow.", status="pending")
    db.session.add(bid)
    db.session.flush()
    refunds = accept_bid(business, bid)
    refunds_contract = refunds.contract
    exchanges = contracts.split_milestone(business, refunds, contracts.MilestoneData(
        "Stage 2: exchanges", 34_000, start + timedelta(days=10)))
    refunds.title, refunds.due_on = "Stage 1: refunds", start + timedelta(days=4)
    for milestone in (refunds, exchanges):
        charge = transitions.begin_funding(business, milestone, "sandbox")
        payments.sandbox_pay(business, charge)
    transitions.deliver(specialist, refunds, "All 212 refund requests answered; 9 edge cases are in the shared doc.")
    transitions.approve(business, refunds)
    transitions.cancel(specialist, exchanges, "A family emergency: I can't take on the exchanges, sorry.")
    assert refunds_contract.status.value == "ended"


def _demo_hourly_contract() -> None:
    """Spanish chat coverage by the hour (marketplace/invoicing/demo.py): paid, disputed and split, failed
    then paid on-session, and in-review weeks."""
    from marketplace.invoicing.demo import demo_hourly_contract
    business = db.session.scalar(select(User).where(User.email == DEMO_LOGINS["business"]))
    specialist = db.session.scalar(select(User).where(User.email == DEMO_LOGINS["freelancer"]))
    operator = db.session.scalar(select(User).where(User.email == DEMO_LOGINS["operator"]))
    demo_hourly_contract(business, specialist, operator, dict(
        title="Spanish chat coverage, up to 20 h a week", channel="chat",
        description="Cover our Spanish chat queue on weekday mornings (CET): router and Wi-Fi troubleshooting, "
                    "billing questions, outage updates. Log your time per shift with what you handled.",
        timezone="Europe/Madrid", work_hours_start=8, work_hours_end=13, pricing="hourly", currency="USD",
        budget=None, max_rate=3_500, estimated_hours=20, seats=1, filled_seats=0, hiring_mode="open", status="open",
        moderation_status="approved"))
def _demo_coverage_schedule() -> None:
    """An hourly task with a weekly coverage schedule (see marketplace/schedules/demo.py)."""
    from marketplace.schedules.demo import seed_coverage_schedule
    business = db.session.scalar(select(User).where(User.email == DEMO_LOGINS["business"]))
    specialist = db.session.scalar(select(User).where(User.email == DEMO_LOGINS["freelancer"]))
    seed_coverage_schedule(business, specialist, DEMO_PASSWORD)


def _revealed_reviews(Review, engagement, business: User, freelancer: User, rng: random.Random, now) -> None:
    """Both sides' reviews, already revealed, and the specialist's reputation counters to match."""
    scores = [rng.randint(4, 5) for _ in range(5)]
    stars = rng.randint(4, 5)
    db.session.add_all([
        Review(contract_id=engagement.contract_id, engagement_id=engagement.id, author_id=business.id,
               subject_id=freelancer.id, author_role="business",
               stars=stars, listening=scores[0], acknowledging=scores[1], patience=scores[2],
               positive_language=scores[3], follow_through=scores[4],
               public_comment="Calm with upset customers and clear in every handover.", created_at=now,
               revealed_at=now),
        Review(contract_id=engagement.contract_id, engagement_id=engagement.id, author_id=freelancer.id,
               subject_id=business.id,
               author_role="freelancer", stars=5, public_comment="Clear brief, quick answers, paid on time.",
               created_at=now, revealed_at=now)])
    profile = db.session.get(FreelancerProfile, freelancer.id)
    profile.rating_sum += stars
    profile.rating_count += 1
    profile.empathy_sum += sum(scores)
    profile.empathy_count += len(scores)


# --- bulk history for the benchmark ----------------------------------------------------------------

def seed_activity(rng: random.Random, n_tasks: int, echo=print, days: int = 400) -> dict:
    """A past of `n_tasks` tasks published over the last `days` days, with bids, hires, payments,
    approvals, disputes and their ledger transactions: bulk inserts, deterministic with the rng.

    The tasks are closed (completed, in progress or cancelled), so browsing and matching, which
    look at open tasks, measure the same thing as before.
    """
    from datetime import timedelta

    from marketplace.bidding.models import Bid
    from marketplace.contracts.models import Contract
    from marketplace.core.money import split_fee
    from marketplace.engagements.models import Engagement
    from marketplace.payments import ledger
    from marketplace.payments.models import Charge, LedgerEntry, LedgerTransaction
    from marketplace.tasks.models import Task

    started = time.perf_counter()
    business_ids = list(db.session.scalars(select(User.id).where(User.role == Role.BUSINESS).order_by(User.id)))
    freelancer_ids = list(db.session.scalars(select(User.id).where(User.role == Role.FREELANCER).order_by(User.id)))
    if not business_ids or len(freelancer_ids) < 10 or n_tasks <= 0:
        return {}
    accounts = {code: ledger.account(code, "USD").id for code in ledger.ACCOUNT_CODES}
    now = utcnow()
    fee_bps = 1000
    counts = dict(tasks=0, bids=0, engagements=0, charges=0, ledger_entries=0)
    made = 0
    while made < n_tasks:
        n = min(CHUNK, n_tasks - made)
        plans = []
        task_rows = []
        for _ in range(n):
            title, channel, description = rng.choice(TASK_TEMPLATES)
            published = now - timedelta(seconds=rng.randint(3600, days * 86400))
            bidders = rng.sample(freelancer_ids, rng.choice([0, 1, 1, 2, 3, 3, 4, 5, 6, 8]))
            bid_times = sorted(min(now, published + timedelta(hours=rng.expovariate(1 / 8))) for _ in bidders)
            amount = rng.randrange(5_000, 200_000, 500)
            hired = bool(bidders) and rng.random() < 0.65
            outcome = None
            if hired:
                outcome = rng.choices(["awaiting_funding", "cancelled", "active", "delivered", "completed",
                                       "disputed", "resolved"], [3, 4, 6, 4, 75, 3, 5])[0]
            plans.append((published, bidders, bid_times, amount, outcome))
            start = published.date() + timedelta(days=rng.randint(2, 20))
            task_rows.append({
                "business_id": rng.choice(business_ids), "title": title, "description": description,
                "channel": channel, "timezone": rng.choice(TIMEZONES), "work_hours_start": 9, "work_hours_end": 17,
                "start_date": start, "end_date": start + timedelta(days=rng.randint(1, 30)), "pricing": "fixed",
                "currency": "USD", "budget": amount + 5_000, "max_rate": None, "estimated_hours": None,
                "seats": 1, "filled_seats": 0, "hiring_mode": "open",   # set below for contracts still running
                "status": ("completed" if outcome in ("completed", "resolved") else "cancelled"
                           if outcome in (None, "cancelled") else "in_progress"),
                "moderation_status": "approved", "created_at": published, "updated_at": published,
                "published_at": published})
        task_ids = list(db.session.scalars(insert(Task).returning(Task.id, sort_by_parameter_order=True), task_rows))
        bid_rows, hire_index = [], []
        for task_id, (published, bidders, bid_times, amount, outcome) in zip(task_ids, plans):
            winner = rng.randrange(len(bidders)) if outcome else None
            for i, (fid, at) in enumerate(zip(bidders, bid_times)):
                if i == winner:
                    hire_index.append(len(bid_rows))
                bid_rows.append({"task_id": task_id, "freelancer_id": fid, "amount": amount,
                                 "estimated_hours": None, "cover_note": "Happy to help with this queue.",
                                 "availability_note": "", "shortlisted": False,
                                 "status": "accepted" if i == winner else ("declined" if outcome else "pending"),
                                 "moderation_status": "approved", "created_at": at, "updated_at": at})
        bid_ids = list(db.session.scalars(insert(Bid).returning(Bid.id, sort_by_parameter_order=True), bid_rows)) \
            if bid_rows else []
        by_task = {task_id: plan for task_id, plan in zip(task_ids, plans)}
        engagement_rows, contract_rows = [], []
        titles = dict(zip(task_ids, (row["title"] for row in task_rows)))
        for index in hire_index:
            bid = bid_rows[index]
            published, bidders, bid_times, amount, outcome = by_task[bid["task_id"]]
            hired_at = min(now, bid_times[-1] + timedelta(hours=rng.expovariate(1 / 24)))
            funded_at = hired_at + timedelta(hours=rng.expovariate(1 / 6)) if outcome not in (
                "awaiting_funding", "cancelled") else None
            delivered_at = funded_at + timedelta(days=rng.uniform(1, 10)) if outcome in (
                "delivered", "completed", "disputed", "resolved") else None
            completed_at = delivered_at + timedelta(days=rng.uniform(0.2, 5)) if outcome in (
                "completed", "resolved") else None
            # The past stays in the past: a step that would fall after now hasn't happened yet.
            if funded_at is not None and funded_at > now:
                outcome, funded_at, delivered_at, completed_at = "awaiting_funding", None, None, None
            elif delivered_at is not None and delivered_at > now:
                outcome, delivered_at, completed_at = "active", None, None
            elif completed_at is not None and completed_at > now:
                outcome, completed_at = ("delivered" if outcome == "completed" else "disputed"), None
            fee, payout = split_fee(amount, fee_bps)
            refund = release = None
            if outcome == "resolved":
                release = rng.randrange(0, amount + 1, 500)
                refund = amount - release
            ended = outcome in ("completed", "cancelled", "resolved")
            contract_rows.append({
                "task_id": bid["task_id"], "bid_id": bid_ids[index], "business_id": None,
                "freelancer_id": bid["freelancer_id"], "kind": "fixed", "currency": "USD", "fee_bps": fee_bps,
                "status": "ended" if ended else "active", "created_at": hired_at,
                "updated_at": completed_at or delivered_at or funded_at or hired_at,
                "ended_at": (completed_at or hired_at) if ended else None})
            engagement_rows.append({
                "task_id": bid["task_id"], "bid_id": bid_ids[index], "business_id": None,
                "title": titles[bid["task_id"]], "position": 1,
                "freelancer_id": bid["freelancer_id"], "amount": amount, "currency": "USD", "fee_bps": fee_bps,
                "fee_amount": fee, "payout_amount": payout, "status": outcome, "created_at": hired_at,
                "updated_at": completed_at or delivered_at or funded_at or hired_at, "funded_at": funded_at,
                "delivered_at": delivered_at, "delivery_note": "Done." if delivered_at else "",
                "auto_approve_at": None, "completed_at": completed_at,
                "dispute_reason": "Shifts were missed." if outcome in ("disputed", "resolved") else "",
                "resolution_refund": refund, "resolution_release": release})
        if engagement_rows:
            owners = dict(zip(task_ids, (row["business_id"] for row in task_rows)))
            for row in engagement_rows + contract_rows:
                row["business_id"] = owners[row["task_id"]]
            contract_ids = list(db.session.scalars(
                insert(Contract).returning(Contract.id, sort_by_parameter_order=True), contract_rows))
            for row, contract_id in zip(engagement_rows, contract_ids):
                row["contract_id"] = contract_id
            running = [row["task_id"] for row in contract_rows if row["status"] != "ended"]
            if running:   # a seat is taken by a contract that hasn't ended
                db.session.execute(update(Task).where(Task.id.in_(running))
                                   .values(filled_seats=1, status="in_progress"))
            engagement_ids = list(db.session.scalars(
                insert(Engagement).returning(Engagement.id, sort_by_parameter_order=True), engagement_rows))
            _bulk_money(zip(engagement_ids, engagement_rows), accounts, counts, Charge, LedgerTransaction,
                        LedgerEntry)
        counts["tasks"] += n
        counts["bids"] += len(bid_rows)
        counts["engagements"] += len(engagement_rows)
        made += n
        echo(f"  history: {made:,} past tasks, {counts['bids']:,} bids, {counts['engagements']:,} hires "
             f"({time.perf_counter() - started:.0f} s)")
    return counts


def _bulk_money(engagements, accounts: dict, counts: dict, Charge, LedgerTransaction, LedgerEntry) -> None:
    """Succeeded charges and the ledger transactions the transitions would have posted."""
    from marketplace.core.money import split_fee
    from marketplace.payments.ledger import CASH, FEES, HELD, PAYABLE, REFUNDS

    charges, txns, lines = [], [], []
    for eid, row in engagements:
        if row["funded_at"] is None:
            continue
        amount = row["amount"]
        charges.append({"engagement_id": eid, "provider": "sandbox", "amount": amount, "currency": "USD",
                        "status": "succeeded", "idempotency_key": f"{SEEDED_CHARGE_PREFIX}eng_{eid}",
                        "external_id": f"seed_ch_{eid}", "payment_intent_id": f"seed_pi_{eid}",
                        "failure_message": "", "attempts": 1, "created_at": row["funded_at"],
                        "updated_at": row["funded_at"]})
        txns.append((f"seed_pi_{eid}", "funding", eid, row["funded_at"],
                     [(CASH, amount), (HELD, -amount)]))
        status = row["status"]
        if status == "cancelled":
            txns.append((f"seed:cancel:eng_{eid}", "cancellation", eid, row["updated_at"],
                         [(HELD, amount), (REFUNDS, -amount)]))
        elif status in ("completed", "resolved"):
            release = amount if status == "completed" else row["resolution_release"]
            refund = amount - release
            fee, payout = split_fee(release, row["fee_bps"])
            txns.append((f"seed:release:eng_{eid}", "release" if status == "completed" else "dispute_resolution",
                         eid, row["completed_at"],
                         [(HELD, amount), (FEES, -fee), (PAYABLE, -payout), (REFUNDS, -refund)]))
    if charges:
        db.session.execute(insert(Charge), charges)
        counts["charges"] += len(charges)
    if not txns:
        return
    ids = list(db.session.scalars(insert(LedgerTransaction).returning(LedgerTransaction.id,
                                                                       sort_by_parameter_order=True),
                                  [{"source_id": source, "kind": kind, "engagement_id": eid,
                                    "description": f"Seeded {kind}", "created_at": at}
                                   for source, kind, eid, at, _ in txns]))
    for txn_id, (_, _, eid, _, entries) in zip(ids, txns):
        lines.extend({"transaction_id": txn_id, "account_id": accounts[code], "engagement_id": eid,
                      "amount": value, "currency": "USD"} for code, value in entries if value)
    db.session.execute(insert(LedgerEntry), lines)
    counts["ledger_entries"] += len(lines)


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
        size="51-200", timezone="Europe/Berlin", show_work_history=True,
        description="Fibre and cable internet for 40,000 homes in Berlin and Brandenburg. Many of our customers "
                    "are not technical, so we hire patient people who explain routers without jargon."))
    _demo_logo(business)
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


def _demo_logo(business: User) -> None:
    """A drawn logo for the demo business, uploaded like any other (specialists keep their initials)."""
    import io

    from PIL import Image, ImageDraw

    from marketplace.files.avatars import set_avatar

    image = Image.new("RGB", (512, 512), "#3b2f7a")
    draw = ImageDraw.Draw(image)
    draw.ellipse((96, 96, 416, 416), fill="#e8735a")
    draw.rectangle((176, 236, 336, 276), fill="#ffffff")      # a stylised beam of light
    draw.polygon([(256, 140), (300, 236), (212, 236)], fill="#ffffff")
    out = io.BytesIO()
    image.save(out, "PNG")
    set_avatar(business, out.getvalue(), max_bytes=5 * 1024 * 1024)


def _bulk_freelancers(rng: random.Random, skills: list[Skill], password_hash: str, start: int, n: int) -> None:
    now = utcnow()
    users = [{"email": f"specialist{start + i + 1}@example.net", "password_hash": password_hash,
              "full_name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}", "role": Role.FREELANCER,
              "email_verified_at": now, "session_token": f"demo{rng.getrandbits(96):024x}", "created_at": now}
             for i in range(n)]
    ids = list(db.session.scalars(insert(User).returning(User.id, sort_by_parameter_order=True), users))
    languages, language_weights = list(LANGUAGE_WEIGHTS), list(LANGUAGE_WEIGHTS.values())
    profiles, skill_rows, language_rows, channel_rows = [], [], [], []
    from marketplace.profiles.search_text import compose as compose_search_text
    for uid in ids:
        profiles.append({"user_id": uid, "headline": rng.choice(HEADLINES),
                         "bio": "I treat every customer like a neighbour: listen first, then fix.",
                         "hourly_rate": rng.randrange(1200, 6500, 50), "currency": "USD",
                         "timezone": rng.choice(TIMEZONES), "hours_per_week": rng.choice([10, 20, 30, 40]),
                         "preferred_hours": "", "payout_status": "not_connected", "updated_at": now})
        chosen_skills = rng.sample(skills, rng.randint(3, 7))
        for skill in chosen_skills:
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
        profiles[-1]["search_text"] = compose_search_text(
            users[len(profiles) - 1]["full_name"], profiles[-1]["headline"],
            [skill.name for skill in chosen_skills], spoken)
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


def analyze_tables() -> None:
    """Fresh statistics for the query planner after a bulk load. Without them PostgreSQL plans a
    freshly seeded database as if its tables were empty (a task listing took 60 ms instead of 1 ms
    until autovacuum came round to it). SQLite plans these small tables well without."""
    if db.engine.dialect.name != "postgresql":
        return
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE")


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
        analyze_tables()
        click.echo(f"Seeded {result['freelancers']:,} specialists, {result['businesses']:,} businesses and "
                   f"{result['tasks']:,} tasks "
                   f"in {time.perf_counter() - started:.1f} s.")
    click.echo("Demo logins (password for all: %s):" % DEMO_PASSWORD)
    for role, email in DEMO_LOGINS.items():
        click.echo(f"  {role:<10} {email}")
