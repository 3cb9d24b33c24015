"""Helpers for API tests: tokens made through the real service, and request shortcuts."""
from __future__ import annotations

from datetime import timedelta

from marketplace.api import tokens
from marketplace.core.time import utcnow
from marketplace.extensions import db


def token_for(user, scope: str = "write") -> str:
    _token, secret = tokens.create_token(user, f"test {scope}", scope, 30)
    db.session.flush()
    return secret


def auth(secret: str, **headers) -> dict:
    return {"Authorization": f"Bearer {secret}", **headers}


def task_body(skill_id: int, **overrides) -> dict:
    start = utcnow().date() + timedelta(days=5)
    body = {"title": "Weekend chat cover for our launch", "description": "Answer customers kindly in English.",
            "channel": "chat", "languages": ["en"], "timezone": "UTC", "start_date": start.isoformat(),
            "end_date": (start + timedelta(days=3)).isoformat(), "pricing": "fixed", "budget": 60_000,
            "required_skills": [{"skill_id": skill_id, "min_level": 2}]}
    body.update(overrides)
    return body


def skill_id(slug: str = "zendesk") -> int:
    from sqlalchemy import select

    from marketplace.profiles.models import Skill
    return db.session.scalar(select(Skill.id).where(Skill.slug == slug))
