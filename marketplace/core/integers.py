"""The one rule for integers that arrive as text: path ids, query arguments and form fields.

Two things used to turn a typed number into a 500: a value beyond what an INTEGER column
holds (PostgreSQL refuses it with NumericValueOutOfRange) and a string of thousands of
digits (Python refuses to convert more than 4,300). Every integer read from a request goes
through `parse_int`: plain ASCII digits only (`int()` also accepts "٣", "1_000" and
surrounding spaces), a bounded length, and a value within explicit bounds.
"""
from __future__ import annotations

MAX_INT = 2**31 - 1   # the largest value an INTEGER column holds on PostgreSQL
MIN_INT = -(2**31)
MAX_ID = MAX_INT
_MAX_DIGITS = 19      # significant digits; more is beyond any bound used here


class NotAnInteger(ValueError):
    """The text is not a whole number within the bounds; `str()` is a message for the user."""


def parse_int(raw: str | None, low: int = 0, high: int = MAX_INT, *, clamp: bool = False) -> int:
    """`raw` as an int within [low, high], or NotAnInteger.

    With `clamp`, a well-formed number outside the bounds is pulled to the nearest bound
    instead (page numbers and the like, where "too far" simply means "the last one").
    """
    if not isinstance(raw, str):
        raise NotAnInteger("Enter a whole number.")
    text = raw.strip()
    negative = text.startswith("-")
    digits = text[1:] if negative else text
    if not digits or not digits.isascii() or not digits.isdigit():
        raise NotAnInteger("Enter a whole number.")
    digits = digits.lstrip("0") or "0"
    # Checked before int(): converting thousands of digits costs CPU, and past 4,300 raises.
    if len(digits) > _MAX_DIGITS:
        value = low - 1 if negative else high + 1
    else:
        value = -int(digits) if negative else int(digits)
    if low <= value <= high:
        return value
    if clamp:
        return min(max(value, low), high)
    if value > high:
        raise NotAnInteger(f"Enter a number no larger than {high:,}.")
    raise NotAnInteger(f"Enter a number no smaller than {low:,}.")
