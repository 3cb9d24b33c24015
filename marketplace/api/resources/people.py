"""Who I am, public specialist profiles and the directory, the skill taxonomy."""
from __future__ import annotations

from flask import g, request
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from marketplace.api import paging
from marketplace.api.resources.common import actor
from marketplace.api.schemas import (BusinessProfilePatchSchema, BusinessProfileSchema, MeSchema, SkillSchema,
                                     SpecialistProfilePatchSchema, SpecialistProfileSchema,
                                     SpecialistSchema)
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


def _specialist_profile_out(profile) -> dict:
    return {"headline": profile.headline, "bio": profile.bio, "hourly_rate": profile.hourly_rate,
            "timezone": profile.timezone, "hours_per_week": profile.hours_per_week,
            "preferred_hours": profile.preferred_hours, "channels": sorted(c.channel for c in profile.channels),
            "skills": [{"skill_id": s.skill_id, "level": s.level} for s in profile.skills],
            "languages": [{"language": l.language, "proficiency": l.proficiency} for l in profile.languages]}


def _business_profile_out(profile) -> dict:
    return {"company_name": profile.company_name, "website": profile.website, "industry": profile.industry,
            "size": profile.size, "timezone": profile.timezone}


@blp.route("/me/specialist-profile", methods=["GET"])
@blp.response(200, SpecialistProfileSchema)
@blp.doc(operationId="getMySpecialistProfile")
def my_specialist_profile():
    return _specialist_profile_out(profiles.get_own_freelancer_profile(actor()))


@blp.route("/me/specialist-profile", methods=["PATCH"])
@blp.arguments(SpecialistProfilePatchSchema(partial=True))
@blp.response(200, SpecialistProfileSchema)
@blp.doc(operationId="updateMySpecialistProfile")
def update_my_specialist_profile(fields):
    profile = profiles.get_own_freelancer_profile(actor())
    current = _specialist_profile_out(profile) | fields
    data = profiles.FreelancerProfileData(
        headline=current["headline"], bio=current["bio"], hourly_rate=current["hourly_rate"],
        timezone=current["timezone"], hours_per_week=current["hours_per_week"],
        preferred_hours=current["preferred_hours"], channels=list(current["channels"]),
        skills={row["skill_id"]: row["level"] for row in current["skills"]},
        languages={row["language"]: row["proficiency"] for row in current["languages"]})
    profiles.update_freelancer_profile(actor(), profile, data)
    return _specialist_profile_out(profile)


@blp.route("/me/business-profile", methods=["GET"])
@blp.response(200, BusinessProfileSchema)
@blp.doc(operationId="getMyBusinessProfile")
def my_business_profile():
    return _business_profile_out(profiles.get_own_business_profile(actor()))


@blp.route("/me/business-profile", methods=["PATCH"])
@blp.arguments(BusinessProfilePatchSchema(partial=True))
@blp.response(200, BusinessProfileSchema)
@blp.doc(operationId="updateMyBusinessProfile")
def update_my_business_profile(fields):
    profile = profiles.get_own_business_profile(actor())
    current = _business_profile_out(profile) | fields
    profiles.update_business_profile(actor(), profile, profiles.BusinessProfileData(**current))
    return _business_profile_out(profile)
