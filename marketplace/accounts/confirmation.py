"""Acting on the marketplace needs a confirmed email address.

Anyone may sign up, browse and fill in a profile; sending proposals, posting or publishing
tasks, inviting, hiring and messaging wait until the address is confirmed, so every party
to a deal can be reached and a throwaway address can't spam businesses or specialists.
The rule lives here; services call `require_confirmed_email` before they act, and pages
show the prompt with a resend button (templates/accounts/_confirm_prompt.html).
"""
from __future__ import annotations

from marketplace.core.errors import Forbidden


class EmailNotConfirmed(Forbidden):
    """The actor hasn't confirmed their email address yet."""


def confirmation_refusal(user, doing: str) -> str | None:
    """Why `user` may not do `doing` ("send proposals") yet, or None once the address is confirmed."""
    if user is None or getattr(user, "is_verified", True):
        return None
    return (f"Confirm your email address before you {doing}: open the link we sent to {user.email}, "
            "or ask for a new one.")


def require_confirmed_email(user, doing: str) -> None:
    refusal = confirmation_refusal(user, doing)
    if refusal:
        raise EmailNotConfirmed(refusal)
