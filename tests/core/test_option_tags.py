"""The cached <option> lists of the filter forms and long menus (core/options.py)."""
from __future__ import annotations

from marketplace.core.options import option_tags
from marketplace.core.time import TIMEZONE_CHOICES

ZONES = TIMEZONE_CHOICES


def _selected(html: str) -> list[str]:
    return [part.split('"')[1] for part in html.split("<option")[1:] if "selected>" in part]


def test_a_long_list_marks_only_the_chosen_value_each_time():
    first = option_tags(ZONES, "Europe/Madrid", "Any time zone")
    assert _selected(first) == ["Europe/Madrid"]
    assert first.startswith('<option value="">Any time zone</option>')
    assert first.count("<option") == len(ZONES) + 1
    # Asked again (served from the cache), and for another choice, and for none.
    assert option_tags(ZONES, "Europe/Madrid", "Any time zone") == first
    assert _selected(option_tags(ZONES, "Asia/Tokyo", "Any time zone")) == ["Asia/Tokyo"]
    assert _selected(option_tags(ZONES, "", "Any time zone")) == []
    assert _selected(option_tags(ZONES, None, "Any time zone")) == []
    # The same list without the "any" option is another menu.
    assert not option_tags(ZONES, "Europe/Madrid").startswith('<option value="">')


def test_an_unknown_value_selects_nothing_and_is_not_kept():
    html = option_tags(ZONES, "Mars/Olympus", "Any")
    assert _selected(html) == []
    assert _selected(option_tags(ZONES, "UTC", "Any")) == ["UTC"]


def test_labels_and_values_are_escaped_and_a_changed_short_list_is_read_again():
    choices = [("a&b", "<b>bold</b>"), ("c", "C")]
    html = option_tags(choices, "a&b")
    assert '<option value="a&amp;b" selected>&lt;b&gt;bold&lt;/b&gt;</option>' in html
    choices.append(("d", "D"))
    assert 'value="d"' in option_tags(choices, "c")
    assert _selected(option_tags(choices, "c")) == ["c"]
