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
from sqlalchemy import and_, case, exists, func, literal_column, not_, or_, select, union_all
from sqlalchemy.orm import selectinload

from marketplace.accounts.models import AccountStatus, Role, User
from marketplace.bidding.models import Bid, BidStatus, Invitation, InvitationStatus
from marketplace.core.errors import Conflict, Forbidden
from marketplace.core.id_lists import ids_in
from marketplace.core.reference import (LANGUAGES, WORKING_LANGUAGE_LEVELS, channel_mask,
                                        required_language_mask)
from marketplace.engagements.models import Engagement
from marketplace.extensions import db
from marketplace.matching.scoring import Candidate, Match, SkillNeed, TaskFigures, score
from marketplace.profiles.models import FreelancerChannel, FreelancerLanguage, FreelancerProfile, FreelancerSkill
from marketplace.tasks.models import HiringMode, ModerationStatus, Task, TaskLanguage, TaskSkill, TaskStatus


def _good_enough_levels() -> list[str]:
    return list(WORKING_LANGUAGE_LEVELS)


def _speaks_and_works_on(task: Task, profile_columns=FreelancerProfile):
    """Language and channel hard filters as bit-mask checks on the profile row itself."""
    need = required_language_mask(task.language_codes)
    channel = channel_mask([task.channel])
    return [profile_columns.language_mask.op("&")(need) == need,
            profile_columns.channel_mask.op("&")(channel) != 0]


def _matchable():
    """Has hours and a rate (MATCHABLE_PROFILE_SQL), written with literals so that the planners
    can use the partial index ix_freelancer_profiles_matchable."""
    return [FreelancerProfile.hours_per_week > literal_column("0"), FreelancerProfile.hourly_rate.is_not(None)]


def _speaks(language: str, levels: list[str]):
    return exists().where(FreelancerLanguage.freelancer_id == FreelancerProfile.user_id,
                          FreelancerLanguage.language == language, FreelancerLanguage.proficiency.in_(levels))


def eligible_specialists(task: Task):
    """SELECT of specialist ids passing the hard filters (language and channel as bit masks)."""
    stmt = (select(FreelancerProfile.user_id).join(User, User.id == FreelancerProfile.user_id)
            .where(User.status == AccountStatus.ACTIVE, User.role == Role.FREELANCER,
                   *_matchable(), FreelancerProfile.user_id != task.business_id, *_speaks_and_works_on(task),
                   FreelancerProfile.user_id.not_in(
                       select(Bid.freelancer_id).where(Bid.task_id == task.id,
                                                       Bid.status.in_((BidStatus.PENDING, BidStatus.ACCEPTED)))),
                   FreelancerProfile.user_id.not_in(select(Engagement.freelancer_id)
                                                    .where(Engagement.task_id == task.id))))
    return stmt


# How many of the strongest skill holders the fast path checks against the hard filters,
# and how many holders of each required skill it starts from.
PREFILTER = 6000
PER_SKILL = 4000


def _is_eligible(task: Task, freelancer_id):
    """Correlated hard-filter checks for one specialist id: index lookups, for a bounded id list."""
    checks = [
        exists().where(FreelancerProfile.user_id == freelancer_id, *_matchable(), *_speaks_and_works_on(task)),
        exists().where(User.id == freelancer_id, User.status == AccountStatus.ACTIVE, User.role == Role.FREELANCER,
                       User.id != task.business_id),
        not_(exists().where(Bid.task_id == task.id, Bid.freelancer_id == freelancer_id,
                            Bid.status.in_((BidStatus.PENDING, BidStatus.ACCEPTED)))),
        not_(exists().where(Engagement.task_id == task.id, Engagement.freelancer_id == freelancer_id)),
    ]
    return checks


def candidate_ids(task: Task, limit: int, enough: int | None = None) -> list[int]:
    """Specialists passing the hard filters, best required-skill coverage first (bounded).

    Fast path: the PREFILTER strongest holders of the required skills (an index-only
    scan on freelancer_skills(skill_id, level, freelancer_id)), checked one by one
    against the hard filters. For tasks needing several languages, or when the fast
    path leaves fewer than `enough` (default `limit`), the full query filters everyone
    first (bit masks on the profile row) and then ranks.
    """
    required = {ts.skill_id: ts.min_level for ts in task.required_skills}
    fs = FreelancerSkill
    # The strongest holders of each required skill: one bounded index-only scan per skill
    # (skill_id, level >= minimum, highest level first), then aggregate the few thousand rows.
    branches = []
    for sid, level in required.items():
        strongest = (select(fs.freelancer_id.label("freelancer_id"), fs.level.label("level"))
                     .where(fs.skill_id == sid, fs.level >= level)
                     .order_by(fs.level.desc()).limit(PER_SKILL).subquery())
        # Selecting from a subquery keeps each LIMIT legal inside UNION ALL on SQLite too.
        branches.append(select(strongest.c.freelancer_id, strongest.c.level))
    holders = union_all(*branches).subquery("holders")
    top = (select(holders.c.freelancer_id, func.count().label("coverage"), func.sum(holders.c.level).label("strength"))
           .group_by(holders.c.freelancer_id)
           .order_by(func.count().desc(), func.sum(holders.c.level).desc(), holders.c.freelancer_id)
           .limit(PREFILTER).cte("top_holders"))
    fast = (select(top.c.freelancer_id).where(*_is_eligible(task, top.c.freelancer_id))
            .order_by(top.c.coverage.desc(), top.c.strength.desc(), top.c.freelancer_id).limit(limit))
    # Tasks needing several languages leave few people: filtering everyone (cheap with the
    # profile masks) beats walking thousands of skill holders.
    if len(task.language_codes) < 2:
        ids = list(db.session.scalars(fast))
        if len(ids) >= (enough or limit):
            return ids
    # Slow path (rare languages or channels): filter everyone first, then rank.
    skill_ids = [ts.skill_id for ts in task.skills]
    min_level = case(*((fs.skill_id == sid, level) for sid, level in required.items()), else_=6)
    coverage = func.sum(case((fs.level >= min_level, 1), else_=0))
    # The speakers of the task's least common language at a working level (index-only on
    # freelancer_languages): redundant with the language mask, but the planners start from those
    # few speakers instead of reading every profile. LANGUAGES lists the languages support is most
    # often asked in first, so the last of the task's languages in that order is the rarest guess.
    order = {code: position for position, code in enumerate(LANGUAGES)}
    rarest = max(task.language_codes, key=lambda code: order.get(code, len(order)), default=None)
    speakers = [fs.freelancer_id.in_(select(FreelancerLanguage.freelancer_id)
                                     .where(FreelancerLanguage.language == rarest,
                                            FreelancerLanguage.proficiency.in_(_good_enough_levels())))
                ] if rarest else []
    full = (select(fs.freelancer_id)
            .where(fs.skill_id.in_(skill_ids), *speakers, *_is_eligible(task, fs.freelancer_id))
            .group_by(fs.freelancer_id)
            .order_by(coverage.desc(), func.sum(fs.level).desc(), fs.freelancer_id)
            .limit(limit))
    return list(db.session.scalars(full))


def load_candidates(ids: list[int]) -> list[Candidate]:
    """The scoring figures of these specialists as plain rows: three queries, no ORM objects."""
    if not ids:
        return []
    p = FreelancerProfile
    rows = db.session.execute(select(p.user_id, p.hourly_rate, p.timezone, p.rating_sum, p.rating_count,
                                     p.empathy_sum, p.empathy_count, p.on_time_count, p.completed_count,
                                     p.last_active_at).where(ids_in(p.user_id, ids)))
    candidates = {row.user_id: Candidate(*row) for row in rows}
    for fid, skill_id, level in db.session.execute(
            select(FreelancerSkill.freelancer_id, FreelancerSkill.skill_id, FreelancerSkill.level)
            .where(ids_in(FreelancerSkill.freelancer_id, ids))):
        candidates[fid].levels[skill_id] = level
    for fid, language, proficiency in db.session.execute(
            select(FreelancerLanguage.freelancer_id, FreelancerLanguage.language, FreelancerLanguage.proficiency)
            .where(ids_in(FreelancerLanguage.freelancer_id, ids))):
        candidates[fid].spoken[language] = proficiency
    _attach_shift_records(candidates)
    return list(candidates.values())


def _attach_shift_records(candidates: dict[int, Candidate]) -> None:
    """Kept and counted coverage shifts (the reliability part of the score)."""
    from marketplace.core.time import app_now
    from marketplace.schedules.records import records_for
    for user_id, record in records_for(list(candidates), app_now()).items():
        candidates[user_id].shifts_kept, candidates[user_id].shifts_counted = record.kept, record.total


def _attach_profiles(matches: list[Match]) -> None:
    """Load the ORM profiles (with user, skills, languages, channels) of the results shown."""
    ids = [m.candidate.user_id for m in matches]
    if not ids:
        return
    # Result cards show the person, headline and rate; the explanation carries the rest.
    profiles = {p.user_id: p for p in db.session.scalars(
        select(FreelancerProfile).where(ids_in(FreelancerProfile.user_id, ids)))}
    for match in matches:
        match.profile = profiles[match.candidate.user_id]


def rank_specialists(task: Task, limit: int = 20) -> list[Match]:
    """The top specialists for a task, each with its explanation."""
    config = current_app.config
    # Two candidates per result shown is enough from the fast path; otherwise search everyone.
    candidates = load_candidates(candidate_ids(task, config["MATCH_CANDIDATES"], enough=2 * limit))
    matches = [score(task, candidate, config) for candidate in candidates]
    matches.sort(key=lambda m: (-m.score, m.candidate.user_id))
    top = matches[:limit]
    _attach_profiles(top)
    return top


def match_for_owner(actor: User, task: Task, limit: int = 20) -> list[Match]:
    """"Find specialists" for the task's business: only its own, published task."""
    if actor.id != task.business_id:
        raise Forbidden("Only the business that posted this task can see its matches.")
    if task.status == TaskStatus.OPEN and task.moderation_status == ModerationStatus.PENDING_REVIEW:
        raise Conflict("Your task is published and waiting for a quick review by our team (usually within a "
                       "working day). Matching specialists appear here as soon as it's approved.")
    if task.status == TaskStatus.DRAFT:
        raise Conflict("Publish the task to see matching specialists.")
    if task.status != TaskStatus.OPEN or task.moderation_status != ModerationStatus.APPROVED:
        raise Conflict("This task is no longer hiring, so there are no matches to show.")
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
    checks = [(f"speak {' and '.join(LANGUAGES.get(c, c) for c in task.language_codes)} at "
               "B2 or better",
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
        invite(owner, task, match.candidate.user_id,
               f"Our matching picked you for this task: {match.explanation}.", automatic=True)
        invited += 1
    return invited


def auto_invite_task(task_id: int) -> int:
    """The queued job behind auto_invite: a task that is still open for matching and has no invitations yet
    (so running it twice invites nobody twice)."""
    task = db.session.get(Task, task_id)
    if task is None or task.status != TaskStatus.OPEN or task.hiring_mode != HiringMode.MATCH:
        return 0
    if db.session.scalar(select(Invitation.id).where(Invitation.task_id == task_id).limit(1)) is not None:
        return 0
    return auto_invite(task)


# --- tasks for a specialist ---------------------------------------------------------------

# "Recommended for you" reads the tasks sharing a specialist's skills, best covered first, this
# many ids at a time, and checks them against the other filters TASK_CHUNK at a time.
TASK_WINDOW = 2000
TASK_CHUNK = 300


def candidate_task_ids(profile: FreelancerProfile, limit: int) -> list[int]:
    """Open tasks this specialist passes the hard filters for, most shared required skills first.

    The tasks requiring any of the specialist's skills are counted and ordered from the partial
    index ix_task_skills_required alone (no task row read); then their ids are checked against the
    other filters (listed, channel, languages, hiring mode, no live proposal) by primary key, a
    chunk at a time, until `limit` pass. One statement filtering every listed task first made the
    planner scan the whole tasks table. The answer is the same: chunks are taken in order, and a
    further window is read only when every id of the previous one has been checked.
    """
    levels = set(_good_enough_levels())
    spoken = [l.language for l in profile.languages if l.proficiency in levels]
    channels = profile.channel_codes
    skill_ids = [fs.skill_id for fs in profile.skills]
    if not (spoken and channels and skill_ids) or profile.hours_per_week <= 0:
        return []
    from marketplace.tasks.search import listed_task_clause

    # Tasks in none of the specialist's languages are left out from the start (index-only on
    # task_languages): for someone who speaks only Korean that is nearly all of them.
    # (EXISTS, not IN: SQLite would start from the language's tasks, most of them for English.)
    in_a_spoken_language = exists().where(TaskLanguage.task_id == TaskSkill.task_id, TaskLanguage.language.in_(spoken))
    sharing = (select(TaskSkill.task_id)
               .where(TaskSkill.skill_id.in_(skill_ids), TaskSkill.required, in_a_spoken_language)
               .group_by(TaskSkill.task_id).order_by(func.count().desc(), TaskSkill.task_id.desc()))
    passes = [listed_task_clause(), Task.channel.in_(channels), Task.business_id != profile.user_id,
              or_(Task.hiring_mode == HiringMode.OPEN,
                  exists().where(Invitation.task_id == Task.id, Invitation.freelancer_id == profile.user_id,
                                 Invitation.status != InvitationStatus.DECLINED)),
              not_(exists().where(TaskLanguage.task_id == Task.id, TaskLanguage.language.not_in(spoken))),
              not_(exists().where(Bid.task_id == Task.id, Bid.freelancer_id == profile.user_id,
                                  Bid.status.in_((BidStatus.PENDING, BidStatus.ACCEPTED))))]
    found: list[int] = []
    offset = 0
    while True:
        window = list(db.session.scalars(sharing.offset(offset).limit(TASK_WINDOW)))
        for start in range(0, len(window), TASK_CHUNK):
            chunk = window[start:start + TASK_CHUNK]
            passed = set(db.session.scalars(select(Task.id).where(Task.id.in_(chunk), *passes)))
            found.extend(task_id for task_id in chunk if task_id in passed)
            if len(found) >= limit:
                return found[:limit]
        if len(window) < TASK_WINDOW:
            return found
        offset += TASK_WINDOW


def load_task_figures(ids: list[int]) -> list[TaskFigures]:
    """The scoring figures of these tasks as plain rows: three queries, no ORM objects."""
    if not ids:
        return []
    t = Task
    figures = {row.id: TaskFigures(*row) for row in db.session.execute(
        select(t.id, t.channel, t.timezone, t.work_hours_start, t.work_hours_end, t.start_date, t.end_date, t.pricing,
               t.budget, t.max_rate, t.estimated_hours).where(ids_in(t.id, ids)))}
    for task_id, skill_id, min_level, required in db.session.execute(
            select(TaskSkill.task_id, TaskSkill.skill_id, TaskSkill.min_level, TaskSkill.required)
            .where(ids_in(TaskSkill.task_id, ids))
            .order_by(TaskSkill.task_id, TaskSkill.required.desc(), TaskSkill.skill_id)):
        figures[task_id].skills.append(SkillNeed(skill_id, min_level, required))
    for task_id, language in db.session.execute(
            select(TaskLanguage.task_id, TaskLanguage.language).where(ids_in(TaskLanguage.task_id, ids))
            .order_by(TaskLanguage.task_id, TaskLanguage.language)):
        figures[task_id].language_codes.append(language)
    return list(figures.values())


def ranked_task_ids(profile: FreelancerProfile, task_ids: list[int] | None = None) -> list[tuple[int, Match]]:
    """Task ids with their match for this specialist, best first: the candidates (or `task_ids`)
    scored from plain rows."""
    config = current_app.config
    ids = task_ids if task_ids is not None else candidate_task_ids(profile, config["MATCH_CANDIDATES"])
    if not ids:
        return []
    candidate = Candidate.from_profile(profile)
    _attach_shift_records({candidate.user_id: candidate})
    ranked = [(task.id, score(task, candidate, config)) for task in load_task_figures(ids)]
    ranked.sort(key=lambda pair: (-pair[1].score, -pair[0]))
    return ranked


def rank_tasks(profile: FreelancerProfile, task_ids: list[int] | None = None, limit: int = 10) -> list[tuple[Task, Match]]:
    """The best `limit` tasks for this specialist as loaded tasks (with skills, languages and business)."""
    ranked = ranked_task_ids(profile, task_ids)[:limit]
    if not ranked:
        return []
    tasks = {task.id: task for task in db.session.scalars(
        select(Task).where(ids_in(Task.id, [task_id for task_id, _ in ranked]))
        .options(selectinload(Task.skills), selectinload(Task.languages),
                 # the business's public name is its company's (the dashboard shows it)
                 selectinload(Task.business).selectinload(User.business_profile)))}
    return [(tasks[task_id], match) for task_id, match in ranked]


def recommended_for(actor: User, limit: int = 10) -> list[tuple[Task, Match]]:
    """"Recommended for you" on a specialist's dashboard."""
    if not actor.is_freelancer:
        raise Forbidden("Recommendations are for specialists.")
    profile = db.session.scalar(select(FreelancerProfile).where(FreelancerProfile.user_id == actor.id)
                                .options(selectinload(FreelancerProfile.skills),
                                         selectinload(FreelancerProfile.languages),
                                         selectinload(FreelancerProfile.channels)))
    return rank_tasks(profile, limit=limit) if profile else []
