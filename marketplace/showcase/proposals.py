"""What a business compares proposals on: the person's photo, rating, empathy scores, match with the task.

A fixed number of queries whatever the number of proposals: matching's candidate loader (three)
and one for the conversation threads.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from marketplace.matching.scoring import score
from marketplace.matching.service import load_candidates
from marketplace.messaging.models import Thread
from marketplace.extensions import db
from marketplace.reviews.services import bayesian_rating


@dataclass
class ProposalFacts:
    rating: float | None        # the displayed (Bayesian) rating, None before the first review
    rating_count: int
    empathy: float | None       # average of the empathy dimensions, 1-5
    match_percent: int
    thread_id: int | None


def compare(task, bids) -> dict[int, ProposalFacts]:
    """bid id -> the figures its card shows."""
    freelancer_ids = sorted({bid.freelancer_id for bid in bids})
    if not freelancer_ids:
        return {}
    candidates = {c.user_id: c for c in load_candidates(freelancer_ids)}
    # Every proposal opened a thread (bidding calls get_or_create_thread).
    threads = dict(db.session.execute(select(Thread.freelancer_id, Thread.id)
                                      .where(Thread.task_id == task.id, Thread.freelancer_id.in_(freelancer_ids))).all())
    config = current_app.config
    facts = {}
    for bid in bids:
        candidate = candidates.get(bid.freelancer_id)
        if candidate is None:      # no specialist profile row (should not happen): show the bid plainly
            facts[bid.id] = ProposalFacts(None, 0, None, 0, threads.get(bid.freelancer_id))
            continue
        match = score(task, candidate, config)
        facts[bid.id] = ProposalFacts(
            rating=bayesian_rating(candidate.rating_sum, candidate.rating_count) if candidate.rating_count else None,
            rating_count=candidate.rating_count,
            empathy=candidate.empathy_sum / candidate.empathy_count if candidate.empathy_count else None,
            match_percent=round(match.score * 100), thread_id=threads.get(bid.freelancer_id))
    return facts
