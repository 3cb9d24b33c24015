"""Task discovery: one search function over open, approved tasks.

PostgreSQL uses its full-text search on the stored column tasks.search_vector
(to_tsvector('english', title || ' ' || description), kept up to date by the
database as a generated column) and its GIN index over listed tasks; SQLite,
which has no such index here, matches every word with LIKE. Filters, sorting
and eager loading are shared, so a page costs the same few queries at any size:
the ids of the matches in order, counted up to a bound (core/paging.py), then
the page's rows.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Integer, Text, and_, case, cast, exists, func, literal_column, or_, select
from sqlalchemy.dialects.postgresql import ARRAY, TSVECTOR, array
from sqlalchemy.orm import selectinload

from marketplace.accounts.models import AccountStatus, User
from marketplace.core.paging import bounded_page
from marketplace.core.query_args import QueryArgs
from marketplace.core.reference import CHANNELS, LANGUAGES
from marketplace.core.time import TIMEZONE_SET
from marketplace.extensions import db, on_postgresql
from marketplace.profiles.skill_index import skill_index
from marketplace.profiles.services import skill_slug_exists
from marketplace.tasks.cards import load_cards
from marketplace.tasks.models import ModerationStatus, Pricing, Task, TaskLanguage, TaskSkill, TaskStatus

MAX_FILTER_AMOUNT = 1_000_000_000  # minor units; larger filters are ignored rather than sent to SQL
SORTS = {"newest": "Newest", "budget": "Highest budget", "best": "Best match"}


@dataclass
class TaskQuery:
    q: str = ""
    skill: str = ""          # skill slug
    language: str = ""       # ISO 639-1
    channel: str = ""
    pricing: str = ""
    budget_min: int | None = None   # minor units, compared with the task's total ceiling
    budget_max: int | None = None
    timezone: str = ""
    sort: str = "newest"
    errors: list[str] = field(default_factory=list)


# Total the business expects to pay: the fixed budget, or max rate x estimated hours. The
# literal 'fixed' (not a bound parameter) lets the planners use ix_tasks_listed_price.
PRICE_CEILING = case((Task.pricing == literal_column(f"'{Pricing.FIXED.value}'"), Task.budget),
                     else_=Task.max_rate * Task.estimated_hours)
# PostgreSQL only, columns of migration 0012 kept up to date by the database (not mapped, SQLite
# has none): the generated tsvector and the copies of the task's skill ids and language codes,
# all three in the GIN index ix_tasks_search over listed tasks.
SEARCH_VECTOR = literal_column("tasks.search_vector", TSVECTOR)
SKILL_IDS = literal_column("tasks.skill_ids", ARRAY(Integer))
LANGUAGE_CODES = literal_column("tasks.language_codes", ARRAY(Text))


def listed_task_clause():
    """The one rule for which tasks are listed to anyone but their business (browse, search, matching,
    recommendations): open, approved by moderation, and posted by an account that is not suspended.
    A suspended business's tasks are hidden this way, never deleted; reinstating shows them again.
    Status and moderation are compared with literals, as the partial indexes on listed tasks are
    defined (a bound parameter would hide the match from the planner)."""
    active_business = select(User.id).where(User.id == Task.business_id, User.status == AccountStatus.ACTIVE)
    return and_(Task.status == literal_column(f"'{TaskStatus.OPEN.value}'"),
                Task.moderation_status == literal_column(f"'{ModerationStatus.APPROVED.value}'"),
                exists(active_business))


def listed_tasks():
    """Open, approved tasks of active businesses: what visitors may browse."""
    return select(Task).where(listed_task_clause())


def _text_filter(query: str):
    words = [w for w in query.split() if w][:8]
    if not words:
        return None
    if on_postgresql():
        return SEARCH_VECTOR.op("@@")(func.websearch_to_tsquery("english", " ".join(words)))
    # SQLite's LIKE already ignores the case of ASCII letters, and its lower() folds no others, so
    # a plain LIKE matches exactly what ilike's lower(x) LIKE lower(y) did, without lowering every
    # title and description it reads (a fifth of the search's SQL time).
    conditions = []
    for word in words:
        pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(or_(Task.title.like(pattern, escape="\\"), Task.description.like(pattern, escape="\\")))
    return and_(*conditions)


def build_statement(params: TaskQuery, *, eager: bool = True):
    stmt = listed_tasks()
    text_condition = _text_filter(params.q)
    if text_condition is not None:
        stmt = stmt.where(text_condition)
    postgresql = on_postgresql()
    if params.skill:
        # The skill's id from the taxonomy in memory (an unknown slug matches nothing).
        skill_id = skill_index().ids.get(params.skill, 0)
        if postgresql:
            stmt = stmt.where(SKILL_IDS.op("@>")(array([skill_id])))
        else:
            # An IN list SQLite can start from (the skill's tasks, by index), so the LIKE of a text
            # query runs on those tasks only instead of on every listed one.
            stmt = stmt.where(Task.id.in_(select(TaskSkill.task_id).where(TaskSkill.skill_id == skill_id)))
    if params.language:
        if postgresql:
            stmt = stmt.where(LANGUAGE_CODES.op("@>")(array([cast(params.language, Text)])))
        else:
            stmt = stmt.where(exists().where(TaskLanguage.task_id == Task.id,
                                             TaskLanguage.language == params.language))
    if params.channel:
        stmt = stmt.where(Task.channel == params.channel)
    if params.pricing:
        stmt = stmt.where(Task.pricing == Pricing(params.pricing))
    if params.budget_min is not None:
        stmt = stmt.where(PRICE_CEILING >= params.budget_min)
    if params.budget_max is not None:
        stmt = stmt.where(PRICE_CEILING <= params.budget_max)
    if params.timezone:
        stmt = stmt.where(Task.timezone == params.timezone)
    if params.sort == "budget":
        stmt = stmt.order_by(PRICE_CEILING.desc(), Task.id.desc())
    else:
        stmt = stmt.order_by(Task.published_at.desc(), Task.id.desc())
    if not eager:
        return stmt
    return stmt.options(selectinload(Task.skills), selectinload(Task.languages), selectinload(Task.business))


def search_tasks(params: TaskQuery, page: int = 1, per_page: int = 20):
    ids = build_statement(params, eager=False).with_only_columns(Task.id)
    return bounded_page(ids, load_cards, page, per_page)  # cards: tasks/cards.py


def parse_query(args) -> TaskQuery:
    """Read filters from request args, dropping (and reporting) values that aren't valid."""
    read = QueryArgs(args)
    message = "{} budget must be an amount between 0 and 10,000,000; it was ignored."
    params = TaskQuery(
        q=read.text("q"),
        skill=read.choice("skill", skill_slug_exists),
        language=read.choice("language", LANGUAGES), channel=read.choice("channel", CHANNELS),
        pricing=read.choice("pricing", {p.value for p in Pricing}), sort=read.choice("sort", SORTS) or "newest",
        timezone=read.choice("timezone", TIMEZONE_SET, "time zone"),
        budget_min=read.amount("budget_min", 0, MAX_FILTER_AMOUNT, message.format("Minimum")),
        budget_max=read.amount("budget_max", 0, MAX_FILTER_AMOUNT, message.format("Maximum")))
    params.errors = read.errors
    return params


class MatchPage:
    """A page of best-match results, shaped like Flask-SQLAlchemy's Pagination for the template."""

    def __init__(self, items, page: int, per_page: int, total: int):
        self.items, self.page, self.per_page, self.total = items, page, per_page, total
        self.pages = max(1, -(-total // per_page))
        self.has_prev, self.has_next = page > 1, page < self.pages
        self.prev_num, self.next_num = page - 1, page + 1
        self.capped = False
        self.total_label = str(total)


def best_match_page(params: TaskQuery, actor: User, page: int, per_page: int) -> MatchPage:
    """Filtered tasks ranked by the matching score for this specialist (bounded candidate set)."""
    from flask import current_app

    from marketplace.matching.service import ranked_task_ids
    from marketplace.profiles.models import FreelancerProfile

    limit = current_app.config["MATCH_CANDIDATES"]
    ids = list(db.session.scalars(build_statement(params, eager=False).with_only_columns(Task.id).limit(limit)))
    profile = db.session.scalar(select(FreelancerProfile).where(FreelancerProfile.user_id == actor.id)
                                .options(selectinload(FreelancerProfile.skills),
                                         selectinload(FreelancerProfile.languages),
                                         selectinload(FreelancerProfile.channels)))
    ranked = [task_id for task_id, _ in ranked_task_ids(profile, ids)[:limit]] if profile else []
    start = (page - 1) * per_page
    shown = ranked[start:start + per_page]
    cards = {card.id: card for card in load_cards(shown)}
    return MatchPage([cards[task_id] for task_id in shown if task_id in cards], page, per_page, len(ranked))
