"""Shared helpers for the task, discovery, bidding and hiring tests."""
from __future__ import annotations

import html
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event, func, select

from marketplace.bidding.models import Bid, BidStatus
from marketplace.core.time import utcnow
from marketplace.extensions import db
from marketplace.profiles.models import (FreelancerChannel, FreelancerLanguage, FreelancerProfile, FreelancerSkill,
                                         Skill)


def text(response) -> str:
    """The response body with HTML entities decoded, so messages read as the user sees them."""
    return html.unescape(response.get_data(as_text=True))


def plain(response) -> str:
    """The visible text of a page: tags dropped, entities decoded, whitespace collapsed."""
    import re
    body = re.sub(r"<script.*?</script>|<style.*?</style>", " ", response.get_data(as_text=True), flags=re.S)
    visible = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())
    return re.sub(r" ([.,;:!?])", r"\1", visible)


def flashes(client) -> list[str]:
    """Flash messages waiting in the client's session (consumed: the next page won't show them)."""
    with client.session_transaction() as session:
        return [message for _category, message in session.pop("_flashes", [])]


def sign_in(client, user):
    """Start the same session POST /login would, without its deliberately slow password hash check.

    Flask-Login keeps "<user id>:<session token>" (see accounts/session.py); the
    session is permanent, as accounts/views._start_session makes it. A few tests
    still go through the real login form (the `login_as` fixture).
    """
    db.session.commit()
    app = client.application
    with app.test_request_context():
        identifier = app.login_manager._session_identifier_generator()
    with client.session_transaction() as session:
        session["_user_id"] = f"{user.id}:{user.session_token}"
        session["_fresh"] = True
        session["_id"] = identifier
        session.permanent = True
    return client


def client_for(app, user=None):
    """A separate browser: signed in as `user`, or a visitor."""
    browser = app.test_client()
    return sign_in(browser, user) if user is not None else browser


def skill_id(slug: str) -> int:
    return db.session.scalar(select(Skill.id).where(Skill.slug == slug))


def count(model, *conditions) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


def future(days: int) -> str:
    return (utcnow().date() + timedelta(days=days)).isoformat()


def task_form(**overrides) -> dict:
    """Form data for POST /tasks/new or /tasks/<id>/edit: a valid fixed-price draft unless overridden."""
    data = {
        "title": "Weekend chat cover for our router launch",
        "description": "Help customers set up their new home routers over chat, kindly and patiently.",
        "channel": "chat",
        "languages": ["en", "es"],
        "timezone": "UTC",
        "work_hours_start": "9",
        "work_hours_end": "17",
        "start_date": future(5),
        "end_date": future(8),
        "pricing": "fixed",
        "budget": "900",
        "max_rate": "",
        "estimated_hours": "",
        "seats": "1",
        "hiring_mode": "open",
        "required-0-skill": str(skill_id("zendesk")),
        "required-0-min_level": "3",
        "nice-0-skill": str(skill_id("de-escalation")),
        "nice-0-min_level": "2",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def add_bid(task, freelancer, *, amount: int = 40_000, status: BidStatus = BidStatus.PENDING,
            cover_note: str | None = None, estimated_hours: int | None = None, shortlisted: bool = False) -> Bid:
    bid = Bid(task_id=task.id, freelancer_id=freelancer.id, amount=amount, estimated_hours=estimated_hours,
              cover_note=cover_note or f"Cover note of {freelancer.full_name}", availability_note="",
              status=status, shortlisted=shortlisted)
    db.session.add(bid)
    db.session.flush()
    return bid


def make_profile(user, *, headline: str = "Calm, bilingual support specialist", rate: int | None = 3_000,
                 skills: dict[str, int] | None = None, languages: dict[str, str] | None = None,
                 channels: list[str] | None = None) -> FreelancerProfile:
    """Fill the freelancer's profile (created empty by the factory)."""
    profile = db.session.get(FreelancerProfile, user.id)
    profile.headline, profile.hourly_rate = headline, rate
    for slug, level in (skills or {}).items():
        db.session.add(FreelancerSkill(freelancer_id=user.id, skill_id=skill_id(slug), level=level))
    for code, proficiency in (languages or {}).items():
        db.session.add(FreelancerLanguage(freelancer_id=user.id, language=code, proficiency=proficiency))
    for channel in channels or []:
        db.session.add(FreelancerChannel(freelancer_id=user.id, channel=channel))
    db.session.flush()
    refresh_search_text(profile)
    return profile


def refresh_search_text(profile: FreelancerProfile) -> None:
    """What saving the profile through the service does for the directory's keyword search."""
    from marketplace.profiles.search_text import refresh
    db.session.refresh(profile, ["skills", "languages"])
    refresh(profile)
    db.session.flush()


IGNORED_STATEMENTS = ("SAVEPOINT", "RELEASE", "ROLLBACK")


@contextmanager
def counting_queries():
    """Collect the SQL statements sent through db.engine (transaction control statements are kept apart)."""
    statements: list[str] = []

    def before_cursor_execute(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", before_cursor_execute)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before_cursor_execute)


def queries_only(statements: list[str]) -> list[str]:
    return [s for s in statements if not s.lstrip().upper().startswith(IGNORED_STATEMENTS)]
