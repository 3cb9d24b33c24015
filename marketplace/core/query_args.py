"""Reading filters from a query string: bad values are dropped with a message, never a 500."""
from __future__ import annotations

from collections.abc import Callable, Container

from marketplace.core.integers import MAX_INT, parse_int
from marketplace.core.money import parse_major


class QueryArgs:
    def __init__(self, args):
        self.args = args
        self.errors: list[str] = []

    def text(self, name: str, limit: int = 200) -> str:
        return (self.args.get(name) or "").strip()[:limit]

    def choice(self, name: str, allowed: Container[str] | Callable[[str], bool], label: str | None = None) -> str:
        """The value if it is one of `allowed` (a container or a predicate), else "" and a message."""
        value = self.text(name)
        if not value:
            return ""
        ok = allowed(value) if callable(allowed) else value in allowed
        if not ok:
            self.errors.append(f"Unknown {label or name} ignored.")
            return ""
        return value

    def amount(self, name: str, low: int, high: int, message: str) -> int | None:
        """A money amount in major units, returned in minor units if within [low, high]."""
        raw = self.text(name)
        if not raw:
            return None
        try:
            value = parse_major(raw)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            self.errors.append(message)
            return None
        return value

    def integer(self, name: str, low: int = 0, high: int = MAX_INT, message: str | None = None) -> int | None:
        """A whole number within [low, high] (the app's one integer rule), else None and a message."""
        raw = self.text(name, limit=100)
        if not raw:
            return None
        try:
            return parse_int(raw, low, high)
        except ValueError as error:
            self.errors.append(message or f"{name}: {error}")
            return None
