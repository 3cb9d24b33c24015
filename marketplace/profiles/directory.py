"""The public specialist directory: filters on skill, language, channel and rate."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import exists, select
from sqlalchemy.orm import selectinload

from marketplace.accounts.models import AccountStatus, User
from marketplace.core.forms import bounded_int
from marketplace.core.money import parse_major
from marketplace.core.reference import CHANNELS, LANGUAGES, PROFICIENCY_RANK
from marketplace.extensions import db
from marketplace.profiles.models import (FreelancerChannel, FreelancerLanguage, FreelancerProfile, FreelancerSkill,
                                         Skill)


@dataclass
class DirectoryQuery:
    skill: str = ""
    min_level: int = 1
    language: str = ""
    channel: str = ""
    rate_max: int | None = None
    errors: list[str] = field(default_factory=list)


def parse_query(args) -> DirectoryQuery:
    params = DirectoryQuery()
    skill = (args.get("skill") or "").strip()
    if skill and db.session.scalar(select(Skill.id).where(Skill.slug == skill)) is None:
        params.errors.append("Unknown skill ignored.")
    else:
        params.skill = skill
    params.min_level = bounded_int(args, "min_level", 1, low=1, high=5)
    for name, allowed in (("language", LANGUAGES), ("channel", CHANNELS)):
        value = (args.get(name) or "").strip()
        if value and value not in allowed:
            params.errors.append(f"Unknown {name} ignored.")
        elif value:
            setattr(params, name, value)
    raw = (args.get("rate_max") or "").strip()
    if raw:
        try:
            params.rate_max = parse_major(raw)
            if not 0 < params.rate_max <= 100_000_000:
                raise ValueError
        except ValueError:
            params.rate_max = None
            params.errors.append("Maximum rate must be a positive amount up to 1,000,000; it was ignored.")
    return params


def search_freelancers(params: DirectoryQuery, page: int = 1, per_page: int = 20):
    stmt = (select(FreelancerProfile).join(User, User.id == FreelancerProfile.user_id)
            .where(User.status == AccountStatus.ACTIVE, FreelancerProfile.hourly_rate.is_not(None),
                   FreelancerProfile.headline != ""))
    if params.skill:
        stmt = stmt.where(exists().where(FreelancerSkill.freelancer_id == FreelancerProfile.user_id,
                                         FreelancerSkill.skill_id == Skill.id, Skill.slug == params.skill,
                                         FreelancerSkill.level >= params.min_level))
    if params.language:
        stmt = stmt.where(exists().where(FreelancerLanguage.freelancer_id == FreelancerProfile.user_id,
                                         FreelancerLanguage.language == params.language,
                                         FreelancerLanguage.proficiency.in_(
                                             [c for c, r in PROFICIENCY_RANK.items() if r >= PROFICIENCY_RANK["B2"]])))
    if params.channel:
        stmt = stmt.where(exists().where(FreelancerChannel.freelancer_id == FreelancerProfile.user_id,
                                         FreelancerChannel.channel == params.channel))
    if params.rate_max is not None:
        stmt = stmt.where(FreelancerProfile.hourly_rate <= params.rate_max)
    stmt = stmt.order_by(FreelancerProfile.updated_at.desc(), FreelancerProfile.user_id.desc()).options(
        selectinload(FreelancerProfile.skills), selectinload(FreelancerProfile.languages),
        selectinload(FreelancerProfile.channels))
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False, max_per_page=100)
