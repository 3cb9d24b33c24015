"""<option> lists of the GET filter forms, built once per list of choices.

The browse and directory forms offer every skill and language on every request; escaping
and rendering those options in a Jinja loop was a measurable share of the page's Python
time. The escaped tags of each list of choices are cached; a request only marks its choice.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from functools import lru_cache

from markupsafe import Markup, escape
from wtforms.widgets import html_params


@lru_cache(maxsize=64)
def _tags(choices: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str, str], ...]:
    return tuple((value, f'<option value="{escape(value)}" ', f">{escape(text)}</option>") for value, text in choices)


# The long lists the pages pass again and again (the skill list held in memory, the reference
# dicts of languages, channels and time zones), by the identity of that list or dict: turning 500
# choices into a cache key on every request cost as much as rendering them. Each entry keeps the
# list itself (so its id is not reused while the entry lives), its tags, and the finished menus
# already asked for, one per selected value. Both levels are small LRUs: the skill index replaces
# its lists every few minutes, and a list that is never asked for again must not stay forever.
_SOURCES = 32          # lists remembered
_MENUS = 64            # finished menus per list (one per selected value)
_LONG = 20             # shorter lists are rendered every time
_BY_SOURCE: OrderedDict[int, tuple[object, tuple, OrderedDict]] = OrderedDict()
_LOCK = threading.Lock()


def _remember(cache: OrderedDict, key, value, size: int) -> None:
    with _LOCK:
        cache[key] = value
        cache.move_to_end(key)
        while len(cache) > size:
            cache.popitem(last=False)


def _known(choices):
    source = getattr(choices, "mapping", choices)    # dict.items() views: their dict
    known = _BY_SOURCE.get(id(source))
    if known is not None and known[0] is source:
        return known
    tags = _tags(tuple((str(v), str(t)) for v, t in choices))
    entry = (source, tags, OrderedDict())
    if isinstance(source, (list, tuple, dict)) and len(tags) > _LONG:
        _remember(_BY_SOURCE, id(source), entry, _SOURCES)
    return entry


def option_tags(choices, selected, any_label: str | None = None) -> Markup:
    """`choices`: (value, text) pairs; `selected` is compared as a string; `any_label` adds a
    first option with the empty value. A long list or dict passed again must not have been
    changed in place since (the skill index replaces its list when it reloads)."""
    chosen = "" if selected is None else str(selected)
    _, tags, menus = _known(choices)
    menu = menus.get((chosen, any_label))
    if menu is not None:
        return menu
    parts = [f'<option value="">{escape(any_label)}</option>'] if any_label else []
    found = False
    for value, head, tail in tags:
        if value == chosen:
            found = True
            parts.append(head + "selected" + tail)
        else:
            parts.append(head + tail)
    menu = Markup("".join(parts))
    if len(tags) > _LONG and (found or not chosen):    # never a value that is not in the list
        _remember(menus, (chosen, any_label), menu, _MENUS)
    return menu


class OptionListSelect:
    """A WTForms widget for a single <select> over a long list of (value, text) pairs (skills, time
    zones): WTForms' own Select builds every <option> anew, which for a task form's eight skill menus
    was most of the page's time. The tags come from option_tags; the field's value is selected."""

    def __call__(self, field, **kwargs) -> Markup:
        kwargs.setdefault("id", field.id)
        if "required" not in kwargs and "required" in getattr(field, "flags", ()):
            kwargs["required"] = True
        return Markup(f"<select {html_params(name=field.name, **kwargs)}>"
                      f"{option_tags(field.choices, field.data)}</select>")
