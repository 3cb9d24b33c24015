"""The words the directory's keyword search looks in: name, headline, skills and languages, lower-cased.

Kept on the profile row (freelancer_profiles.search_text) so one trigram index answers
"contains this word" at 100k specialists (migration 0019); refreshed whenever the profile is saved.
"""
from __future__ import annotations

from collections.abc import Iterable

from marketplace.core.reference import LANGUAGES

MAX_LENGTH = 2000


def compose(full_name: str, headline: str, skill_names: Iterable[str], language_codes: Iterable[str]) -> str:
    parts = [full_name or "", headline or "", *sorted(skill_names),
             *sorted(LANGUAGES.get(code, code) for code in language_codes)]
    return " ".join(" ".join(parts).split()).lower()[:MAX_LENGTH]


def refresh(profile) -> None:
    """Recompute the profile's search text from its loaded rows (user, skills, languages)."""
    profile.search_text = compose(profile.user.full_name, profile.headline,
                                  [fs.skill.name for fs in profile.skills], [l.language for l in profile.languages])
