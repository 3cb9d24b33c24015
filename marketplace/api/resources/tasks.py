"""Tasks: create (draft), update, publish, cancel, close, read, list mine, search; matches; invitations."""
from __future__ import annotations

from dataclasses import replace

from flask import current_app, request
from flask_smorest import Blueprint

from marketplace.api import paging
from marketplace.api.resources.common import actor
from marketplace.api.schemas import (CountSchema, InvitationInSchema, InvitationSchema, MatchSchema,
                                     TaskCardSchema, TaskInSchema, TaskPatchSchema, TaskSchema, TaskSearchArgs)
from marketplace.bidding import services as bidding
from marketplace.tasks import search, services

blp = Blueprint("Tasks", __name__, url_prefix="/api/v1", description="Tasks a business posts.")

LINK_TASK_ID = {"operationId": "getTask", "parameters": {"task_id": "$response.body#/id"}}


def _data(fields: dict, base: services.TaskData | None = None) -> services.TaskData:
    values = dict(fields)
    for name in ("required_skills", "nice_skills"):
        if name in values:
            values[name] = {row["skill_id"]: row["min_level"] for row in values[name]}
    if base is None:
        return services.TaskData(currency=current_app.config["DEFAULT_CURRENCY"], **values)
    return replace(base, **values)


@blp.route("/tasks", methods=["POST"])
@blp.arguments(TaskInSchema)
@blp.response(201, TaskSchema, description="The new draft.")
@blp.doc(operationId="createTask", responses={201: {"links": {
    "GetTask": LINK_TASK_ID,
    "PublishTask": {"operationId": "publishTask", "parameters": {"task_id": "$response.body#/id"}}}}})
def create_task(fields):
    """Create a task as a draft (publish it with /tasks/{task_id}/publish)."""
    return services.create_task(actor(), _data(fields))


@blp.route("/tasks", methods=["GET"])
@blp.arguments(TaskSearchArgs, location="query")
@blp.response(200, paging.envelope(TaskCardSchema))
@blp.doc(operationId="searchTasks")
def search_tasks(args):
    """Search open tasks with the filters and sorts of the /tasks page (values that don't fit are ignored)."""
    params = search.parse_query(request.args)
    page_number = paging.decode(args["cursor"]) or 1
    user = actor()
    if params.sort == "best" and user.is_freelancer:
        page = search.best_match_page(params, user, page_number, args["limit"])
    else:
        if params.sort == "best":
            params.sort = "newest"
        page = search.search_tasks(params, page=page_number, per_page=args["limit"])
    return {"data": page.items, "next_cursor": paging.encode(page_number + 1) if page.has_next else None}


@blp.route("/tasks/mine", methods=["GET"])
@blp.arguments(paging.PageArgs, location="query")
@blp.response(200, paging.envelope(TaskSchema))
@blp.doc(operationId="listMyTasks")
def my_tasks(args):
    """The business's own tasks, newest first."""
    return paging.page_of([task for task, _pending, _total in services.tasks_of(actor())], args)


@blp.route("/tasks/<int:task_id>", methods=["GET"])
@blp.response(200, TaskSchema)
@blp.doc(operationId="getTask")
def get_task(task_id: int):
    """A task you may see: open and approved, or your own."""
    return services.get_task_for(actor(), task_id)


@blp.route("/tasks/<int:task_id>", methods=["PATCH"])
@blp.arguments(TaskPatchSchema(partial=True))
@blp.response(200, TaskSchema)
@blp.doc(operationId="updateTask")
def update_task(fields, task_id: int):
    """Change some of a draft's or open task's terms (before anyone is hired)."""
    task = services.get_own_task(actor(), task_id)
    services.update_task(actor(), task, _data(fields, services.task_data_of(task)))
    return task


def _owner_action(task_id: int, action):
    task = services.get_own_task(actor(), task_id)
    result = action(actor(), task)
    return task, result


@blp.route("/tasks/<int:task_id>/publish", methods=["POST"])
@blp.response(200, TaskSchema, description="Published: open, or waiting for moderation "
                                           "(moderation_status pending_review).")
@blp.doc(operationId="publishTask", responses={200: {"links": {
    "ProposeOnTask": {"operationId": "createProposal", "parameters": {"task_id": "$response.body#/id"}}}}})
def publish_task(task_id: int):
    """Publish a draft. The risk screen may hold it for review, as on the site."""
    return _owner_action(task_id, services.publish_task)[0]


@blp.route("/tasks/<int:task_id>/cancel", methods=["POST"])
@blp.response(200, CountSchema)
@blp.doc(operationId="cancelTask")
def cancel_task(task_id: int):
    """Cancel a draft or open task nobody is hired on; pending proposals are declined."""
    return {"declined_proposals": _owner_action(task_id, services.cancel_task)[1]}


@blp.route("/tasks/<int:task_id>/close", methods=["POST"])
@blp.response(200, CountSchema)
@blp.doc(operationId="closeTask")
def close_task(task_id: int):
    """Stop hiring on a task with at least one hire; pending proposals are declined."""
    return {"declined_proposals": _owner_action(task_id, services.close_task)[1]}


@blp.route("/tasks/<int:task_id>/matches", methods=["GET"])
@blp.response(200, MatchSchema(many=True))
@blp.doc(operationId="listTaskMatches")
def task_matches(task_id: int):
    """The best-matching specialists for your task, each with its explanation."""
    from marketplace.matching.service import match_for_owner
    return match_for_owner(actor(), services.get_own_task(actor(), task_id))


@blp.route("/tasks/<int:task_id>/invitations", methods=["GET"])
@blp.arguments(paging.PageArgs, location="query")
@blp.response(200, paging.envelope(InvitationSchema))
@blp.doc(operationId="listTaskInvitations")
def task_invitations(args, task_id: int):
    """Invitations you sent for this task."""
    return paging.page_of(bidding.invitations_on(actor(), services.get_own_task(actor(), task_id)), args)


@blp.route("/tasks/<int:task_id>/invitations", methods=["POST"])
@blp.arguments(InvitationInSchema)
@blp.response(201, InvitationSchema)
@blp.doc(operationId="inviteSpecialist")
def invite(fields, task_id: int):
    """Invite a specialist to send a proposal on your published task."""
    task = services.get_own_task(actor(), task_id)
    return bidding.invite(actor(), task, fields["specialist_id"], fields["message"])
