"""Contracts, their engagements (milestones) and time entries."""
from __future__ import annotations

from flask_smorest import Blueprint

from marketplace.api import paging
from marketplace.api.resources.common import actor
from marketplace.api.schemas import (ContractSchema, EngagementSchema, NoteInSchema, ReasonInSchema,
                                     RequiredReasonInSchema, ReviewInSchema, ReviewSchema, TimeEntrySchema)
from marketplace.contracts import services as contracts
from marketplace.core.queue import enqueue
from marketplace.engagements import services as engagements
from marketplace.engagements import transitions
from marketplace.timesheets import services as timesheets

blp = Blueprint("Contracts", __name__, url_prefix="/api/v1",
                description="Contracts, engagements (milestones), time entries and reviews.")


@blp.route("/contracts", methods=["GET"])
@blp.arguments(paging.PageArgs, location="query")
@blp.response(200, paging.envelope(ContractSchema))
@blp.doc(operationId="listContracts")
def list_contracts(args):
    return paging.page_of(contracts.contracts_of(actor()), args)


@blp.route("/contracts/<int:contract_id>", methods=["GET"])
@blp.response(200, ContractSchema)
@blp.doc(operationId="getContract")
def get_contract(contract_id: int):
    return contracts.get_contract_for(actor(), contract_id)


@blp.route("/contracts/<int:contract_id>/time-entries", methods=["GET"])
@blp.arguments(paging.PageArgs, location="query")
@blp.response(200, paging.envelope(TimeEntrySchema))
@blp.doc(operationId="listTimeEntries")
def time_entries(args, contract_id: int):
    """Time logged on an hourly contract, newest first (empty for fixed-price contracts)."""
    return paging.page_of(timesheets.entries_of(timesheets.get_contract_for(actor(), contract_id)), args)


@blp.route("/engagements", methods=["GET"])
@blp.arguments(paging.PageArgs, location="query")
@blp.response(200, paging.envelope(EngagementSchema))
@blp.doc(operationId="listEngagements")
def list_engagements(args):
    return paging.page_of(engagements.engagements_of(actor()), args)


@blp.route("/engagements/<int:engagement_id>", methods=["GET"])
@blp.response(200, EngagementSchema)
@blp.doc(operationId="getEngagement")
def get_engagement(engagement_id: int):
    """One engagement; `funding_url` is the page where the business pays (on Stripe's page)."""
    return engagements.get_engagement_for(actor(), engagement_id)


def _engagement(engagement_id: int):
    return engagements.get_engagement_for(actor(), engagement_id)


def _execute_payments(engagement_id: int) -> None:
    """The refund or payout the change made due goes out after the commit, as from the pages."""
    enqueue("payments.engagement", engagement_id=engagement_id)


@blp.route("/engagements/<int:engagement_id>/deliver", methods=["POST"])
@blp.arguments(NoteInSchema)
@blp.response(200, EngagementSchema)
@blp.doc(operationId="deliverEngagement")
def deliver(fields, engagement_id: int):
    engagement = _engagement(engagement_id)
    transitions.deliver(actor(), engagement, fields["note"])
    return engagement


@blp.route("/engagements/<int:engagement_id>/request-changes", methods=["POST"])
@blp.arguments(NoteInSchema)
@blp.response(200, EngagementSchema)
@blp.doc(operationId="requestChanges")
def request_changes(fields, engagement_id: int):
    engagement = _engagement(engagement_id)
    transitions.request_changes(actor(), engagement, fields["note"])
    return engagement


@blp.route("/engagements/<int:engagement_id>/approve", methods=["POST"])
@blp.response(200, EngagementSchema)
@blp.doc(operationId="approveEngagement")
def approve(engagement_id: int):
    """Approve the delivery: the held money is released to the specialist."""
    engagement = _engagement(engagement_id)
    transitions.approve(actor(), engagement)
    _execute_payments(engagement.id)
    return engagement


@blp.route("/engagements/<int:engagement_id>/cancel", methods=["POST"])
@blp.arguments(ReasonInSchema)
@blp.response(200, EngagementSchema)
@blp.doc(operationId="cancelEngagement")
def cancel(fields, engagement_id: int):
    engagement = _engagement(engagement_id)
    transitions.cancel(actor(), engagement, fields["reason"])
    _execute_payments(engagement.id)
    return engagement


@blp.route("/engagements/<int:engagement_id>/dispute", methods=["POST"])
@blp.arguments(RequiredReasonInSchema)
@blp.response(200, EngagementSchema)
@blp.doc(operationId="disputeEngagement")
def dispute(fields, engagement_id: int):
    engagement = _engagement(engagement_id)
    transitions.open_dispute(actor(), engagement, fields["reason"])
    return engagement


@blp.route("/engagements/<int:engagement_id>/reviews", methods=["POST"])
@blp.arguments(ReviewInSchema)
@blp.response(201, ReviewSchema, description="Your review; hidden from the other side until both have "
                                             "written or the review window closes.")
@blp.doc(operationId="writeReview")
def write_review(fields, engagement_id: int):
    from marketplace.reviews import services as reviews
    data = reviews.ReviewData(stars=fields["stars"], public_comment=fields["public_comment"],
                              private_feedback=fields["private_feedback"], dimensions=fields["dimensions"])
    return reviews.submit_review(actor(), _engagement(engagement_id), data)


@blp.route("/reviews/<int:review_id>", methods=["GET"])
@blp.response(200, ReviewSchema)
@blp.doc(operationId="getReview")
def get_review(review_id: int):
    """A revealed review (or your own)."""
    from marketplace.reviews import services as reviews
    return reviews.visible_review(actor(), review_id)
