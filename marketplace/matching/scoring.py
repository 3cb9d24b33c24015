"""The score of one specialist for one task, with its explanation.

Pure functions over loaded rows: no queries here. Every part is in [0, 1];
weights come from config MATCH_WEIGHTS (documented there).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple
from functools import lru_cache
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from marketplace.core.money import format_money
from marketplace.core.reference import CHANNELS, LANGUAGES
from marketplace.core.time import as_utc, utcnow
from marketplace.profiles.models import FreelancerProfile
from marketplace.tasks.models import Pricing, Task, needed_hours

# A specialist's working day when they haven't said otherwise (local time).
DEFAULT_DAY = (9, 17)
NEUTRAL_EMPATHY = 3.5
ON_TIME_PRIOR, ON_TIME_PRIOR_WEIGHT = 0.9, 3


@dataclass
class Candidate:
    """The figures scoring needs about one specialist (loaded as plain rows, not ORM objects)."""
    user_id: int
    hourly_rate: int | None
    timezone: str
    rating_sum: int = 0
    rating_count: int = 0
    empathy_sum: int = 0
    empathy_count: int = 0
    on_time_count: int = 0
    completed_count: int = 0
    last_active_at: datetime | None = None
    levels: dict[int, int] = field(default_factory=dict)     # skill id -> level
    spoken: dict[str, str] = field(default_factory=dict)     # language -> proficiency
    # Coverage shifts over the last 90 days (marketplace/schedules/records.py): kept, and all
    # that counted (kept + late drops + misses).
    shifts_kept: int = 0
    shifts_counted: int = 0

    @classmethod
    def from_profile(cls, profile: FreelancerProfile) -> "Candidate":
        return cls(user_id=profile.user_id, hourly_rate=profile.hourly_rate, timezone=profile.timezone,
                   rating_sum=profile.rating_sum, rating_count=profile.rating_count,
                   empathy_sum=profile.empathy_sum, empathy_count=profile.empathy_count,
                   on_time_count=profile.on_time_count, completed_count=profile.completed_count,
                   last_active_at=profile.last_active_at,
                   levels={fs.skill_id: fs.level for fs in profile.skills},
                   spoken={l.language: l.proficiency for l in profile.languages})


class SkillNeed(NamedTuple):
    skill_id: int
    min_level: int
    required: bool


@dataclass
class TaskFigures:
    """What scoring reads of a task, loaded as plain rows (ranking a hundred tasks as ORM objects with
    their skills, languages and business cost more than the rest of the dashboard)."""
    id: int
    channel: str
    timezone: str
    work_hours_start: int
    work_hours_end: int
    start_date: date
    end_date: date
    pricing: Pricing
    budget: int | None
    max_rate: int | None
    estimated_hours: int | None
    skills: list[SkillNeed] = field(default_factory=list)     # required first, as Task.skills
    language_codes: list[str] = field(default_factory=list)   # in order, as Task.language_codes

    @property
    def required_skills(self) -> list[SkillNeed]:
        return [s for s in self.skills if s.required]

    @property
    def nice_skills(self) -> list[SkillNeed]:
        return [s for s in self.skills if not s.required]

    @property
    def needed_hours(self) -> int:
        return needed_hours(self)


@dataclass
class Match:
    candidate: Candidate
    score: float
    parts: dict[str, float]
    reasons: list[str] = field(default_factory=list)
    profile: FreelancerProfile | None = None   # attached for the results that are shown
    partial: bool = False                      # misses a required skill or its level

    @property
    def explanation(self) -> str:
        return ", ".join(self.reasons)


def bayesian(total: float, count: int, prior_mean: float, prior_weight: float) -> float:
    """Average shrunk toward `prior_mean` as if `prior_weight` extra votes of the prior existed."""
    return (prior_mean * prior_weight + total) / (prior_weight + count)


def _skill_parts(task: Task, levels: dict[int, int]) -> tuple[float, float, int, int]:
    required = task.required_skills
    covered = 0
    total = 0.0
    for ts in required:
        level = levels.get(ts.skill_id, 0)
        if level >= ts.min_level:
            covered += 1
            total += 0.8 + 0.2 * (level - ts.min_level) / max(1, 5 - ts.min_level)
        elif level:
            total += 0.4 * level / ts.min_level
    required_part = total / len(required) if required else 1.0
    nice = task.nice_skills
    nice_part = (sum(1.0 if levels.get(ts.skill_id, 0) >= ts.min_level else 0.5 if levels.get(ts.skill_id) else 0.0
                     for ts in nice) / len(nice)) if nice else 0.5
    return required_part, nice_part, covered, len(required)


@lru_cache(maxsize=4096)
def _utc_hours(zone: str, start: int, end: int, on: date) -> frozenset[int]:
    """The UTC hours (as offsets from `on` 00:00 UTC, in 0..47) covered by local [start, end)."""
    tz = ZoneInfo(zone)
    begin = datetime.combine(on, time(0), tzinfo=tz) + timedelta(hours=start)
    hours = set()
    for h in range(end - start):
        moment = (begin + timedelta(hours=h)).astimezone(timezone.utc)
        hours.add(int((moment - datetime.combine(on, time(0), tzinfo=timezone.utc)).total_seconds() // 3600) % 24)
    return frozenset(hours)


def timezone_overlap(task: Task, profile: Candidate) -> int:
    """Hours of the task's daily coverage that fall inside the specialist's working day."""
    on = task.start_date
    try:
        wanted = _utc_hours(task.timezone, task.work_hours_start, task.work_hours_end, on)
        available = _utc_hours(profile.timezone or "UTC", *DEFAULT_DAY, on)
    except (OverflowError, ValueError):  # dates at the edge of the calendar
        return 0
    return len(wanted & available)


def _rate_fit(task: Task, profile: Candidate) -> tuple[float, str | None]:
    """How well the specialist's rate fits what the business will pay: the hourly maximum, or the fixed
    budget against the hours the task needs (Task.needed_hours)."""
    rate = profile.hourly_rate
    if not rate:
        return 0.3, None
    if task.pricing == Pricing.HOURLY and task.max_rate:
        if rate <= task.max_rate:
            return 1.0, "rate within budget"
        return max(0.0, 1 - (rate - task.max_rate) / task.max_rate), f"rate {format_money(rate)}/h above the max"
    needed = task.needed_hours
    affordable = (task.budget or 0) / rate
    if affordable >= needed:
        return 1.0, "rate within budget"
    return affordable / needed, f"budget covers {affordable:.0f} of {needed} h at their rate"


def _activity(profile: Candidate, now: datetime) -> float:
    last = as_utc(profile.last_active_at)
    if last is None:
        return 0.3
    days = (now - last).total_seconds() / 86400
    return 1.0 if days <= 7 else max(0.0, 1 - (days - 7) / 83)


def score(task: Task, profile: Candidate, config, now: datetime | None = None) -> Match:
    now = now or utcnow()
    weights = config["MATCH_WEIGHTS"]
    levels = profile.levels
    required_part, nice_part, covered, required_count = _skill_parts(task, levels)

    rating = bayesian(profile.rating_sum, profile.rating_count, config["MATCH_RATING_PRIOR"],
                      config["MATCH_RATING_PRIOR_WEIGHT"])
    empathy = bayesian(profile.empathy_sum, profile.empathy_count, NEUTRAL_EMPATHY, 5 * 3)
    # Reliability: engagements delivered on time and coverage shifts kept, shrunk together toward the prior.
    on_time = bayesian(profile.on_time_count + profile.shifts_kept, profile.completed_count + profile.shifts_counted,
                       ON_TIME_PRIOR, ON_TIME_PRIOR_WEIGHT)
    overlap = timezone_overlap(task, profile)
    window = task.work_hours_end - task.work_hours_start
    rate_part, rate_reason = _rate_fit(task, profile)
    parts = {
        "required_skills": required_part,
        "nice_skills": nice_part,
        "rating": (rating - 1) / 4,
        "empathy": (empathy - 1) / 4,
        "rate_fit": rate_part,
        "timezone": overlap / window if window else 1.0,
        "on_time": on_time,
        "activity": _activity(profile, now),
    }
    total_weight = sum(weights.values())
    value = sum(weights[name] * parts[name] for name in weights) / total_weight

    reasons = []
    if required_count:
        reasons.append(_coverage_reason(task, covered, required_count))
    spoken = profile.spoken
    for code in task.language_codes:
        if code in spoken:
            level = "native" if spoken[code] == "native" else spoken[code]
            reasons.append(f"{level} {LANGUAGES.get(code, code)}")
    reasons.append(CHANNELS.get(task.channel, task.channel).lower())
    if profile.rating_count:
        # The Bayesian rating, as profiles and the directory show it (reviews.services.bayesian_rating).
        reasons.append(f"{rating:.1f} stars over {profile.rating_count} "
                       f"review{'s' if profile.rating_count != 1 else ''}")
    else:
        reasons.append("no reviews yet")
    if rate_reason:
        reasons.append(rate_reason)
    reasons.append(f"{overlap} h time-zone overlap")
    if profile.shifts_counted:
        reasons.append(f"kept {profile.shifts_kept} of {profile.shifts_counted} shift"
                       f"{'s' if profile.shifts_counted != 1 else ''} in the last 90 days")
    return Match(candidate=profile, score=round(value, 4), parts=parts, reasons=reasons,
                 partial=covered < required_count)


def _coverage_reason(task: Task, covered: int, required_count: int) -> str:
    """ "covers 3/3 required skills at level 4+", with the level only when every required skill asks for
    the same one, and a "partial match" label when some required skill is missing or below its level."""
    levels = {ts.min_level for ts in task.required_skills}
    at = f" at level {levels.pop()}+" if len(levels) == 1 else " at the levels asked"
    text = f"covers {covered}/{required_count} required skill{'s' if required_count > 1 else ''}{at}"
    return text if covered == required_count else f"partial match: {text}"
