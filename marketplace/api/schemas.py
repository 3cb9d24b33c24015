"""Marshmallow schemas of the API: the shape of requests and responses only (rules live in services)."""
from __future__ import annotations

from datetime import timezone

from marshmallow import Schema, fields, validate

from marketplace.bidding.models import BidStatus, InvitationStatus
from marketplace.contracts.models import ContractKind, ContractStatus
from marketplace.core.reference import CHANNELS, LANGUAGES
from marketplace.engagements.models import EngagementStatus
from marketplace.tasks.models import HiringMode, ModerationStatus, Pricing, TaskStatus

MAX_MONEY = 1_000_000_000   # minor units; the services apply the real limits
MAX_ID = 2_147_483_647
Id = lambda **kw: fields.Integer(validate=validate.Range(1, MAX_ID), **kw)  # noqa: E731


class UtcDateTime(fields.DateTime):
    """An instant in RFC 3339 with its offset: stored times are UTC (SQLite hands them back naive)."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return super()._serialize(value, attr, obj, **kwargs)


class StrictSchema(Schema):
    class Meta:
        ordered = True


# --- errors --------------------------------------------------------------------------------

class FieldErrorSchema(Schema):
    field = fields.String(allow_none=True)
    detail = fields.String(required=True)


class ProblemSchema(Schema):
    """application/problem+json (RFC 9457)."""
    type = fields.String(required=True, metadata={"example": "/api/v1/problems/not-found"})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    errors = fields.List(fields.Nested(FieldErrorSchema))


# --- tasks -------------------------------------------------------------------------------------

class SkillLevelSchema(StrictSchema):
    skill_id = Id(required=True)
    min_level = fields.Integer(required=True, validate=validate.Range(1, 5))


class TaskInSchema(StrictSchema):
    """A task as the business writes it. Money in minor units (cents)."""
    title = fields.String(required=True, validate=validate.Length(1, 120))
    description = fields.String(required=True, validate=validate.Length(1, 8000))
    channel = fields.String(required=True, validate=validate.OneOf(list(CHANNELS)))
    languages = fields.List(fields.String(validate=validate.OneOf(list(LANGUAGES))), required=True,
                            validate=validate.Length(1, 10))
    timezone = fields.String(load_default="UTC", validate=validate.Length(1, 64))
    work_hours_start = fields.Integer(load_default=9, validate=validate.Range(0, 23))
    work_hours_end = fields.Integer(load_default=17, validate=validate.Range(1, 24))
    start_date = fields.Date(required=True)
    end_date = fields.Date(required=True)
    pricing = fields.String(required=True, validate=validate.OneOf([p.value for p in Pricing]))
    budget = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(0, MAX_MONEY))
    max_rate = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(0, MAX_MONEY))
    estimated_hours = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(0, 100_000))
    seats = fields.Integer(load_default=1, validate=validate.Range(1, 1000))
    hiring_mode = fields.String(load_default="open", validate=validate.OneOf([m.value for m in HiringMode]))
    required_skills = fields.List(fields.Nested(SkillLevelSchema), required=True, validate=validate.Length(1, 20))
    nice_skills = fields.List(fields.Nested(SkillLevelSchema), load_default=list, validate=validate.Length(0, 20))


class TaskPatchSchema(TaskInSchema):
    """Any subset of the task's fields; the rest stay as they are (used with partial=True)."""


class TaskSkillOutSchema(Schema):
    skill_id = fields.Integer(required=True)
    name = fields.Function(lambda ts: ts.skill.name, required=True, metadata={"type": "string"})
    min_level = fields.Integer(required=True)
    required = fields.Boolean(required=True)


class TaskSchema(Schema):
    id = fields.Integer(required=True)
    business_id = fields.Integer(required=True)
    title = fields.String(required=True)
    description = fields.String(required=True)
    channel = fields.String(required=True)
    languages = fields.List(fields.String(), attribute="language_codes", required=True)
    timezone = fields.String(required=True)
    work_hours_start = fields.Integer(required=True)
    work_hours_end = fields.Integer(required=True)
    start_date = fields.Date(required=True)
    end_date = fields.Date(required=True)
    pricing = fields.Enum(Pricing, by_value=True, required=True)
    currency = fields.String(required=True)
    budget = fields.Integer(allow_none=True, required=True)
    max_rate = fields.Integer(allow_none=True, required=True)
    estimated_hours = fields.Integer(allow_none=True, required=True)
    seats = fields.Integer(required=True)
    filled_seats = fields.Integer(required=True)
    hiring_mode = fields.Enum(HiringMode, by_value=True, required=True)
    status = fields.Enum(TaskStatus, by_value=True, required=True)
    moderation_status = fields.Enum(ModerationStatus, by_value=True, required=True)
    skills = fields.List(fields.Nested(TaskSkillOutSchema), required=True)
    created_at = UtcDateTime(required=True)
    published_at = UtcDateTime(allow_none=True, required=True)


class TaskCardSchema(Schema):
    """An open task as listed in the search."""
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    description = fields.String(required=True, metadata={"description": "The first characters."})
    channel = fields.String(required=True)
    timezone = fields.String(required=True)
    start_date = fields.Date(required=True)
    pricing = fields.Enum(Pricing, by_value=True, required=True)
    currency = fields.String(required=True)
    budget = fields.Integer(allow_none=True, required=True)
    max_rate = fields.Integer(allow_none=True, required=True)
    estimated_hours = fields.Integer(allow_none=True, required=True)
    seats = fields.Integer(required=True)
    filled_seats = fields.Integer(required=True)
    business_name = fields.String(required=True)
    languages = fields.List(fields.String(), attribute="language_codes", required=True)


class TaskSearchArgs(Schema):
    """The same filters and sorts as the /tasks page; values that don't fit are ignored there too."""
    q = fields.String(validate=validate.Length(max=200))
    skill = fields.String(validate=validate.Length(max=80), metadata={"description": "A skill slug."})
    language = fields.String(validate=validate.Length(max=8))
    channel = fields.String(validate=validate.Length(max=10))
    pricing = fields.String(validate=validate.OneOf([p.value for p in Pricing]))
    budget_min = fields.Integer(validate=validate.Range(0, 10_000_000), metadata={"description": "Major units."})
    budget_max = fields.Integer(validate=validate.Range(0, 10_000_000), metadata={"description": "Major units."})
    timezone = fields.String(validate=validate.Length(max=64))
    sort = fields.String(validate=validate.OneOf(["newest", "budget", "best"]),
                         metadata={"description": "best: ranked for the calling specialist (newest for others)."})
    limit = fields.Integer(load_default=20, validate=validate.Range(1, 100))
    cursor = fields.String(load_default=None, validate=validate.Length(max=100))


class CountSchema(Schema):
    declined_proposals = fields.Integer(required=True)


# --- matching, proposals, invitations ---------------------------------------------------------

class MatchSchema(Schema):
    specialist_id = fields.Function(lambda m: m.candidate.user_id, required=True, metadata={"type": "integer"})
    name = fields.Function(lambda m: m.profile.user.full_name if m.profile else "", required=True,
                           metadata={"type": "string"})
    score = fields.Float(required=True)
    explanation = fields.String(required=True)
    reasons = fields.List(fields.String(), required=True)


class ProposalInSchema(StrictSchema):
    amount = fields.Integer(required=True, validate=validate.Range(1, MAX_MONEY),
                            metadata={"description": "Fixed: the total; hourly: the rate. Minor units."})
    estimated_hours = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(1, 100_000))
    cover_note = fields.String(required=True, validate=validate.Length(1, 5000))
    availability_note = fields.String(load_default="", validate=validate.Length(0, 300))


class ProposalSchema(Schema):
    id = fields.Integer(required=True)
    task_id = fields.Integer(required=True)
    specialist_id = fields.Integer(attribute="freelancer_id", required=True)
    amount = fields.Integer(required=True)
    estimated_hours = fields.Integer(allow_none=True, required=True)
    cover_note = fields.String(required=True)
    availability_note = fields.String(required=True)
    status = fields.Enum(BidStatus, by_value=True, required=True)
    shortlisted = fields.Boolean(required=True)
    moderation_status = fields.Enum(ModerationStatus, by_value=True, required=True)
    created_at = UtcDateTime(required=True)


class DeclineInSchema(StrictSchema):
    note = fields.String(load_default="", validate=validate.Length(0, 500))


class ShortlistInSchema(StrictSchema):
    shortlisted = fields.Boolean(load_default=True)


class AcceptInSchema(StrictSchema):
    """The terms the business saw; if the specialist changed them since, nothing happens (409)."""
    seen_amount = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(1, MAX_MONEY))
    seen_hours = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(1, 100_000))


class InvitationInSchema(StrictSchema):
    specialist_id = Id(required=True)
    message = fields.String(load_default="", validate=validate.Length(0, 2000))


class InvitationSchema(Schema):
    id = fields.Integer(required=True)
    task_id = fields.Integer(required=True)
    specialist_id = fields.Integer(attribute="freelancer_id", required=True)
    message = fields.String(required=True)
    status = fields.Enum(InvitationStatus, by_value=True, required=True)
    created_at = UtcDateTime(required=True)
    answered_at = UtcDateTime(allow_none=True, required=True)


class AnswerInSchema(StrictSchema):
    accept = fields.Boolean(required=True)


# --- contracts, engagements, time entries --------------------------------------------------------

class EngagementSchema(Schema):
    id = fields.Integer(required=True)
    contract_id = fields.Integer(required=True)
    task_id = fields.Integer(required=True)
    title = fields.String(required=True)
    business_id = fields.Integer(required=True)
    specialist_id = fields.Integer(attribute="freelancer_id", required=True)
    amount = fields.Integer(required=True)
    currency = fields.String(required=True)
    fee_amount = fields.Integer(required=True)
    payout_amount = fields.Integer(required=True)
    status = fields.Enum(EngagementStatus, by_value=True, required=True)
    due_on = fields.Date(allow_none=True, required=True)
    funded_at = UtcDateTime(allow_none=True, required=True)
    delivered_at = UtcDateTime(allow_none=True, required=True)
    delivery_note = fields.String(required=True)
    completed_at = UtcDateTime(allow_none=True, required=True)
    funding_url = fields.Method("_funding_url", required=True, allow_none=True,
                                metadata={"type": "string", "nullable": True,
                                          "description": "Where the business pays (Stripe's page opens "
                                                         "from there); null once funded."})

    def _funding_url(self, engagement):
        from marketplace.core.urls import public_url
        if engagement.status != EngagementStatus.AWAITING_FUNDING:
            return None
        return public_url(f"/engagements/{engagement.id}")


class ContractSchema(Schema):
    id = fields.Integer(required=True)
    task_id = fields.Integer(required=True)
    business_id = fields.Integer(required=True)
    specialist_id = fields.Integer(attribute="freelancer_id", required=True)
    kind = fields.Enum(ContractKind, by_value=True, required=True)
    status = fields.Enum(ContractStatus, by_value=True, required=True)
    currency = fields.String(required=True)
    hourly_rate = fields.Integer(allow_none=True, required=True)
    weekly_limit_minutes = fields.Integer(allow_none=True, required=True)
    created_at = UtcDateTime(required=True)
    engagements = fields.List(fields.Nested(EngagementSchema), attribute="payables", required=True)


class NoteInSchema(StrictSchema):
    note = fields.String(required=True, validate=validate.Length(1, 5000))


class ReasonInSchema(StrictSchema):
    reason = fields.String(load_default="", validate=validate.Length(0, 5000))


class RequiredReasonInSchema(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(1, 5000))


class TimeEntrySchema(Schema):
    id = fields.Integer(required=True)
    contract_id = fields.Integer(required=True)
    started_at = UtcDateTime(required=True)
    ended_at = UtcDateTime(required=True)
    minutes = fields.Integer(required=True)
    memo = fields.String(required=True)


# --- messages, notifications ----------------------------------------------------------------------

class ThreadSchema(Schema):
    id = fields.Integer(required=True)
    task_id = fields.Integer(required=True)
    business_id = fields.Integer(required=True)
    specialist_id = fields.Integer(attribute="freelancer_id", required=True)
    engagement_id = fields.Integer(allow_none=True, required=True)
    last_message_at = UtcDateTime(allow_none=True, required=True)


class MessageSchema(Schema):
    id = fields.Integer(required=True)
    thread_id = fields.Integer(required=True)
    sender_id = fields.Integer(required=True)
    body = fields.String(required=True)
    created_at = UtcDateTime(required=True)
    moderation_status = fields.Enum(ModerationStatus, by_value=True, required=True)


class MessageInSchema(StrictSchema):
    body = fields.String(required=True, validate=validate.Length(1, 5000))


class NotificationSchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    title = fields.String(required=True)
    body = fields.String(required=True)
    link = fields.String(required=True)
    created_at = UtcDateTime(required=True)
    read_at = UtcDateTime(allow_none=True, required=True)


# --- people and skills -------------------------------------------------------------------------------

class SkillSchema(Schema):
    id = fields.Integer(required=True)
    slug = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.Function(lambda s: getattr(s.kind, "value", s.kind), required=True, metadata={"type": "string"})


class MeSchema(Schema):
    id = fields.Integer(required=True)
    full_name = fields.String(required=True)
    email = fields.String(required=True)
    role = fields.String(required=True, validate=validate.OneOf(["business", "freelancer"]))
    token_scopes = fields.List(fields.String(), required=True)


class SpecialistSchema(Schema):
    id = fields.Integer(attribute="user_id", required=True)
    name = fields.Function(lambda p: p.user.full_name, required=True, metadata={"type": "string"})
    headline = fields.String(required=True)
    bio = fields.String(required=True)
    hourly_rate = fields.Integer(allow_none=True, required=True)
    timezone = fields.String(required=True)
    rating_count = fields.Integer(required=True)
    completed_count = fields.Integer(required=True)


# --- reviews ------------------------------------------------------------------------------------------

class DimensionsSchema(StrictSchema):
    """Empathy scores 1-5: businesses score all five, specialists none."""
    listening = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(1, 5))
    acknowledging = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(1, 5))
    patience = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(1, 5))
    positive_language = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(1, 5))
    follow_through = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(1, 5))


class ReviewInSchema(StrictSchema):
    stars = fields.Integer(required=True, validate=validate.Range(1, 5))
    public_comment = fields.String(load_default="", validate=validate.Length(0, 5000))
    private_feedback = fields.String(load_default="", validate=validate.Length(0, 5000),
                                     metadata={"description": "For the platform only; never shown."})
    dimensions = fields.Nested(DimensionsSchema, load_default=dict)


class ReviewSchema(Schema):
    """A review as its reader may see it (private feedback is never part of it)."""
    id = fields.Integer(required=True)
    engagement_id = fields.Integer(required=True)
    author_id = fields.Integer(required=True)
    subject_id = fields.Integer(required=True)
    author_role = fields.String(required=True)
    stars = fields.Integer(required=True)
    listening = fields.Integer(allow_none=True, required=True)
    acknowledging = fields.Integer(allow_none=True, required=True)
    patience = fields.Integer(allow_none=True, required=True)
    positive_language = fields.Integer(allow_none=True, required=True)
    follow_through = fields.Integer(allow_none=True, required=True)
    public_comment = fields.String(required=True)
    created_at = UtcDateTime(required=True)
    revealed_at = UtcDateTime(allow_none=True, required=True)


# --- my profile ---------------------------------------------------------------------------------------

class ProfileSkillSchema(StrictSchema):
    skill_id = Id(required=True)
    level = fields.Integer(required=True, validate=validate.Range(1, 5))


class ProfileLanguageSchema(StrictSchema):
    language = fields.String(required=True, validate=validate.Length(2, 8))
    proficiency = fields.String(required=True, validate=validate.Length(1, 8),
                                metadata={"description": "A1..C2 or native."})


class SpecialistProfileSchema(StrictSchema):
    """The calling specialist's own profile; PATCH takes any subset. Money in minor units."""
    headline = fields.String(validate=validate.Length(0, 120))
    bio = fields.String(validate=validate.Length(0, 5000))
    hourly_rate = fields.Integer(allow_none=True, validate=validate.Range(0, MAX_MONEY))
    timezone = fields.String(validate=validate.Length(1, 64))
    hours_per_week = fields.Integer(validate=validate.Range(0, 168))
    preferred_hours = fields.String(validate=validate.Length(0, 120))
    channels = fields.List(fields.String(validate=validate.Length(1, 10)), validate=validate.Length(0, 10))
    skills = fields.List(fields.Nested(ProfileSkillSchema), validate=validate.Length(0, 40))
    languages = fields.List(fields.Nested(ProfileLanguageSchema), validate=validate.Length(0, 20))


class BusinessProfileSchema(StrictSchema):
    """The calling business's company profile; PATCH takes any subset."""
    company_name = fields.String(validate=validate.Length(1, 120))
    website = fields.String(validate=validate.Length(0, 190))
    industry = fields.String(validate=validate.Length(0, 60))
    size = fields.String(validate=validate.Length(0, 20))
    timezone = fields.String(validate=validate.Length(1, 64))


class SpecialistProfilePatchSchema(SpecialistProfileSchema):
    """Any subset of the specialist profile (used with partial=True)."""


class BusinessProfilePatchSchema(BusinessProfileSchema):
    """Any subset of the company profile (used with partial=True)."""
