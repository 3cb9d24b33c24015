"""The cached <option> lists of the filter forms and long menus (core/options.py)."""
from __future__ import annotations

import pytest

from marketplace.core import options
from marketplace.core.options import option_tags
from marketplace.core.time import TIMEZONE_CHOICES

ZONES = TIMEZONE_CHOICES


@pytest.fixture(autouse=True)
def empty_cache():
    options._BY_SOURCE.clear()
    yield
    options._BY_SOURCE.clear()


def _selected(html: str) -> list[str]:
    return [part.split('"')[1] for part in html.split("<option")[1:] if "selected>" in part]


def _menus(choices) -> dict:
    return options._BY_SOURCE[id(choices)][2]


def test_a_long_list_marks_only_the_chosen_value_each_time():
    first = option_tags(ZONES, "Europe/Madrid", "Any time zone")
    assert _selected(first) == ["Europe/Madrid"]
    assert first.startswith('<option value="">Any time zone</option>')
    assert first.count("<option") == len(ZONES) + 1
    assert list(_menus(ZONES)) == [("Europe/Madrid", "Any time zone")]
    # Asked again: the same finished menu; another choice, or none, is another menu.
    assert option_tags(ZONES, "Europe/Madrid", "Any time zone") is first
    assert _selected(option_tags(ZONES, "Asia/Tokyo", "Any time zone")) == ["Asia/Tokyo"]
    assert _selected(option_tags(ZONES, "", "Any time zone")) == []
    assert _selected(option_tags(ZONES, None, "Any time zone")) == []
    # The same list without the "any" option is another menu.
    assert not option_tags(ZONES, "Europe/Madrid").startswith('<option value="">')
    assert len(_menus(ZONES)) == 4


def test_an_unknown_value_selects_nothing_and_is_not_kept():
    html = option_tags(ZONES, "Mars/Olympus", "Any")
    assert _selected(html) == []
    assert ("Mars/Olympus", "Any") not in _menus(ZONES)
    assert _selected(option_tags(ZONES, "UTC", "Any")) == ["UTC"]


def test_lists_and_menus_kept_are_bounded():
    for i in range(options._MENUS + 10):
        option_tags(ZONES, ZONES[i][0])
    assert len(_menus(ZONES)) == options._MENUS
    # The oldest menus went first; the newest stays.
    assert (ZONES[0][0], None) not in _menus(ZONES) and (ZONES[options._MENUS + 9][0], None) in _menus(ZONES)
    lists = [[(str(n), f"Item {n}") for n in range(30)] for _ in range(options._SOURCES + 5)]
    for choices in lists:
        option_tags(choices, "3")
    assert len(options._BY_SOURCE) == options._SOURCES
    assert id(lists[-1]) in options._BY_SOURCE and id(ZONES) not in options._BY_SOURCE


def test_labels_and_values_are_escaped_and_a_changed_short_list_is_read_again():
    choices = [("a&b", "<b>bold</b>"), ("c", "C")]
    html = option_tags(choices, "a&b")
    assert '<option value="a&amp;b" selected>&lt;b&gt;bold&lt;/b&gt;</option>' in html
    choices.append(("d", "D"))
    assert 'value="d"' in option_tags(choices, "c")
    assert _selected(option_tags(choices, "c")) == ["c"]


def test_the_task_form_offers_the_process_list_of_time_zones(app):
    from marketplace.tasks.forms import TaskForm
    with app.test_request_context("/tasks/new"):
        assert TaskForm().timezone.choices is TIMEZONE_CHOICES
