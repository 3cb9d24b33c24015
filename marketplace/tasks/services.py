"""Task use cases: create, edit, publish, cancel, close; loaders that authorize.

Rules live here; forms only check shape. Every function takes the acting
user and only flushes: the view commits once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import case, func, select, update
from sqlalchemy.orm import selectinload

from marketplace.accounts.models import AccountStatus, User
from marketplace.accounts.confirmation import require_confirmed_email
from marketplace.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from marketplace.core.money import format_money
from marketplace.core.reference import CHANNELS, LANGUAGES
from marketplace.core.text import one_line
from marketplace.core.time import TIMEZONE_SET, utcnow
from marketplace.extensions import db
from marketplace.profiles.models import Skill
from marketplace.tasks.models import (HiringMode, ModerationStatus, Pricing, Task, TaskLanguage, TaskSkill,
                                      TaskStatus)

EDITABLE_STATUSES = (TaskStatus.DRAFT, TaskStatus.OPEN)


@dataclass
class TaskData:
    title: str
    description: str
    channel: str
    timezone: str
    work_hours_start: int
    work_hours_end: int
    start_date: date
    end_date: date
    pricing: str
    budget: int | None = None            # fixed: total in minor units
    max_rate: int | None = None          # hourly: minor units per hour
    estimated_hours: int | None = None   # hourly
    seats: int = 1
    hiring_mode: str = "open"
    currency: str = "USD"
    required_skills: dict[int, int] = field(default_factory=dict)   # skill id -> minimum level
    nice_skills: dict[int, int] = field(default_factory=dict)
    languages: list[str] = field(default_factory=list)


def task_data_of(task: Task) -> TaskData:
    """The task's current terms as TaskData: what an edit starts from (the API's partial updates)."""
    return TaskData(
        title=task.title, description=task.description, channel=task.channel, timezone=task.timezone,
        work_hours_start=task.work_hours_start, work_hours_end=task.work_hours_end, start_date=task.start_date,
        end_date=task.end_date, pricing=task.pricing.value, budget=task.budget, max_rate=task.max_rate,
        estimated_hours=task.estimated_hours, seats=task.seats, hiring_mode=task.hiring_mode.value,
        currency=task.currency, required_skills={s.skill_id: s.min_level for s in task.required_skills},
        nice_skills={s.skill_id: s.min_level for s in task.nice_skills}, languages=list(task.language_codes))


def _require_business(actor: User) -> None:
    if not actor.is_business:
        raise Forbidden("Only business accounts can post tasks.")
    if actor.status != AccountStatus.ACTIVE:
        raise Forbidden("This account is suspended.")


def validate_task_data(data: TaskData) -> None:
    cfg = current_app.config
    if not one_line(data.title):
        raise ValidationFailed("Give the task a title.", field="title")
    if len(data.title) > 120:
        raise ValidationFailed("Keep the title under 120 characters.", field="title")
    if not data.description.strip():
        raise ValidationFailed("Describe the work.", field="description")
    if data.channel not in CHANNELS:
        raise ValidationFailed("Choose a channel from the list.", field="channel")
    if data.timezone not in TIMEZONE_SET:
        raise ValidationFailed("Choose a time zone from the list.", field="timezone")
    if not (0 <= data.work_hours_start <= 23 and 1 <= data.work_hours_end <= 24
            and data.work_hours_start < data.work_hours_end):
        raise ValidationFailed("Coverage hours must start before they end.", field="work_hours_end")
    today = utcnow().date()
    if data.start_date <= today:
        raise ValidationFailed("The start date must be in the future.", field="start_date")
    if data.end_date < data.start_date:
        raise ValidationFailed("The end date can't be before the start date.", field="end_date")
    horizon = today + timedelta(days=cfg["MAX_TASK_DAYS_AHEAD"])
    if data.start_date > horizon or data.end_date > horizon:
        raise ValidationFailed(f"Dates can be at most {cfg['MAX_TASK_DAYS_AHEAD']} days ahead.",
                               field="end_date" if data.start_date <= horizon else "start_date")
    if data.pricing not in (Pricing.FIXED.value, Pricing.HOURLY.value):
        raise ValidationFailed("Choose fixed price or hourly.", field="pricing")
    minimum = cfg["PLATFORM_MIN_BUDGET"]
    if data.pricing == Pricing.FIXED.value:
        if data.budget is None or data.budget < minimum:
            raise ValidationFailed(f"The budget must be at least {format_money(minimum, data.currency)}.",
                                   field="budget")
        if data.budget > cfg["MAX_TASK_BUDGET"]:
            raise ValidationFailed(f"The budget can be at most {format_money(cfg['MAX_TASK_BUDGET'], data.currency)}.",
                                   field="budget")
    else:
        if data.max_rate is None or data.max_rate <= 0 or data.max_rate > cfg["MAX_HOURLY_RATE"]:
            raise ValidationFailed(f"The maximum rate must be between {format_money(1, data.currency)} and "
                                   f"{format_money(cfg['MAX_HOURLY_RATE'], data.currency)}.", field="max_rate")
        if not data.estimated_hours or not 1 <= data.estimated_hours <= cfg["MAX_ESTIMATED_HOURS"]:
            raise ValidationFailed(f"Estimate between 1 and {cfg['MAX_ESTIMATED_HOURS']} hours.",
                                   field="estimated_hours")
        if data.max_rate * data.estimated_hours < minimum:
            raise ValidationFailed(f"Rate × hours must come to at least {format_money(minimum, data.currency)}.",
                                   field="max_rate")
    if not 1 <= data.seats <= cfg["MAX_TASK_SEATS"]:
        raise ValidationFailed(f"Seats must be between 1 and {cfg['MAX_TASK_SEATS']}.", field="seats")
    if data.hiring_mode not in {m.value for m in HiringMode}:
        raise ValidationFailed("Choose how you want to hire.", field="hiring_mode")
    if not data.required_skills:
        raise ValidationFailed("Add at least one required skill.", field="required_skills")
    overlap = set(data.required_skills) & set(data.nice_skills)
    if overlap:
        raise ValidationFailed("A skill can be required or nice to have, not both.", field="nice_skills")
    levels = list(data.required_skills.values()) + list(data.nice_skills.values())
    if any(not 1 <= level <= 5 for level in levels):
        raise ValidationFailed("Skill levels go from 1 to 5.", field="required_skills")
    wanted = set(data.required_skills) | set(data.nice_skills)
    known = set(db.session.scalars(select(Skill.id).where(Skill.id.in_(wanted))))
    if known != wanted:
        raise ValidationFailed("One of the skills is not in our list.", field="required_skills")
    if not data.languages:
        raise ValidationFailed("Choose at least one language.", field="languages")
    if any(code not in LANGUAGES for code in data.languages):
        raise ValidationFailed("Choose languages from the list.", field="languages")


def _apply(task: Task, data: TaskData) -> None:
    task.title = one_line(data.title)
    task.description = data.description.strip()
    task.channel = data.channel
    task.timezone = data.timezone
    task.work_hours_start, task.work_hours_end = data.work_hours_start, data.work_hours_end
    task.start_date, task.end_date = data.start_date, data.end_date
    task.pricing = Pricing(data.pricing)
    task.currency = data.currency
    if task.pricing == Pricing.FIXED:
        task.budget, task.max_rate, task.estimated_hours = data.budget, None, None
    else:
        task.budget, task.max_rate, task.estimated_hours = None, data.max_rate, data.estimated_hours
    task.seats = data.seats
    task.hiring_mode = HiringMode(data.hiring_mode)
    wanted = {sid: (level, True) for sid, level in data.required_skills.items()}
    wanted.update({sid: (level, False) for sid, level in data.nice_skills.items()})
    existing = {s.skill_id: s for s in task.skills}
    for sid, row in existing.items():
        if sid not in wanted:
            task.skills.remove(row)
    for sid, (level, required) in wanted.items():
        if sid in existing:
            existing[sid].min_level, existing[sid].required = level, required
        else:
            task.skills.append(TaskSkill(skill_id=sid, min_level=level, required=required))
    current = {l.language: l for l in task.languages}
    for code, row in current.items():
        if code not in data.languages:
            task.languages.remove(row)
    for code in data.languages:
        if code not in current:
            task.languages.append(TaskLanguage(language=code))


def create_task(actor: User, data: TaskData) -> Task:
    """A new task, saved as a draft."""
    _require_business(actor)
    require_confirmed_email(actor, "post tasks")
    validate_task_data(data)
    task = Task(business_id=actor.id, status=TaskStatus.DRAFT, moderation_status=ModerationStatus.APPROVED)
    task.skills, task.languages = [], []
    _apply(task, data)
    db.session.add(task)
    db.session.flush()
    return task


def update_task(actor: User, task: Task, data: TaskData) -> None:
    _require_owner(actor, task)
    if task.status not in EDITABLE_STATUSES:
        raise Conflict("This task can no longer be edited.")
    if task.filled_seats > 0:
        raise Conflict("Someone has already been hired for this task, so it can't be edited.")
    validate_task_data(data)
    if data.pricing != task.pricing.value and _has_pending_bids(task):
        raise Conflict("This task already has proposals priced "
                       f"{'per hour' if task.pricing == Pricing.HOURLY else 'as a fixed total'}, so the pricing "
                       "type can't change. Cancel it and post a new task instead.", field="pricing")
    # Guard against a hire that lands between the check above and this write.
    _transition(task, [Task.filled_seats == 0], {"updated_at": utcnow()},
                "Someone has just been hired for this task, so it can't be edited.")
    _apply(task, data)
    db.session.flush()
    if task.status == TaskStatus.OPEN:
        _rescreen(actor, task)


def _rescreen(actor: User, task: Task) -> None:
    """A published task's edit passes the risk screen again; a rejected task edited goes back to review."""
    from marketplace.moderation.holds import hold
    from marketplace.moderation.screening import screen_task
    reasons = screen_task(task)
    if task.moderation_status == ModerationStatus.REJECTED:
        reasons.append(f"Edited after rejection (was: {task.moderation_note or 'no reason given'})")
        task.moderation_note = None
    if reasons:
        hold("task", task, actor.id, reasons)


def _transition(task: Task, conditions: list, values: dict, refusal: str) -> None:
    """Apply `values` only while `conditions` still hold in the database (double clicks, two
    tabs, a hire landing meanwhile), checked by rowcount; refuse with `refusal` otherwise."""
    changed = db.session.execute(update(Task).where(Task.id == task.id, *conditions).values(**values)
                                 .execution_options(synchronize_session=False))
    if changed.rowcount != 1:
        raise Conflict(refusal)
    db.session.refresh(task)


def _has_pending_bids(task: Task) -> bool:
    from marketplace.bidding.models import Bid, BidStatus
    return db.session.scalar(select(func.count()).select_from(Bid)
                             .where(Bid.task_id == task.id, Bid.status == BidStatus.PENDING)) > 0


def publish_task(actor: User, task: Task) -> None:
    _require_owner(actor, task)
    require_confirmed_email(actor, "publish tasks")
    if task.status != TaskStatus.DRAFT:
        raise Conflict("Only a draft can be published.")
    if task.start_date <= utcnow().date():
        raise ValidationFailed("The start date has passed. Edit the dates before publishing.", field="start_date")
    from marketplace.moderation.screening import screen_task
    reasons = screen_task(task)   # while still a draft, so it doesn't count as the business's approved task
    # A held task is published (listed, dated) only when an operator releases it (moderation/holds.py).
    _transition(task, [Task.status == TaskStatus.DRAFT],
                {"status": TaskStatus.OPEN, "published_at": None if reasons else utcnow()},
                "This task was already published.")
    if reasons:
        # Invisible to specialists until an operator releases it (moderation/holds.py runs what follows then).
        from marketplace.moderation.holds import hold
        hold("task", task, actor.id, reasons)
        return
    if task.hiring_mode == HiringMode.MATCH:
        from marketplace.core.queue import enqueue
        enqueue("matching.auto_invite", task_id=task.id)   # after the commit, off the request path


def is_held(task: Task) -> bool:
    return task.moderation_status == ModerationStatus.PENDING_REVIEW


def cancel_task(actor: User, task: Task) -> int:
    """Cancel a draft or an open task nobody is hired on; declines pending bids. Returns how many."""
    _require_owner(actor, task)
    if task.status not in EDITABLE_STATUSES:
        raise Conflict("Only a draft or open task can be cancelled.")
    _transition(task, [Task.status.in_(EDITABLE_STATUSES), Task.filled_seats == 0],
                {"status": TaskStatus.CANCELLED, "closed_at": utcnow()},
                "Someone is already hired on this task. Close it to stop hiring instead.")
    from marketplace.bidding.services import decline_pending_bids
    return decline_pending_bids(task, "The business cancelled this task.")


def can_close(task: Task, bids: list | None = None) -> bool:
    """An open task closes once someone was hired on it: to stop hiring while the work goes on, or, when
    every contract has ended, to finish it (a task with nobody hired is cancelled instead). `bids`, when
    the caller has the task's proposals loaded already, answers "was anyone hired" without a query."""
    from marketplace.contracts.lifecycle import ended_contracts
    if task.status != TaskStatus.OPEN:
        return False
    if task.filled_seats > 0:
        return True
    if bids is not None:
        return any(bid.status.value == "accepted" for bid in bids)
    return ended_contracts(task.id) > 0


def close_task(actor: User, task: Task) -> int:
    """Stop hiring on an open task that has a hire: in progress while contracts run, closed (completed
    or cancelled, contracts/lifecycle.closing_status) when they have all ended. Returns declined bids."""
    from marketplace.contracts.lifecycle import closing_status, running_contracts
    _require_owner(actor, task)
    if task.status != TaskStatus.OPEN:
        raise Conflict("Only an open task can be closed to new bids.")
    if not can_close(task):
        raise Conflict("Nobody is hired yet: cancel the task instead if you no longer need it.")
    final = TaskStatus.IN_PROGRESS if running_contracts(task.id) else closing_status(task.id)
    _transition(task, [Task.status == TaskStatus.OPEN, Task.filled_seats == task.filled_seats],
                {"status": final, "closed_at": utcnow()},
                "Someone was hired or finished a moment ago. Reload the task and try again.")
    from marketplace.bidding.services import decline_pending_bids
    return decline_pending_bids(task, "The business stopped hiring for this task.")


# --- loaders and predicates ------------------------------------------------------------

def is_owner(user: User | None, task: Task) -> bool:
    return bool(user and getattr(user, "is_authenticated", False) and user.id == task.business_id)


def can_view(user: User | None, task: Task) -> bool:
    if task.is_visible_publicly and task.business.status == AccountStatus.ACTIVE:
        return True
    return is_owner(user, task) or bool(user and getattr(user, "is_authenticated", False) and user.is_operator)


def _require_owner(actor: User, task: Task) -> None:
    if actor.id != task.business_id:
        raise Forbidden("Only the business that posted this task can do that.")
    if actor.status != AccountStatus.ACTIVE:
        raise Forbidden("This account is suspended.")


def _load(task_id: int) -> Task | None:
    return db.session.scalar(select(Task).where(Task.id == task_id)
                             .options(selectinload(Task.skills), selectinload(Task.languages),
                                      selectinload(Task.business).joinedload(User.business_profile)))


def get_task_for(actor: User | None, task_id: int) -> Task:
    """A task the actor may see; drafts and hidden tasks look missing to everyone else."""
    task = _load(task_id)
    if task is None or not can_view(actor, task):
        raise NotFound("We couldn't find that task.")
    return task


def get_own_task(actor: User, task_id: int) -> Task:
    task = _load(task_id)
    if task is None or not can_view(actor, task):
        raise NotFound("We couldn't find that task.")
    _require_owner(actor, task)
    return task


def tasks_of(actor: User, limit: int | None = None) -> list[tuple[Task, int, int]]:
    """The business's tasks with (pending bids, all live bids) counts, newest first, in two queries."""
    _require_business(actor)
    from marketplace.bidding.models import Bid, BidStatus
    tasks = list(db.session.scalars(select(Task).where(Task.business_id == actor.id)
                                    .order_by(Task.created_at.desc(), Task.id.desc()).limit(limit)))
    counts = dict(((tid, (pending, total)) for tid, pending, total in db.session.execute(
        select(Bid.task_id, func.sum(case((Bid.status == BidStatus.PENDING, 1), else_=0)), func.count())
        .where(Bid.task_id.in_([t.id for t in tasks]), Bid.status != BidStatus.WITHDRAWN,
               Bid.moderation_status == ModerationStatus.APPROVED)
        .group_by(Bid.task_id)))) if tasks else {}
    return [(t, int(counts.get(t.id, (0, 0))[0] or 0), counts.get(t.id, (0, 0))[1]) for t in tasks]


def open_tasks_of(actor: User) -> list[Task]:
    """The business's published tasks that are still hiring (for invitations)."""
    if not actor.is_business:
        return []
    return list(db.session.scalars(select(Task).where(Task.business_id == actor.id, Task.status == TaskStatus.OPEN,
                                                      Task.moderation_status == ModerationStatus.APPROVED)
                                   .order_by(Task.published_at.desc())))
