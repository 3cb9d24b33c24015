"""Review services. (Placeholder: being built.)"""
from __future__ import annotations


def reveal_due(now=None) -> int:
    """Reveal reviews whose double-blind window has passed; returns how many were revealed."""
    return 0
