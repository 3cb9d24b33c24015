"""What the console lists: held items, open flags grouped per target, open disputes; the audit log search.

Read-only queries for operators. Each list is filtered in the database and
paginated; the items behind a page are loaded in one query per type (their
previews may read a related row each, bounded by the page size).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import selectinload

from marketplace.accounts.models import User
from marketplace.core.integers import MAX_ID, parse_int
from marketplace.core.query_args import QueryArgs
from marketplace.core.time import utcnow
from marketplace.extensions import db
from marketplace.moderation.access import require_operator
from marketplace.moderation.flags import REASON_LABELS, describe
from marketplace.moderation.models import TARGET_TYPES, AuditEntry, Flag, ModerationCase
from marketplace.moderation.targets import model_for

TABS = {"held": "Held items", "flags": "Reports", "disputes": "Disputes"}
AGES = {"": "Any age", "1d": "Older than a day", "3d": "Older than 3 days", "7d": "Older than a week"}
AGE_DELTAS = {"1d": timedelta(days=1), "3d": timedelta(days=3), "7d": timedelta(days=7)}
HELD_TYPES = ("task", "bid", "message")
PREVIEW = 280


@dataclass
class QueueFilters:
    tab: str = "held"
    target_type: str = ""
    age: str = ""

    @property
    def cutoff(self) -> datetime | None:
        delta = AGE_DELTAS.get(self.age)
        return utcnow() - delta if delta else None

    def args(self, **override) -> dict:
        values = {"tab": self.tab, "type": self.target_type, "age": self.age}
        values.update(override)
        return {k: v for k, v in values.items() if v}


def parse_filters(args) -> QueueFilters:
    read = QueryArgs(args)
    tab = read.choice("tab", TABS) or "held"
    types = HELD_TYPES if tab == "held" else TARGET_TYPES if tab == "flags" else ()
    return QueueFilters(tab=tab, target_type=read.choice("type", types) if types else "",
                        age=read.choice("age", AGE_DELTAS) or "")


def _preview(text: str | None) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= PREVIEW else flat[:PREVIEW - 1] + "…"


def _safe_describe(target_type: str, item):
    try:
        return describe(target_type, item) if item is not None else None
    except Exception:  # a preview must never break the queue page
        return None


def _load_items(keys: list[tuple[str, int]]) -> dict[tuple[str, int], object]:
    """The rows behind (type, id) keys, one query per type."""
    by_type: dict[str, list[int]] = {}
    for target_type, target_id in keys:
        by_type.setdefault(target_type, []).append(target_id)
    found = {}
    for target_type, ids in by_type.items():
        model = model_for(target_type)
        for row in db.session.scalars(select(model).where(model.id.in_(ids))):
            found[(target_type, row.id)] = row
    return found


def counts(actor: User) -> dict[str, int]:
    require_operator(actor)
    from marketplace.engagements.models import Engagement, EngagementStatus
    return {
        "held": db.session.scalar(select(func.count()).select_from(ModerationCase)
                                  .where(ModerationCase.status == "open")) or 0,
        "flags": db.session.scalar(select(func.count()).select_from(
            select(Flag.target_type, Flag.target_id).where(Flag.status == "open")
            .group_by(Flag.target_type, Flag.target_id).subquery())) or 0,
        "disputes": db.session.scalar(select(func.count()).select_from(Engagement)
                                      .where(Engagement.status == EngagementStatus.DISPUTED)) or 0,
    }


@dataclass
class HeldRow:
    case: ModerationCase
    title: str
    preview: str
    path: str


def next_open_case(actor: User, skip: int | None = None) -> int | None:
    """The id of the oldest open held case (other than `skip`), in the queue's order."""
    require_operator(actor)
    query = select(ModerationCase.id).where(ModerationCase.status == "open")
    if skip is not None:
        query = query.where(ModerationCase.id != skip)
    return db.session.scalar(query.order_by(ModerationCase.created_at, ModerationCase.id).limit(1))


def held_page(actor: User, filters: QueueFilters, page: int, per_page: int = 20):
    require_operator(actor)
    query = (select(ModerationCase).where(ModerationCase.status == "open")
             .options(selectinload(ModerationCase.owner)).order_by(ModerationCase.created_at, ModerationCase.id))
    if filters.target_type:
        query = query.where(ModerationCase.target_type == filters.target_type)
    if filters.cutoff is not None:
        query = query.where(ModerationCase.created_at <= filters.cutoff)
    pagination = db.paginate(query, page=page, per_page=per_page, error_out=False)
    rows = []
    items = _load_items([(case.target_type, case.target_id) for case in pagination.items])
    for case in pagination.items:
        target = _safe_describe(case.target_type, items.get((case.target_type, case.target_id)))
        rows.append(HeldRow(case, target.title if target else f"{case.target_type} #{case.target_id} (gone)",
                            _preview(target.body) if target else "", target.path if target else ""))
    return pagination, rows


@dataclass
class FlagGroup:
    target_type: str
    target_id: int
    count: int
    first_at: datetime
    reasons: list[str]
    owner: User | None
    title: str = ""
    preview: str = ""


class SimplePage:
    """A page shaped like Flask-SQLAlchemy's Pagination for the templates."""

    def __init__(self, items, page: int, per_page: int, total: int):
        self.items, self.page, self.per_page, self.total = items, page, per_page, total
        self.pages = max(1, -(-total // per_page))
        self.has_prev, self.has_next = page > 1, page < self.pages
        self.prev_num, self.next_num = page - 1, page + 1


def flag_groups_page(actor: User, filters: QueueFilters, page: int, per_page: int = 20) -> SimplePage:
    """Open flags grouped per target, oldest report first, with count, reasons and the owner."""
    require_operator(actor)
    conditions = [Flag.status == "open"]
    if filters.target_type:
        conditions.append(Flag.target_type == filters.target_type)
    grouped = (select(Flag.target_type, Flag.target_id, func.count().label("n"),
                      func.min(Flag.created_at).label("first_at"), func.max(Flag.target_owner_id).label("owner_id"))
               .where(*conditions).group_by(Flag.target_type, Flag.target_id))
    if filters.cutoff is not None:
        grouped = grouped.having(func.min(Flag.created_at) <= filters.cutoff)
    sub = grouped.subquery()
    total = db.session.scalar(select(func.count()).select_from(sub)) or 0
    rows = db.session.execute(select(sub).order_by(sub.c.first_at, sub.c.target_type, sub.c.target_id)
                              .offset((page - 1) * per_page).limit(per_page)).all()
    keys = [(r.target_type, r.target_id) for r in rows]
    reasons: dict[tuple[str, int], list[str]] = {}
    if keys:
        for t, i, reason in db.session.execute(
                select(Flag.target_type, Flag.target_id, Flag.reason)
                .where(Flag.status == "open", or_(*[and_(Flag.target_type == t, Flag.target_id == i)
                                                    for t, i in keys]))):
            label = REASON_LABELS.get(reason, reason)
            if label not in reasons.setdefault((t, i), []):
                reasons[(t, i)].append(label)
    owners = {u.id: u for u in db.session.scalars(select(User).where(
        User.id.in_([r.owner_id for r in rows if r.owner_id])))} if rows else {}
    groups = []
    items = _load_items(keys)
    for r in rows:
        target = _safe_describe(r.target_type, items.get((r.target_type, r.target_id)))
        groups.append(FlagGroup(r.target_type, r.target_id, r.n, r.first_at, reasons.get((r.target_type, r.target_id), []),
                                owners.get(r.owner_id), target.title if target else f"{r.target_type} #{r.target_id} (gone)",
                                _preview(target.body) if target else ""))
    return SimplePage(groups, page, per_page, total)


def disputes_page(actor: User, filters: QueueFilters, page: int, per_page: int = 20):
    require_operator(actor)
    from marketplace.engagements.models import Engagement, EngagementStatus
    query = (select(Engagement).where(Engagement.status == EngagementStatus.DISPUTED)
             .options(selectinload(Engagement.task), selectinload(Engagement.business),
                      selectinload(Engagement.freelancer))
             .order_by(Engagement.updated_at, Engagement.id))
    if filters.cutoff is not None:
        query = query.where(Engagement.updated_at <= filters.cutoff)
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


# --- owner history -------------------------------------------------------------------------

USER_ACTIONS = ("warn", "suspend", "reinstate", "reject", "remove")


def history_of(user_id: int, limit: int = 20) -> list[AuditEntry]:
    """Earlier operator decisions that affected the user (warnings, suspensions, removals...)."""
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.subject_user_id == user_id,
                                                            AuditEntry.action.in_(USER_ACTIONS))
                                   .options(selectinload(AuditEntry.actor))
                                   .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc()).limit(limit)))


# --- audit log -----------------------------------------------------------------------------

@dataclass
class AuditFilters:
    q: str = ""
    action: str = ""
    actor: str = ""          # operator email or id
    target_type: str = ""
    target_id: int | None = None
    subject: str = ""        # affected user's email or id
    date_from: datetime | None = None
    date_to: datetime | None = None
    errors: list[str] = field(default_factory=list)

    def args(self, **override) -> dict:
        values = {"q": self.q, "action": self.action, "actor": self.actor, "target_type": self.target_type,
                  "target_id": self.target_id, "subject": self.subject,
                  "from": self.date_from.date().isoformat() if self.date_from else "",
                  "to": (self.date_to - timedelta(days=1)).date().isoformat() if self.date_to else ""}
        values.update(override)
        return {k: v for k, v in values.items() if v not in ("", None)}


def _parse_date(value: str | None, errors: list[str], label: str) -> datetime | None:
    from datetime import timezone
    if not value:
        return None
    try:
        parsed = datetime.strptime(value.strip()[:10], "%Y-%m-%d")
    except ValueError:
        errors.append(f"The {label} date must look like 2026-01-31; it was ignored.")
        return None
    return parsed.replace(tzinfo=timezone.utc)


def parse_audit_filters(args) -> AuditFilters:
    errors: list[str] = []
    target_id = None
    raw_id = (args.get("target_id") or "").strip()
    if raw_id:
        try:
            target_id = parse_int(raw_id, 1, MAX_ID)
        except ValueError:
            errors.append("The target id must be a number; it was ignored.")
    date_from = _parse_date(args.get("from"), errors, "from")
    date_to = _parse_date(args.get("to"), errors, "to")
    try:
        date_to_end = date_to + timedelta(days=1) if date_to else None
    except OverflowError:   # to=9999-12-31: nothing can be later, so no upper bound
        date_to, date_to_end = None, None
    return AuditFilters(q=(args.get("q") or "").strip()[:200], action=(args.get("action") or "").strip()[:40],
                        actor=(args.get("actor") or "").strip()[:254],
                        target_type=(args.get("target_type") or "").strip()[:20], target_id=target_id,
                        subject=(args.get("subject") or "").strip()[:254], date_from=date_from,
                        date_to=date_to_end, errors=errors)


def _user_condition(column, value: str):
    try:
        return column == parse_int(value, 1, MAX_ID)
    except ValueError:   # not an id: part of an email address
        ids = select(User.id).where(User.email.ilike("%" + _escape(value.lower()) + "%", escape="\\"))
        return column.in_(ids)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def audit_page(actor: User, filters: AuditFilters, page: int, per_page: int = 50):
    require_operator(actor)
    query = (select(AuditEntry).options(selectinload(AuditEntry.actor), selectinload(AuditEntry.subject_user))
             .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc()))
    if filters.q:
        pattern = "%" + _escape(filters.q) + "%"
        query = query.where(or_(AuditEntry.reason.ilike(pattern, escape="\\"),
                                AuditEntry.details.ilike(pattern, escape="\\")))
    if filters.action:
        query = query.where(AuditEntry.action == filters.action)
    if filters.actor:
        if filters.actor.lower() == "system":
            query = query.where(AuditEntry.actor_id.is_(None))
        else:
            query = query.where(_user_condition(AuditEntry.actor_id, filters.actor))
    if filters.target_type:
        query = query.where(AuditEntry.target_type == filters.target_type)
    if filters.target_id is not None:
        query = query.where(AuditEntry.target_id == filters.target_id)
    if filters.subject:
        query = query.where(_user_condition(AuditEntry.subject_user_id, filters.subject))
    if filters.date_from is not None:
        query = query.where(AuditEntry.created_at >= filters.date_from)
    if filters.date_to is not None:
        query = query.where(AuditEntry.created_at < filters.date_to)
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def audit_actions() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))


def audit_target_types() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.target_type).distinct().order_by(AuditEntry.target_type)))
