"""The one map from a moderation target type to its model (a profile's id is its user's id)."""
from __future__ import annotations


def model_for(target_type: str):
    if target_type == "task":
        from marketplace.tasks.models import Task
        return Task
    if target_type == "bid":
        from marketplace.bidding.models import Bid
        return Bid
    if target_type == "message":
        from marketplace.messaging.models import Message
        return Message
    if target_type == "review":
        from marketplace.reviews.models import Review
        return Review
    if target_type == "profile":
        from marketplace.accounts.models import User
        return User
    raise ValueError(f"unknown moderation target type {target_type!r}")
