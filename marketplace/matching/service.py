"""The one ranking service: specialists for a task, tasks for a specialist.

1. Hard filters run in SQL (language at the configured level or better,
   channel, available hours, active account, not already bidding on or
   engaged for the task), starting from the skill index.
2. The candidate set is bounded (MATCH_CANDIDATES, by required-skill
   coverage computed in SQL), then loaded with a fixed number of queries.
3. Only the candidates are scored (scoring.py) and sorted.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import and_, case, exists, func, not_, or_, select
from sqlalchemy.orm import selectinload

from marketplace.accounts.models import AccountStatus, Role, User
from marketplace.bidding.models import Bid, BidStatus, Invitation, InvitationStatus
from marketplace.core.errors import Conflict, Forbidden
from marketplace.core.reference import PROFICIENCY_RANK
from marketplace.engagements.models import Engagement
from marketplace.extensions import db
from marketplace.matching.scoring import Match, score
from marketplace.profiles.models import FreelancerChannel, FreelancerLanguage, FreelancerProfile, FreelancerSkill
from marketplace.tasks.models import HiringMode, ModerationStatus, Task, TaskLanguage, TaskSkill, TaskStatus


def _good_enough_levels() -> list[str]:
    floor = PROFICIENCY_RANK[current_app.config["MATCH_MIN_LANGUAGE_LEVEL"]]
    return [code for code, rank in PROFICIENCY_RANK.items() if rank >= floor]


def _speaks(language: str, levels: list[str]):
    return exists().where(FreelancerLanguage.freelancer_id == FreelancerProfile.user_id,
                          FreelancerLanguage.language == language, FreelancerLanguage.proficiency.in_(levels))


def _hard_filters(task: Task) -> list:
    levels = _good_enough_levels()
    conditions = [
        User.status == AccountStatus.ACTIVE, User.role == Role.FREELANCER,
        FreelancerProfile.hours_per_week > 0, FreelancerProfile.hourly_rate.is_not(None),
        exists().where(FreelancerChannel.freelancer_id == FreelancerProfile.user_id,
                       FreelancerChannel.channel == task.channel),
        not_(exists().where(Bid.task_id == task.id, Bid.freelancer_id == FreelancerProfile.user_id,
                            Bid.status.in_((BidStatus.PENDING, BidStatus.ACCEPTED)))),
        not_(exists().where(Engagement.task_id == task.id, Engagement.freelancer_id == FreelancerProfile.user_id)),
        FreelancerProfile.user_id != task.business_id,
    ]
    conditions += [_speaks(code, levels) for code in task.language_codes]
    return conditions


def candidate_ids(task: Task, limit: int) -> list[int]:
    """Specialists passing the hard filters, best required-skill coverage first (bounded)."""
    required = {ts.skill_id: ts.min_level for ts in task.required_skills}
    skill_ids = [ts.skill_id for ts in task.skills]
    min_level = case(*((FreelancerSkill.skill_id == sid, level) for sid, level in required.items()), else_=6)
    coverage = func.sum(case((FreelancerSkill.level >= min_level, 1), else_=0)).label("coverage")
    strength = func.sum(FreelancerSkill.level).label("strength")
    stmt = (select(FreelancerSkill.freelancer_id)
            .join(FreelancerProfile, FreelancerProfile.user_id == FreelancerSkill.freelancer_id)
            .join(User, User.id == FreelancerProfile.user_id)
            .where(FreelancerSkill.skill_id.in_(skill_ids), *_hard_filters(task))
            .group_by(FreelancerSkill.freelancer_id)
            .order_by(coverage.desc(), strength.desc(), FreelancerSkill.freelancer_id)
            .limit(limit))
    return list(db.session.scalars(stmt))


def _load_profiles(ids: list[int]) -> list[FreelancerProfile]:
    if not ids:
        return []
    return list(db.session.scalars(select(FreelancerProfile).where(FreelancerProfile.user_id.in_(ids))
                                   .options(selectinload(FreelancerProfile.skills),
                                            selectinload(FreelancerProfile.languages),
                                            selectinload(FreelancerProfile.channels))))


def rank_specialists(task: Task, limit: int = 20) -> list[Match]:
    """The top specialists for a task, each with its explanation."""
    config = current_app.config
    profiles = _load_profiles(candidate_ids(task, config["MATCH_CANDIDATES"]))
    matches = [score(task, profile, config) for profile in profiles]
    matches.sort(key=lambda m: (-m.score, m.profile.user_id))
    return matches[:limit]


def match_for_owner(actor: User, task: Task, limit: int = 20) -> list[Match]:
    """"Find specialists" for the task's business: only its own, published task."""
    if actor.id != task.business_id:
        raise Forbidden("Only the business that posted this task can see its matches.")
    if task.status != TaskStatus.OPEN or task.moderation_status != ModerationStatus.APPROVED:
        raise Conflict("Publish the task to see matching specialists.")
    return rank_specialists(task, limit)


@dataclass
class EmptyReason:
    label: str
    remaining: int


def why_empty(task: Task) -> list[EmptyReason]:
    """How many active specialists each requirement alone leaves, fewest first (for the empty state)."""
    base = (select(func.count()).select_from(FreelancerProfile).join(User, User.id == FreelancerProfile.user_id)
            .where(User.status == AccountStatus.ACTIVE, FreelancerProfile.hourly_rate.is_not(None)))
    levels = _good_enough_levels()
    checks = [(f"speak {', '.join(c.upper() for c in task.language_codes)} at "
               f"{current_app.config['MATCH_MIN_LANGUAGE_LEVEL']} or better",
               and_(*[_speaks(code, levels) for code in task.language_codes])),
              (f"work on {task.channel}", exists().where(FreelancerChannel.freelancer_id == FreelancerProfile.user_id,
                                                          FreelancerChannel.channel == task.channel)),
              ("have at least one required skill", exists().where(
                  FreelancerSkill.freelancer_id == FreelancerProfile.user_id,
                  FreelancerSkill.skill_id.in_([ts.skill_id for ts in task.required_skills]))),
              ("have hours available", FreelancerProfile.hours_per_week > 0)]
    reasons = [EmptyReason(label, db.session.scalar(base.where(condition))) for label, condition in checks]
    return sorted(reasons, key=lambda r: r.remaining)


def auto_invite(task: Task) -> int:
    """Hiring mode "match": invite the top K specialists when the task is published."""
    from marketplace.bidding.services import invite

    owner = db.session.get(User, task.business_id)
    invited = 0
    for match in rank_specialists(task, current_app.config["MATCH_AUTO_INVITE"]):
        invite(owner, task, match.profile.user_id,
               f"Our matching picked you for this task: {match.explanation}.", automatic=True)
        invited += 1
    return invited


# --- tasks for a specialist ---------------------------------------------------------------

def candidate_task_ids(profile: FreelancerProfile, limit: int) -> list[int]:
    """Open tasks this specialist passes the hard filters for, most shared required skills first."""
    levels = set(_good_enough_levels())
    spoken = [l.language for l in profile.languages if l.proficiency in levels]
    channels = profile.channel_codes
    skill_ids = [fs.skill_id for fs in profile.skills]
    if not (spoken and channels and skill_ids) or profile.hours_per_week <= 0:
        return []
    shared = func.count(TaskSkill.skill_id).label("shared")
    business = select(User.id).where(User.id == Task.business_id, User.status == AccountStatus.ACTIVE)
    stmt = (select(Task.id).join(TaskSkill, TaskSkill.task_id == Task.id)
            .where(Task.status == TaskStatus.OPEN, Task.moderation_status == ModerationStatus.APPROVED,
                   Task.channel.in_(channels), TaskSkill.required.is_(True), TaskSkill.skill_id.in_(skill_ids),
                   Task.business_id != profile.user_id, exists(business),
                   or_(Task.hiring_mode == HiringMode.OPEN,
                       exists().where(Invitation.task_id == Task.id, Invitation.freelancer_id == profile.user_id,
                                      Invitation.status != InvitationStatus.DECLINED)),
                   not_(exists().where(TaskLanguage.task_id == Task.id, TaskLanguage.language.not_in(spoken))),
                   not_(exists().where(Bid.task_id == Task.id, Bid.freelancer_id == profile.user_id,
                                       Bid.status.in_((BidStatus.PENDING, BidStatus.ACCEPTED)))))
            .group_by(Task.id)
            .order_by(shared.desc(), Task.id.desc())
            .limit(limit))
    return list(db.session.scalars(stmt))


def rank_tasks(profile: FreelancerProfile, task_ids: list[int] | None = None, limit: int = 10) -> list[tuple[Task, Match]]:
    config = current_app.config
    ids = task_ids if task_ids is not None else candidate_task_ids(profile, config["MATCH_CANDIDATES"])
    if not ids:
        return []
    tasks = db.session.scalars(select(Task).where(Task.id.in_(ids))
                               .options(selectinload(Task.skills), selectinload(Task.languages),
                                        selectinload(Task.business))).all()
    ranked = [(task, score(task, profile, config)) for task in tasks]
    ranked.sort(key=lambda pair: (-pair[1].score, -pair[0].id))
    return ranked[:limit]


def recommended_for(actor: User, limit: int = 10) -> list[tuple[Task, Match]]:
    """"Recommended for you" on a specialist's dashboard."""
    if not actor.is_freelancer:
        raise Forbidden("Recommendations are for specialists.")
    profile = db.session.scalar(select(FreelancerProfile).where(FreelancerProfile.user_id == actor.id)
                                .options(selectinload(FreelancerProfile.skills),
                                         selectinload(FreelancerProfile.languages),
                                         selectinload(FreelancerProfile.channels)))
    return rank_tasks(profile, limit=limit) if profile else []
