"""The API's operations, one module per area of the marketplace."""
from __future__ import annotations


def blueprints():
    from marketplace.api.resources import contracts, conversations, people, proposals, tasks
    return [tasks.blp, proposals.blp, contracts.blp, conversations.blp, people.blp]
