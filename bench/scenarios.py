"""The pages `make bench` loads, who loads them, and their signed-in session cookies.

Every page but /ping is requested by a signed-in user, so the anonymous page cache never
answers; each scenario cycles through several different URLs.
"""
from __future__ import annotations

import os
import random
import secrets
from dataclasses import dataclass

USER_AGENT = "make-bench"
PROPOSALS = int(os.environ.get("BENCH_PROPOSALS", 300))   # proposals on the owner's busy task
# The reference query comes first; the others vary the words and both filters.
SEARCH_WORDS = ["router", "refund", "chat", "billing", "onboarding", "social media", "accessibility",
                "churn", "backlog", "outage"]
LANGUAGES = ["es", "en", "de", "fr", "pt", "es", "en", "it", "nl", "en"]


@dataclass
class Scenario:
    name: str
    label: str
    paths: list[str]
    cookie: str | None


def session_cookie(app, user, *, second_factor: bool = False) -> str:
    """The cookie a browser would hold after signing in as `user` (as Flask-Login writes it)."""
    from flask_login.utils import _create_identifier

    from marketplace.moderation.access import MFA_SESSION_KEY

    with app.test_request_context("/", environ_base={"REMOTE_ADDR": "127.0.0.1"},
                                  headers={"User-Agent": USER_AGENT}):
        # A browser holds the CSRF token from its first form too; without it every page with a
        # form would write a new session cookie.
        data = {"_user_id": user.get_id(), "_fresh": True, "_id": _create_identifier(),
                "csrf_token": secrets.token_hex(20)}
    if second_factor:
        data[MFA_SESSION_KEY] = user.get_id()
    value = app.session_interface.get_signing_serializer(app).dumps(data)
    return f"{app.config['SESSION_COOKIE_NAME']}={value}"


def _busy_task(business):
    """An open task of `business` with PROPOSALS pending proposals (added once per database)."""
    from sqlalchemy import func, insert, select

    from marketplace.accounts.models import AccountStatus, Role, User
    from marketplace.bidding.models import Bid
    from marketplace.core.time import utcnow
    from marketplace.extensions import db
    from marketplace.tasks.models import Task
    from marketplace.tasks.search import listed_task_clause

    task = db.session.scalar(select(Task).where(Task.business_id == business.id, listed_task_clause())
                             .order_by(Task.id).limit(1))
    have = db.session.scalar(select(func.count()).select_from(Bid).where(Bid.task_id == task.id))
    if have < PROPOSALS:
        taken = select(Bid.freelancer_id).where(Bid.task_id == task.id)
        bidders = list(db.session.scalars(
            select(User.id).where(User.role == Role.FREELANCER, User.status == AccountStatus.ACTIVE,
                                  User.id.not_in(taken)).order_by(User.id).limit(PROPOSALS - have)))
        now = utcnow()
        db.session.execute(insert(Bid), [
            {"task_id": task.id, "freelancer_id": fid, "amount": 20_000 + 100 * i,
             "estimated_hours": task.estimated_hours if task.pricing.value == "hourly" else None,
             "cover_note": f"Proposal {i}: I have handled queues like this one for years.",
             "availability_note": "", "status": "pending", "shortlisted": i % 7 == 0,
             "moderation_status": "approved", "created_at": now, "updated_at": now}
            for i, fid in enumerate(bidders)])
        db.session.commit()
    return task


def build(app) -> list[Scenario]:
    from sqlalchemy import func, select

    from marketplace.accounts.models import Role, User
    from marketplace.demo import DEMO_LOGINS
    from marketplace.engagements.models import Engagement
    from marketplace.extensions import db
    from marketplace.profiles.models import Skill

    with app.app_context():
        users = {role: db.session.scalar(select(User).where(User.email == email))
                 for role, email in DEMO_LOGINS.items()}
        # The inbox of a specialist with the most engagements (the demo specialist has only a few).
        busiest = db.session.scalar(select(Engagement.freelancer_id).group_by(Engagement.freelancer_id)
                                    .order_by(func.count().desc(), Engagement.freelancer_id).limit(1))
        worker = db.session.get(User, busiest) if busiest else users["freelancer"]
        task = _busy_task(users["business"])
        skills = list(db.session.scalars(select(Skill.slug).order_by(Skill.id)))
        cookies = {role: session_cookie(app, user, second_factor=role == "operator")
                   for role, user in users.items()}
        worker_cookie = session_cookie(app, worker)
        task_id = task.id
        db.session.remove()

    rng = random.Random(5)
    search = ["/tasks?q=router&skill=network-troubleshooting&language=es"] + [
        f"/tasks?q={word.replace(' ', '+')}&skill={rng.choice(skills)}&language={LANGUAGES[i]}"
        for i, word in enumerate(SEARCH_WORDS[1:], start=1)]
    directory = [f"/freelancers?skill={slug}&sort=rating" for slug in skills[:10]]
    return [
        Scenario("ping", "/ping (no database, no session)", ["/ping"], None),
        Scenario("tasks_search", "/tasks, text query + skill + language (10 queries)", search,
                 cookies["freelancer"]),
        Scenario("freelancers_rating", "/freelancers, skill + rating sort (10 skills)", directory,
                 cookies["business"]),
        Scenario("browse_mix", "mix of 50 browse queries and pages", mix_paths(skills), cookies["freelancer"]),
        Scenario("task_proposals", f"/tasks/<id> as its owner, {PROPOSALS} proposals", [f"/tasks/{task_id}"],
                 cookies["business"]),
        Scenario("dashboard_specialist", "/dashboard, specialist (recommended tasks)", ["/dashboard"],
                 cookies["freelancer"]),
        Scenario("dashboard_business", "/dashboard, business", ["/dashboard"], cookies["business"]),
        Scenario("inbox", "/messages + /notifications, busiest specialist", ["/messages", "/notifications"],
                 worker_cookie),
        Scenario("operator_queue", "/moderation/ (disputes, held, flags)",
                 ["/moderation/", "/moderation/?tab=held", "/moderation/?tab=flags"], cookies["operator"]),
    ]


def mix_paths(skills: list[str]) -> list[str]:
    """50 different browse URLs: filters, sorts, text queries and deeper pages of both listings."""
    rng = random.Random(9)
    paths = ["/tasks", "/tasks?page=2", "/tasks?page=5", "/tasks?sort=budget", "/tasks?sort=best",
             "/tasks?sort=budget&page=3", "/tasks?channel=chat", "/tasks?channel=phone&pricing=hourly",
             "/tasks?pricing=fixed&budget_min=500&budget_max=1500", "/tasks?timezone=Europe/Madrid",
             "/freelancers", "/freelancers?page=3", "/freelancers?sort=rating", "/freelancers?language=es",
             "/freelancers?channel=email&rate_max=40", "/freelancers?min_rating=4", "/freelancers?language=de&sort=rating"]
    while len(paths) < 50:
        kind = len(paths) % 5
        skill = rng.choice(skills)
        if kind == 0:
            paths.append(f"/tasks?q={rng.choice(SEARCH_WORDS).replace(' ', '+')}")
        elif kind == 1:
            paths.append(f"/tasks?skill={skill}&language={rng.choice(LANGUAGES)}&page={rng.randint(1, 3)}")
        elif kind == 2:
            paths.append(f"/tasks?q={rng.choice(SEARCH_WORDS).replace(' ', '+')}&channel={rng.choice(['chat', 'email', 'phone'])}")
        elif kind == 3:
            paths.append(f"/freelancers?skill={skill}&min_level={rng.randint(1, 4)}&page={rng.randint(1, 2)}")
        else:
            paths.append(f"/tasks?skill={skill}&sort={rng.choice(['newest', 'budget', 'best'])}")
    return paths
