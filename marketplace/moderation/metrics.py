"""Marketplace metrics for operators: SQL aggregates over a period, totals and a series per bucket.

Definitions (all times UTC; a period is [from 00:00, to + 1 day 00:00)):

- gross volume: the sum of succeeded charges (`payment_charges.status = 'succeeded'`) started
  in the period, in one currency (USD by default);
- platform revenue: the fee the ledger recorded as earned, i.e. the credit balance of the
  `fee_revenue` account over ledger transactions posted in the period (fees on released money:
  approvals and dispute resolutions);
- tasks posted: tasks whose `published_at` is in the period; fill rate: the share of those that
  got at least one hire (an engagement, whatever became of it);
- median time to first bid / to hire: from `published_at` to the task's first bid / first
  engagement, over the tasks posted in the period that got one (hours);
- dispute rate: of the engagements funded in the period, the share that went to a dispute
  (status disputed or resolved);
- active specialists: distinct specialists who placed a bid, or whose engagement was funded,
  delivered or completed, in the period.

One code path per metric; the only dialect switch is `_Dialect` below: bucket starts
(`date_trunc` on PostgreSQL, `date()`/`strftime()` on SQLite, which stores UTC datetimes as
ISO text), seconds between two datetimes (`extract(epoch ...)` / `julianday()`), and the
median (`percentile_cont(0.5) WITHIN GROUP` / the middle row(s) by `row_number()`, which gives
the same interpolated median).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, extract, func, or_, select, union_all

from marketplace.bidding.models import Bid
from marketplace.core.errors import ValidationFailed
from marketplace.core.integers import parse_int
from marketplace.core.money import CURRENCIES
from marketplace.core.time import UTC, utcnow
from marketplace.engagements.models import Engagement, EngagementStatus as S
from marketplace.extensions import db
from marketplace.moderation.access import require_operator
from marketplace.payments.ledger import FEES
from marketplace.payments.models import Charge, LedgerAccount, LedgerEntry, LedgerTransaction
from marketplace.tasks.models import Task

PRESETS = (7, 30, 90, 365)
DEFAULT_DAYS = 30
MAX_DAYS = 1096          # three years: 36 monthly buckets
EARLIEST = date(2000, 1, 1)
MAX_BUCKETS = 62


# --- the period ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    start: date          # first day, inclusive
    end: date            # last day, inclusive
    bucket: str          # day | week | month
    preset: int | None = None

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time(0), tzinfo=UTC)

    @property
    def end_at(self) -> datetime:  # exclusive
        return datetime.combine(self.end + timedelta(days=1), time(0), tzinfo=UTC)

    def buckets(self) -> list[date]:
        """Every bucket's first day, aligned as the database aligns them (weeks start on Monday)."""
        first = bucket_start(self.start, self.bucket)
        out, current = [], first
        while current <= self.end:
            out.append(current)
            current = next_bucket(current, self.bucket)
        return out


def bucket_start(day: date, bucket: str) -> date:
    if bucket == "week":
        return day - timedelta(days=day.weekday())
    if bucket == "month":
        return day.replace(day=1)
    return day


def next_bucket(day: date, bucket: str) -> date:
    if bucket == "week":
        return day + timedelta(days=7)
    if bucket == "month":
        return (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return day + timedelta(days=1)


def choose_bucket(days: int) -> str:
    """The finest bucket that keeps the series at about 60 points or fewer."""
    if days <= 60:
        return "day"
    if days <= 7 * 60:
        return "week"
    return "month"


def _parse_date(text: str, label: str) -> date:
    try:
        if len(text) > 10:
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(f"The {label} date must look like 2026-01-31.", field=label)


def parse_period(args, today: date | None = None) -> Period:
    """A period from query arguments: `days` (a preset) or `from` and `to` (ISO dates). Clear errors."""
    today = today or utcnow().date()
    raw_from, raw_to = (args.get("from") or "").strip(), (args.get("to") or "").strip()
    raw_days = (args.get("days") or "").strip()
    if raw_from or raw_to:
        if not (raw_from and raw_to):
            raise ValidationFailed("Choose both a from date and a to date (or a preset period).", field="from")
        start, end = _parse_date(raw_from, "from"), _parse_date(raw_to, "to")
        if end < start:
            raise ValidationFailed("The to date must be on or after the from date.", field="to")
        if start < EARLIEST:
            raise ValidationFailed(f"Metrics start on {EARLIEST.isoformat()}; choose a later from date.",
                                   field="from")
        if end > today:
            raise ValidationFailed("The to date can't be in the future.", field="to")
        if (end - start).days + 1 > MAX_DAYS:
            raise ValidationFailed(f"Choose a period of at most {MAX_DAYS:,} days (three years).", field="from")
        return Period(start, end, choose_bucket((end - start).days + 1))
    days = DEFAULT_DAYS
    if raw_days:
        try:
            days = parse_int(raw_days, 1, max(PRESETS))
        except ValueError:
            days = None
        if days not in PRESETS:
            raise ValidationFailed("Choose one of the preset periods: "
                                   + ", ".join(f"{d} days" for d in PRESETS) + ".", field="days")
    return Period(today - timedelta(days=days - 1), today, choose_bucket(days), preset=days)


def parse_currency(args) -> str:
    currency = (args.get("currency") or "USD").strip().upper()
    if currency not in CURRENCIES:
        raise ValidationFailed("Choose one of the supported currencies: " + ", ".join(CURRENCIES) + ".",
                               field="currency")
    return currency


# --- the dialect switch ---------------------------------------------------------------------------

class _Dialect:
    def __init__(self, name: str):
        self.pg = name == "postgresql"

    def bucket(self, column, bucket: str):
        if self.pg:
            return func.date_trunc(bucket, func.timezone("UTC", column))
        if bucket == "week":
            return func.date(column, "weekday 0", "-6 days")
        if bucket == "month":
            return func.strftime("%Y-%m-01", column)
        return func.date(column)

    def seconds_between(self, later, earlier):
        if self.pg:
            return extract("epoch", later - earlier)
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0

    def median(self, values):
        """The interpolated median of a one-column select, as a scalar subquery (NULLs ignored)."""
        values = values.subquery()
        x = values.c[0]
        if self.pg:
            return select(func.percentile_cont(0.5).within_group(x)).scalar_subquery()
        ordered = select(x.label("x"), func.row_number().over(order_by=x).label("rn"),
                         func.count().over().label("n")).where(x.is_not(None)).subquery()
        return (select(func.avg(ordered.c.x))
                .where(ordered.c.rn.in_([(ordered.c.n + 1) // 2, (ordered.c.n + 2) // 2])).scalar_subquery())


def _key(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


# --- the report -----------------------------------------------------------------------------------

@dataclass
class Point:
    start: date
    gross_volume: int = 0
    revenue: int = 0
    tasks_posted: int = 0
    tasks_filled: int = 0

    @property
    def fill_rate(self) -> float | None:
        return self.tasks_filled / self.tasks_posted if self.tasks_posted else None


@dataclass
class Report:
    period: Period
    currency: str
    gross_volume: int = 0
    revenue: int = 0
    tasks_posted: int = 0
    tasks_filled: int = 0
    median_first_bid_hours: float | None = None
    median_hire_hours: float | None = None
    engagements_funded: int = 0
    engagements_disputed: int = 0
    active_specialists: int = 0
    series: list[Point] = field(default_factory=list)

    @property
    def fill_rate(self) -> float | None:
        return self.tasks_filled / self.tasks_posted if self.tasks_posted else None

    @property
    def dispute_rate(self) -> float | None:
        return self.engagements_disputed / self.engagements_funded if self.engagements_funded else None


def _in_period(column, period: Period):
    return and_(column >= period.start_at, column < period.end_at)


def report(operator, period: Period, currency: str = "USD") -> Report:
    require_operator(operator)
    d = _Dialect(db.engine.dialect.name)
    result = Report(period, currency)
    points = {start: Point(start) for start in period.buckets()}

    def point(value) -> Point:
        start = _key(value)
        return points.setdefault(start, Point(start))

    # Gross volume: succeeded charges started in the period.
    bucket = d.bucket(Charge.created_at, period.bucket).label("b")
    for b, total in db.session.execute(
            select(bucket, func.sum(Charge.amount)).where(Charge.status == "succeeded", Charge.currency == currency,
                                                          _in_period(Charge.created_at, period)).group_by(bucket)):
        point(b).gross_volume = int(total or 0)

    # Revenue: the fee_revenue account's credits (minus any debits) posted in the period.
    bucket = d.bucket(LedgerTransaction.created_at, period.bucket).label("b")
    for b, total in db.session.execute(
            select(bucket, -func.sum(LedgerEntry.amount))
            .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
            .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
            .where(LedgerAccount.code == FEES, LedgerAccount.currency == currency,
                   _in_period(LedgerTransaction.created_at, period)).group_by(bucket)):
        point(b).revenue = int(total or 0)

    # Tasks posted in the period with their first bid and first hire. Bids and hires come after
    # publishing, so only those made since the period started can be a posted task's first.
    posted = select(Task.id, Task.published_at).where(_in_period(Task.published_at, period)).subquery("posted")
    first_bid = (select(Bid.task_id, func.min(Bid.created_at).label("at")).where(Bid.created_at >= period.start_at)
                 .group_by(Bid.task_id).subquery("first_bid"))
    first_hire = (select(Engagement.task_id, func.min(Engagement.created_at).label("at"))
                  .where(Engagement.created_at >= period.start_at).group_by(Engagement.task_id)
                  .subquery("first_hire"))
    tasks = (select(d.bucket(posted.c.published_at, period.bucket).label("b"), first_hire.c.task_id.label("hired"))
             .select_from(posted).outerjoin(first_hire, first_hire.c.task_id == posted.c.id).subquery("t"))
    for b, count, hired in db.session.execute(
            select(tasks.c.b, func.count(), func.count(tasks.c.hired)).group_by(tasks.c.b)):
        p = point(b)
        p.tasks_posted, p.tasks_filled = int(count), int(hired)
    # The medians only need the tasks that got a bid (a hire): inner joins, one statement for both.
    to_bid, to_hire = db.session.execute(select(
        d.median(select(d.seconds_between(first_bid.c.at, posted.c.published_at))
                 .select_from(posted).join(first_bid, first_bid.c.task_id == posted.c.id)),
        d.median(select(d.seconds_between(first_hire.c.at, posted.c.published_at))
                 .select_from(posted).join(first_hire, first_hire.c.task_id == posted.c.id)))).one()
    result.median_first_bid_hours = None if to_bid is None else float(to_bid) / 3600
    result.median_hire_hours = None if to_hire is None else float(to_hire) / 3600

    # Dispute rate: engagements funded in the period, and how many of them were disputed.
    funded, disputed = db.session.execute(
        select(func.count(), func.count().filter(Engagement.status.in_((S.DISPUTED, S.RESOLVED))))
        .where(_in_period(Engagement.funded_at, period))).one()
    result.engagements_funded, result.engagements_disputed = int(funded), int(disputed or 0)

    # Active specialists: bid, or had an engagement funded, delivered or completed, in the period.
    who = union_all(
        select(Bid.freelancer_id.label("fid")).where(_in_period(Bid.created_at, period)),
        select(Engagement.freelancer_id.label("fid")).where(or_(
            _in_period(Engagement.funded_at, period), _in_period(Engagement.delivered_at, period),
            _in_period(Engagement.completed_at, period)))).subquery("who")
    result.active_specialists = int(db.session.scalar(select(func.count(func.distinct(who.c.fid)))) or 0)

    result.series = [points[k] for k in sorted(points)]
    for p in result.series:
        result.gross_volume += p.gross_volume
        result.revenue += p.revenue
        result.tasks_posted += p.tasks_posted
        result.tasks_filled += p.tasks_filled
    return result


__all__ = ["Period", "Report", "parse_period", "parse_currency", "report", "PRESETS"]
