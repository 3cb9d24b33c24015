"""Plain-text helpers shared by forms, services and mail."""
from __future__ import annotations

import re

# Line breaks of every kind (\r, \n, \v, \f, NEL, Unicode line and paragraph separators), tabs and the
# other control characters: none of them belongs in a value shown on one line (a title, a name, a mail
# subject), and a line break there splits a mail header.
_BREAKS_AND_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_SPACES = re.compile(r"\s+")


def one_line(value: str | None) -> str:
    """`value` on a single line: controls and line breaks become spaces, runs of spaces collapse."""
    if not value:
        return ""
    return _SPACES.sub(" ", _BREAKS_AND_CONTROLS.sub(" ", value)).strip()


def excerpt(value: str | None, limit: int) -> str:
    """`value` on one line, at most `limit` characters: cut at the last word boundary that fits, with an
    ellipsis, so a quoted cover note or message never ends mid-word."""
    flat = one_line(value)
    if len(flat) <= limit:
        return flat
    cut = flat[:limit - 1]
    if flat[limit - 1] != " " and " " in cut:
        cut = cut[:cut.rindex(" ")]
    return cut.rstrip(" ,;:.-–—") + "…"
