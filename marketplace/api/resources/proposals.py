"""Proposals (bids) and invitations: the specialist's side and the business's answers."""
from __future__ import annotations

from flask_smorest import Blueprint

from marketplace.api import paging
from marketplace.api.resources.common import actor
from marketplace.api.schemas import (AcceptInSchema, AnswerInSchema, DeclineInSchema, EngagementSchema,
                                     InvitationSchema, ProposalInSchema, ProposalSchema, ShortlistInSchema)
from marketplace.bidding import services as bidding
from marketplace.engagements.hiring import accept_bid
from marketplace.tasks import services as tasks

blp = Blueprint("Proposals", __name__, url_prefix="/api/v1",
                description="Proposals specialists send, and invitations.")


class ProposalPatchSchema(ProposalInSchema):
    """Any subset of the proposal's terms (used with partial=True)."""


@blp.route("/tasks/<int:task_id>/proposals", methods=["POST"])
@blp.arguments(ProposalInSchema)
@blp.response(201, ProposalSchema)
@blp.doc(operationId="createProposal", responses={201: {"links": {
    "AcceptProposal": {"operationId": "acceptProposal", "parameters": {"proposal_id": "$response.body#/id"}},
    "GetProposal": {"operationId": "getProposal", "parameters": {"proposal_id": "$response.body#/id"}}}}})
def create_proposal(fields, task_id: int):
    """Send a proposal on an open task (the risk screen may hold it for review)."""
    task = tasks.get_task_for(actor(), task_id)
    return bidding.place_bid(actor(), task, **fields)


@blp.route("/tasks/<int:task_id>/proposals", methods=["GET"])
@blp.arguments(paging.PageArgs, location="query")
@blp.response(200, paging.envelope(ProposalSchema))
@blp.doc(operationId="listTaskProposals")
def task_proposals(args, task_id: int):
    """Proposals on your task: shortlisted first, then pending, cheapest, earliest."""
    task = tasks.get_own_task(actor(), task_id)
    return paging.page_of(bidding.bids_for_task(actor(), task), args)


@blp.route("/proposals", methods=["GET"])
@blp.arguments(paging.PageArgs, location="query")
@blp.response(200, paging.envelope(ProposalSchema))
@blp.doc(operationId="listMyProposals")
def my_proposals(args):
    """Your proposals (specialists), newest first."""
    return paging.page_of(bidding.bids_of(actor()), args)


@blp.route("/proposals/<int:proposal_id>", methods=["GET"])
@blp.response(200, ProposalSchema)
@blp.doc(operationId="getProposal")
def get_proposal(proposal_id: int):
    return bidding.get_bid_for(actor(), proposal_id)


@blp.route("/proposals/<int:proposal_id>", methods=["PATCH"])
@blp.arguments(ProposalPatchSchema(partial=True))
@blp.response(200, ProposalSchema)
@blp.doc(operationId="updateProposal")
def update_proposal(fields, proposal_id: int):
    """Change your pending proposal's terms."""
    bid = bidding.get_bid_for(actor(), proposal_id)
    terms = {"amount": bid.amount, "estimated_hours": bid.estimated_hours, "cover_note": bid.cover_note,
             "availability_note": bid.availability_note} | fields
    bidding.edit_bid(actor(), bid, **terms)
    return bid


@blp.route("/proposals/<int:proposal_id>/withdraw", methods=["POST"])
@blp.response(200, ProposalSchema)
@blp.doc(operationId="withdrawProposal")
def withdraw(proposal_id: int):
    bid = bidding.get_bid_for(actor(), proposal_id)
    bidding.withdraw_bid(actor(), bid)
    return bid


@blp.route("/proposals/<int:proposal_id>/shortlist", methods=["POST"])
@blp.arguments(ShortlistInSchema)
@blp.response(200, ProposalSchema)
@blp.doc(operationId="shortlistProposal")
def shortlist(fields, proposal_id: int):
    bid = bidding.get_bid_for(actor(), proposal_id)
    bidding.shortlist_bid(actor(), bid, fields["shortlisted"])
    return bid


@blp.route("/proposals/<int:proposal_id>/decline", methods=["POST"])
@blp.arguments(DeclineInSchema)
@blp.response(200, ProposalSchema)
@blp.doc(operationId="declineProposal")
def decline(fields, proposal_id: int):
    bid = bidding.get_bid_for(actor(), proposal_id)
    bidding.decline_bid(actor(), bid, fields["note"])
    return bid


@blp.route("/proposals/<int:proposal_id>/accept", methods=["POST"])
@blp.arguments(AcceptInSchema)
@blp.response(201, EngagementSchema, description="Hired: the first milestone of the new contract, "
                                                 "awaiting funding.")
@blp.doc(operationId="acceptProposal", responses={201: {"links": {
    "GetEngagement": {"operationId": "getEngagement", "parameters": {"engagement_id": "$response.body#/id"}}}}})
def accept(fields, proposal_id: int):
    """Hire on a proposal. Pass the terms you saw: if the specialist changed them since, you get 409."""
    bid = bidding.get_bid_for(actor(), proposal_id)
    return accept_bid(actor(), bid, fields["seen_amount"], fields["seen_hours"])


@blp.route("/invitations", methods=["GET"])
@blp.arguments(paging.PageArgs, location="query")
@blp.response(200, paging.envelope(InvitationSchema))
@blp.doc(operationId="listMyInvitations")
def my_invitations(args):
    """Invitations you received (specialists), newest first."""
    return paging.page_of(bidding.invitations_of(actor()), args)


@blp.route("/invitations/<int:invitation_id>/answer", methods=["POST"])
@blp.arguments(AnswerInSchema)
@blp.response(200, InvitationSchema)
@blp.doc(operationId="answerInvitation")
def answer(fields, invitation_id: int):
    invitation = bidding.get_invitation_for(actor(), invitation_id)
    bidding.answer_invitation(actor(), invitation, fields["accept"])
    return invitation
