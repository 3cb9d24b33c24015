"""What a task card in a listing shows, loaded as plain rows.

A browse page shows twenty cards; loading them as ORM objects (each task, its skill rows with
their skills, its languages and its business user) cost more Python time than the page's SQL.
Three small queries of plain columns fill these dataclasses instead; the card macro
(templates/macros/market.html) reads only what is here.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from datetime import date
from typing import NamedTuple

from sqlalchemy import bindparam, func, select

from marketplace.accounts.models import User
from marketplace.extensions import db
from marketplace.profiles.models import BusinessProfile, Skill
from marketplace.tasks.models import Pricing, Task, TaskLanguage, TaskSkill

# The card shows the first 220 characters (word-truncated); reading a little more than that
# gives the same text without fetching long descriptions whole.
DESCRIPTION_CHARS = 400


class SkillPill(NamedTuple):
    name: str
    required: bool
    min_level: int


@dataclass
class TaskCard:
    id: int
    title: str
    description: str
    channel: str
    timezone: str
    start_date: date
    pricing: Pricing
    currency: str
    budget: int | None
    max_rate: int | None
    estimated_hours: int | None
    seats: int
    filled_seats: int
    business_name: str
    language_codes: list[str] = field(default_factory=list)
    skills: list[SkillPill] = field(default_factory=list)   # required first, as on the task page
    business_id: int = 0
    business_avatar: str | None = None                         # the business's logo token (files/avatars.py)

    @property
    def seats_left(self) -> int:
        return self.seats - self.filled_seats


@cache
def _statements():
    """The three card queries, built once per process with the ids as one expanding parameter:
    building them again on every page cost more Python time than running them."""
    ids = bindparam("ids", expanding=True)
    tasks = (select(Task.id, Task.title, func.substr(Task.description, 1, DESCRIPTION_CHARS).label("description"),
                    Task.channel, Task.timezone, Task.start_date, Task.pricing, Task.currency, Task.budget,
                    Task.max_rate, Task.estimated_hours, Task.seats, Task.filled_seats,
                    func.coalesce(func.nullif(BusinessProfile.company_name, ""), User.full_name).label("business_name"),
                    Task.business_id, User.avatar_token.label("business_avatar"))
             .join(User, User.id == Task.business_id)
             .outerjoin(BusinessProfile, BusinessProfile.user_id == Task.business_id).where(Task.id.in_(ids)))
    skills = (select(TaskSkill.task_id, Skill.name, TaskSkill.required, TaskSkill.min_level)
              .join(Skill, Skill.id == TaskSkill.skill_id).where(TaskSkill.task_id.in_(ids))
              .order_by(TaskSkill.task_id, TaskSkill.required.desc(), TaskSkill.skill_id))
    languages = (select(TaskLanguage.task_id, TaskLanguage.language).where(TaskLanguage.task_id.in_(ids))
                 .order_by(TaskLanguage.task_id, TaskLanguage.language))
    return tasks, skills, languages


def load_cards(ids: Sequence[int]) -> list[TaskCard]:
    """The cards of these tasks (in no particular order): three queries whatever their number."""
    if not ids:
        return []
    tasks, skills, languages = _statements()
    values = {"ids": list(ids)}
    cards = {row.id: TaskCard(**row._mapping) for row in db.session.execute(tasks, values)}
    for task_id, name, required, min_level in db.session.execute(skills, values):
        cards[task_id].skills.append(SkillPill(name, required, min_level))
    for task_id, language in db.session.execute(languages, values):
        cards[task_id].language_codes.append(language)
    return list(cards.values())
