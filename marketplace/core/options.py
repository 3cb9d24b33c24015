"""<option> lists of the GET filter forms, built once per list of choices.

The browse and directory forms offer every skill and language on every request; escaping
and rendering those options in a Jinja loop was a measurable share of the page's Python
time. The escaped tags of each list of choices are cached; a request only marks its choice.
"""
from __future__ import annotations

from functools import lru_cache

from markupsafe import Markup, escape


@lru_cache(maxsize=64)
def _tags(choices: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str, str], ...]:
    return tuple((value, f'<option value="{escape(value)}" ', f">{escape(text)}</option>") for value, text in choices)


def option_tags(choices, selected, any_label: str | None = None) -> Markup:
    """`choices`: (value, text) pairs; `selected` is compared as a string; `any_label` adds a
    first option with the empty value."""
    chosen = "" if selected is None else str(selected)
    parts = [f'<option value="">{escape(any_label)}</option>'] if any_label else []
    for value, head, tail in _tags(tuple((str(v), str(t)) for v, t in choices)):
        parts.append(head + ("selected" if value == chosen else "") + tail)
    return Markup("".join(parts))
