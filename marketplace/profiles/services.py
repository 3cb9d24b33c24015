"""Profile use cases: create on sign-up, edit (owner only), read public profiles."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from marketplace.accounts.models import AccountStatus, Role, User
from marketplace.core.errors import Forbidden, NotFound, ValidationFailed
from marketplace.core.reference import (CHANNELS, COMPANY_SIZES, INDUSTRIES, LANGUAGES, PROFICIENCIES, channel_mask,
                                        language_mask)
from marketplace.core.text import one_line
from marketplace.core.time import TIMEZONE_SET
from marketplace.extensions import db
from marketplace.profiles.models import (BusinessProfile, FreelancerChannel, FreelancerLanguage, FreelancerProfile,
                                         FreelancerSkill, Skill)

MAX_RATE = 100_000  # minor units per hour: 1,000.00
MIN_RATE = 500      # 5.00


def create_empty_profile(user: User) -> None:
    if user.role == Role.FREELANCER:
        db.session.add(FreelancerProfile(user_id=user.id))
    elif user.role == Role.BUSINESS:
        db.session.add(BusinessProfile(user_id=user.id, company_name=""))
    db.session.flush()


def skill_slug_exists(slug: str) -> bool:
    from marketplace.profiles.skill_index import skill_index
    return slug in skill_index().ids


def all_skills() -> list[Skill]:
    return list(db.session.scalars(select(Skill).order_by(Skill.kind, Skill.name)))


def skill_options() -> list[tuple[str, str]]:
    """(slug, name) pairs for filter menus, alphabetical (held in memory: profiles/skill_index.py)."""
    from marketplace.profiles.skill_index import skill_index
    return skill_index().options


def get_own_freelancer_profile(actor: User) -> FreelancerProfile:
    if not actor.is_freelancer:
        raise Forbidden("Only specialists have a specialist profile.")
    profile = db.session.get(FreelancerProfile, actor.id)
    if profile is None:
        raise NotFound()
    return profile


def get_own_business_profile(actor: User) -> BusinessProfile:
    if not actor.is_business:
        raise Forbidden("Only businesses have a company profile.")
    profile = db.session.get(BusinessProfile, actor.id)
    if profile is None:
        raise NotFound()
    return profile


def get_public_freelancer(user_id: int) -> FreelancerProfile:
    """A specialist's public profile; suspended accounts are not shown."""
    profile = db.session.scalar(
        select(FreelancerProfile).join(FreelancerProfile.user)
        .where(FreelancerProfile.user_id == user_id, User.status == AccountStatus.ACTIVE)
        .options(selectinload(FreelancerProfile.skills), selectinload(FreelancerProfile.languages),
                 selectinload(FreelancerProfile.channels)))
    if profile is None:
        raise NotFound("We couldn't find that specialist.")
    return profile


@dataclass
class FreelancerProfileData:
    headline: str
    bio: str
    hourly_rate: int | None  # minor units
    timezone: str
    hours_per_week: int
    preferred_hours: str = ""
    channels: list[str] = field(default_factory=list)
    skills: dict[int, int] = field(default_factory=dict)        # skill id -> level 1..5
    languages: dict[str, str] = field(default_factory=dict)     # ISO 639-1 -> proficiency


def update_freelancer_profile(actor: User, profile: FreelancerProfile, data: FreelancerProfileData) -> None:
    if actor.id != profile.user_id:
        raise Forbidden("You can only edit your own profile.")
    if data.hourly_rate is not None and not MIN_RATE <= data.hourly_rate <= MAX_RATE:
        raise ValidationFailed("Hourly rate must be between 5.00 and 1,000.00.", field="hourly_rate")
    if data.timezone not in TIMEZONE_SET:
        raise ValidationFailed("Choose a time zone from the list.", field="timezone")
    if not 0 <= data.hours_per_week <= 80:
        raise ValidationFailed("Hours per week must be between 0 and 80.", field="hours_per_week")
    unknown_channels = set(data.channels) - CHANNELS.keys()
    if unknown_channels:
        raise ValidationFailed("Choose channels from the list.", field="channels")
    if any(code not in LANGUAGES or level not in PROFICIENCIES for code, level in data.languages.items()):
        raise ValidationFailed("Choose languages and levels from the lists.", field="languages")
    if data.skills:
        if any(not 1 <= level <= 5 for level in data.skills.values()):
            raise ValidationFailed("Skill levels go from 1 to 5.", field="skills")
        known = set(db.session.scalars(select(Skill.id).where(Skill.id.in_(data.skills))))
        if known != set(data.skills):
            raise ValidationFailed("One of the skills is not in our list.", field="skills")

    profile.headline = one_line(data.headline)
    profile.bio = data.bio.strip()
    profile.hourly_rate = data.hourly_rate
    profile.timezone = data.timezone
    profile.hours_per_week = data.hours_per_week
    profile.preferred_hours = data.preferred_hours.strip()
    _replace_children(profile.channels, {c.channel: c for c in profile.channels},
                      {code: None for code in data.channels}, lambda code, _: FreelancerChannel(channel=code))
    _replace_children(profile.languages, {l.language: l for l in profile.languages}, data.languages,
                      lambda code, level: FreelancerLanguage(language=code, proficiency=level),
                      lambda row, level: setattr(row, "proficiency", level))
    _replace_children(profile.skills, {s.skill_id: s for s in profile.skills}, data.skills,
                      lambda sid, level: FreelancerSkill(skill_id=sid, level=level),
                      lambda row, level: setattr(row, "level", level))
    refresh_masks(profile)
    db.session.flush()
    from marketplace.profiles.search_text import refresh
    db.session.refresh(profile, ["skills"])        # new skill rows carry their Skill (names) only once loaded
    refresh(profile)
    db.session.flush()


def refresh_masks(profile: FreelancerProfile) -> None:
    """Recompute the language and channel bit masks matching filters on."""
    profile.language_mask = language_mask({l.language: l.proficiency for l in profile.languages})
    profile.channel_mask = channel_mask(c.channel for c in profile.channels)


def _replace_children(collection, existing: dict, wanted: dict, make, update=None) -> None:
    """Make a child collection match `wanted` (key -> value), keeping rows that stay."""
    for key, row in existing.items():
        if key not in wanted:
            collection.remove(row)
    for key, value in wanted.items():
        if key in existing:
            if update:
                update(existing[key], value)
        else:
            collection.append(make(key, value))


COMPANY_DESCRIPTION_MAX = 2000


@dataclass
class BusinessProfileData:
    company_name: str
    website: str
    industry: str
    size: str
    timezone: str
    description: str = ""
    show_work_history: bool = False


def update_business_profile(actor: User, profile: BusinessProfile, data: BusinessProfileData) -> None:
    if actor.id != profile.user_id:
        raise Forbidden("You can only edit your own company profile.")
    if not data.company_name.strip():
        raise ValidationFailed("Enter your company's name.", field="company_name")
    if data.industry and data.industry not in INDUSTRIES:
        raise ValidationFailed("Choose an industry from the list.", field="industry")
    if data.size and data.size not in COMPANY_SIZES:
        raise ValidationFailed("Choose a company size from the list.", field="size")
    if data.timezone not in TIMEZONE_SET:
        raise ValidationFailed("Choose a time zone from the list.", field="timezone")
    if len(data.description.strip()) > COMPANY_DESCRIPTION_MAX:
        raise ValidationFailed(f"Keep the description under {COMPANY_DESCRIPTION_MAX:,} characters.",
                               field="description")
    website = data.website.strip()
    if website and not website.startswith(("https://", "http://")):
        website = "https://" + website
    profile.company_name = one_line(data.company_name)
    profile.show_work_history = bool(data.show_work_history)
    profile.website = website
    profile.industry = data.industry
    profile.size = data.size
    profile.timezone = data.timezone
    profile.description = data.description.strip()
    db.session.flush()
