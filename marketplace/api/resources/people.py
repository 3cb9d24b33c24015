"""Who I am, public specialist profiles and the directory, the skill taxonomy."""
from __future__ import annotations

from flask import g, request
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from marketplace.api import paging
from marketplace.api.resources.common import actor
from marketplace.api.schemas import MeSchema, SkillSchema, SpecialistSchema
from marketplace.profiles import directory
from marketplace.profiles import services as profiles

blp = Blueprint("People", __name__, url_prefix="/api/v1", description="Accounts, specialists and skills.")


class DirectoryArgs(Schema):
    """The filters of the /freelancers directory page; values that don't fit are ignored there too."""
    skill = fields.String(validate=validate.Length(max=80))
    min_level = fields.Integer(validate=validate.Range(1, 5))
    language = fields.String(validate=validate.Length(max=8))
    channel = fields.String(validate=validate.Length(max=10))
    rate_max = fields.Integer(validate=validate.Range(1, 1_000_000), metadata={"description": "Major units."})
    min_rating = fields.String(validate=validate.Length(max=5))
    sort = fields.String(validate=validate.OneOf(["recent", "rating"]))
    limit = fields.Integer(load_default=20, validate=validate.Range(1, 100))
    cursor = fields.String(load_default=None, validate=validate.Length(max=100))


class SpecialistCardSchema(Schema):
    id = fields.Integer(attribute="user_id", required=True)
    name = fields.String(attribute="full_name", required=True)
    headline = fields.String(required=True)
    hourly_rate = fields.Integer(allow_none=True, required=True)
    currency = fields.String(required=True)
    timezone = fields.String(required=True)
    rating_count = fields.Integer(required=True)


@blp.route("/me", methods=["GET"])
@blp.response(200, MeSchema)
@blp.doc(operationId="getMe")
def me():
    user = actor()
    return {"id": user.id, "full_name": user.full_name, "email": user.email, "role": user.role.value,
            "token_scopes": g.api_token.scope_list}


@blp.route("/skills", methods=["GET"])
@blp.response(200, SkillSchema(many=True))
@blp.doc(operationId="listSkills")
def skills():
    """The skill taxonomy (ids are what tasks' required_skills take)."""
    return profiles.all_skills()


@blp.route("/specialists", methods=["GET"])
@blp.arguments(DirectoryArgs, location="query")
@blp.response(200, paging.envelope(SpecialistCardSchema))
@blp.doc(operationId="searchSpecialists")
def search_specialists(args):
    """The specialist directory, with the filters of the /freelancers page."""
    page_number = paging.decode(args["cursor"]) or 1
    page = directory.search_freelancers(directory.parse_query(request.args), page_number, args["limit"])
    return {"data": page.items, "next_cursor": paging.encode(page_number + 1) if page.has_next else None}


@blp.route("/specialists/<int:specialist_id>", methods=["GET"])
@blp.response(200, SpecialistSchema)
@blp.doc(operationId="getSpecialist")
def get_specialist(specialist_id: int):
    return profiles.get_public_freelancer(specialist_id)
