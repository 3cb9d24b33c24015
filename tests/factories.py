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
