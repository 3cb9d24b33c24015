"""What a specialist card in the directory shows, loaded as plain rows (see tasks/cards.py)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import NamedTuple

from sqlalchemy import bindparam, select

from marketplace.accounts.models import User
from marketplace.extensions import db
from marketplace.profiles.models import FreelancerChannel, FreelancerLanguage, FreelancerProfile, FreelancerSkill, Skill

SKILLS_SHOWN = 5


class SpokenLanguage(NamedTuple):
    language: str
    proficiency: str


class SkillLevel(NamedTuple):
    name: str
    level: int


@dataclass
class ProfileCard:
    user_id: int
    full_name: str
    headline: str
    hourly_rate: int | None
    currency: str
    timezone: str
    rating_sum: int
    rating_count: int
    languages: list[SpokenLanguage] = field(default_factory=list)
    channel_codes: list[str] = field(default_factory=list)
    top_skills: list[SkillLevel] = field(default_factory=list)   # strongest first, at most SKILLS_SHOWN
    avatar_token: str | None = None
    hours_per_week: int = 0


@cache
def _statements():
    """The four card queries, built once per process with the ids as one expanding parameter:
    building them again on every page cost more Python time than running them."""
    p = FreelancerProfile
    ids = bindparam("ids", expanding=True)
    profiles = (select(p.user_id, User.full_name, p.headline, p.hourly_rate, p.currency, p.timezone, p.rating_sum,
                       p.rating_count, User.avatar_token, p.hours_per_week)
                .join(User, User.id == p.user_id).where(p.user_id.in_(ids)))
    skills = (select(FreelancerSkill.freelancer_id, Skill.name, FreelancerSkill.level)
              .join(Skill, Skill.id == FreelancerSkill.skill_id).where(FreelancerSkill.freelancer_id.in_(ids))
              .order_by(FreelancerSkill.freelancer_id, FreelancerSkill.level.desc(), FreelancerSkill.skill_id))
    languages = (select(FreelancerLanguage.freelancer_id, FreelancerLanguage.language, FreelancerLanguage.proficiency)
                 .where(FreelancerLanguage.freelancer_id.in_(ids))
                 .order_by(FreelancerLanguage.freelancer_id, FreelancerLanguage.language))
    channels = (select(FreelancerChannel.freelancer_id, FreelancerChannel.channel)
                .where(FreelancerChannel.freelancer_id.in_(ids))
                .order_by(FreelancerChannel.freelancer_id, FreelancerChannel.channel))
    return profiles, skills, languages, channels


def load_cards(ids: Sequence[int]) -> list[ProfileCard]:
    """The cards of these specialists (in no particular order): four queries whatever their number."""
    if not ids:
        return []
    profiles, skills, languages, channels = _statements()
    values = {"ids": list(ids)}
    cards = {row.user_id: ProfileCard(**row._mapping) for row in db.session.execute(profiles, values)}
    for user_id, name, level in db.session.execute(skills, values):
        if len(cards[user_id].top_skills) < SKILLS_SHOWN:
            cards[user_id].top_skills.append(SkillLevel(name, level))
    for user_id, language, proficiency in db.session.execute(languages, values):
        cards[user_id].languages.append(SpokenLanguage(language, proficiency))
    for user_id, channel in db.session.execute(channels, values):
        cards[user_id].channel_codes.append(channel)
    return list(cards.values())
