"""The skill taxonomy held in memory: slugs, ids and names for filters and cards.

Every browse and directory page validates its `skill` argument, offers every skill in its filter
menu and turns the chosen slug into an id; asking the database each time was three statements
per page for a list that changes only when `flask seed-skills` adds to it. Each process keeps the
list for SKILL_INDEX_SECONDS and reloads it after; adding skills here (profiles/taxonomy.py)
forgets it at once in this process, other processes see new skills within that time.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.profiles.models import Skill

SKILL_INDEX_SECONDS = 300.0
_KEY = "skill_index"


@dataclass(frozen=True)
class SkillIndex:
    ids: dict[str, int]                  # slug -> id
    names: dict[int, str]                # id -> name
    options: list[tuple[str, str]]       # (slug, name), alphabetical, for filter menus
    form_choices: list[tuple[str, str]]  # ("", "—") then (id, name) by kind and name, for the task form
    loaded_at: float


def _load() -> SkillIndex:
    rows = db.session.execute(select(Skill.id, Skill.slug, Skill.name, Skill.kind).order_by(Skill.name)).all()
    by_kind = sorted(rows, key=lambda row: (row.kind, row.name))
    return SkillIndex(ids={row.slug: row.id for row in rows}, names={row.id: row.name for row in rows},
                      options=[(row.slug, row.name) for row in rows],
                      form_choices=[("", "—")] + [(str(row.id), row.name) for row in by_kind],
                      loaded_at=time.monotonic())


def skill_index() -> SkillIndex:
    """This app's skill list, loaded at most once per SKILL_INDEX_SECONDS."""
    index = current_app.extensions.get(_KEY)
    if index is None or time.monotonic() - index.loaded_at > SKILL_INDEX_SECONDS:
        index = current_app.extensions[_KEY] = _load()
    return index


def forget_skill_index() -> None:
    """After the taxonomy changed in this process."""
    current_app.extensions.pop(_KEY, None)
