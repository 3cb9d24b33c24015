"""Operator metrics over a small known data set (marketplace/moderation/metrics.py)."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.bidding.models import Bid
from marketplace.core.errors import Forbidden, ValidationFailed
from marketplace.core.time import UTC, utcnow
from marketplace.engagements import transitions
from marketplace.extensions import db
from marketplace.moderation import charts, metrics
from marketplace.payments.models import Charge
from tests import factories
from tests.payments.helpers import sandbox_fund

H = timedelta(hours=1)


def _task(business, published_at, status="open"):
    task = factories.create_task(business, status=status)
    task.published_at = published_at
    db.session.flush()
    return task


def _bid(task, freelancer, at):
    bid = Bid(task_id=task.id, freelancer_id=freelancer.id, amount=10_000, cover_note="I can help.", created_at=at)
    db.session.add(bid)
    db.session.flush()
    return bid


def _hire(task, freelancer, bid_at, hired_at, amount):
    e = factories.create_engagement(db.session.get(User, task.business_id), freelancer, amount=amount, task=task)
    db.session.get(Bid, e.bid_id).created_at = bid_at
    e.created_at = hired_at
    db.session.flush()
    return e


@pytest.fixture()
def world():
    """Four tasks published three days ago (06:00 UTC), one 40 days ago, one draft.

    T1: bids after 2 h and 5 h, hired after 10 h, 100.00 approved (fee 10.00)
    T2: bid after 4 h, no hire
    T3: no bids
    T4: bid after 1 h, hired after 4 h, 200.00 disputed and split 100/100 (fee 10.00)
    """
    today = utcnow().date()
    base = datetime.combine(today - timedelta(days=3), time(6), tzinfo=UTC)
    old = base - timedelta(days=37)
    business = factories.create_business()
    fa, fb, fc, fd, fold = (factories.create_freelancer() for _ in range(5))
    operator = factories.create_operator()

    t1, t2, t3, t4 = (_task(business, base + offset, "in_progress") for offset in (0 * H, 1 * H, 2 * H, 0 * H))
    e1 = _hire(t1, fa, base + 2 * H, base + 10 * H, 10_000)
    _bid(t1, fb, base + 5 * H)
    _bid(t2, fc, base + 5 * H)
    e2 = _hire(t4, fd, base + 1 * H, base + 4 * H, 20_000)
    for e in (e1, e2):
        sandbox_fund(e)
    transitions.deliver(fa, e1, "All shifts covered.")
    transitions.approve(business, e1)
    transitions.open_dispute(business, e2, "Half the shifts were missed.")
    transitions.resolve_dispute(operator, e2, 10_000, 10_000)

    # Outside a 7-day period: an old task with its bid, hire and payment; and a draft.
    t_old = _task(business, old, "in_progress")
    e_old = _hire(t_old, fold, old + H, old + 2 * H, 30_000)
    sandbox_fund(e_old)
    e_old.funded_at = old + 3 * H
    for charge in db.session.scalars(select(Charge).where(Charge.engagement_id == e_old.id)):
        charge.created_at = old + 3 * H
    factories.create_task(business, status="draft")
    db.session.flush()
    return {"operator": operator, "today": today, "base": base}


def test_each_metric_over_a_week(world):
    period = metrics.parse_period({"days": "7"}, today=world["today"])
    assert (period.bucket, period.days) == ("day", 7)
    r = metrics.report(world["operator"], period)
    assert r.gross_volume == 30_000                 # 100.00 + 200.00; the old payment is outside
    assert r.revenue == 2_000                       # 10% of the 100.00 approved + 10% of the 100.00 released
    assert (r.tasks_posted, r.tasks_filled) == (4, 2)
    assert r.fill_rate == 0.5
    assert r.median_first_bid_hours == pytest.approx(2.0)     # of 2 h, 4 h and 1 h
    assert r.median_hire_hours == pytest.approx(7.0)          # of 10 h and 4 h, interpolated
    assert (r.engagements_funded, r.engagements_disputed, r.dispute_rate) == (2, 1, 0.5)
    assert r.active_specialists == 4                # fa, fb, fc, fd
    # The series has every day of the period, zeros included, and adds up to the totals.
    assert [p.start for p in r.series] == [world["today"] - timedelta(days=6 - i) for i in range(7)]
    by_day = {p.start: p for p in r.series}
    posted_day = by_day[world["base"].date()]
    assert (posted_day.tasks_posted, posted_day.tasks_filled) == (4, 2)
    assert by_day[world["today"]].gross_volume == 30_000 and by_day[world["today"]].revenue == 2_000
    assert sum(p.tasks_posted for p in r.series) == 4


def test_a_longer_range_includes_the_old_activity_by_week(world):
    today = world["today"]
    period = metrics.parse_period({"from": (today - timedelta(days=59)).isoformat(), "to": today.isoformat()},
                                  today=today)
    assert period.bucket == "day"
    period = metrics.parse_period({"from": (today - timedelta(days=89)).isoformat(), "to": today.isoformat()},
                                  today=today)
    assert period.bucket == "week" and all(p.weekday() == 0 for p in period.buckets())
    r = metrics.report(world["operator"], period)
    assert r.gross_volume == 60_000
    assert (r.tasks_posted, r.tasks_filled) == (5, 3)
    assert r.median_first_bid_hours == pytest.approx(1.5)     # of 2, 4, 1 and 1 h
    assert r.median_hire_hours == pytest.approx(4.0)          # of 10, 4 and 2 h
    assert (r.engagements_funded, r.engagements_disputed) == (3, 1)
    assert r.active_specialists == 5
    assert sum(p.tasks_posted for p in r.series) == 5
    assert len(r.series) <= metrics.MAX_BUCKETS


def test_an_empty_period_has_zeros_and_no_medians():
    operator = factories.create_operator()
    r = metrics.report(operator, metrics.parse_period({"days": "365"}))
    assert r.period.bucket == "week" and len(r.series) in (53, 54)
    assert metrics.parse_period({"from": "2024-01-01", "to": "2025-06-30"}, today=date(2026, 1, 1)).bucket == "month"
    assert (r.gross_volume, r.revenue, r.tasks_posted, r.active_specialists) == (0, 0, 0, 0)
    assert r.fill_rate is None and r.dispute_rate is None and r.median_hire_hours is None


@pytest.mark.parametrize("args,message", [
    ({"from": "2026-03-10", "to": "2026-03-01"}, "on or after the from date"),
    ({"from": "1900-01-01", "to": "1900-02-01"}, "Metrics start on"),
    ({"from": "2020-01-01", "to": "2025-12-31"}, "at most 1,096 days"),
    ({"from": "yesterday", "to": "2026-03-01"}, "must look like"),
    ({"from": "2026-02-30", "to": "2026-03-01"}, "must look like"),
    ({"from": "2026-03-01"}, "both a from date and a to date"),
    ({"from": "2026-03-01", "to": "2099-01-01"}, "can't be in the future"),
    ({"days": "13"}, "preset periods"),
    ({"days": "-7"}, "preset periods"),
    ({"days": "9" * 400}, "preset periods"),
    ({"days": "²"}, "preset periods"),           # str.isdigit() is true for it, int() refuses it
    ({"days": "７"}, "preset periods"),          # a full-width 7 is not the preset 7
    ({"from": "2026-01-01", "to": "9999-12-31"}, "can't be in the future"),
])
def test_bad_periods_are_refused_clearly(args, message):
    with pytest.raises(ValidationFailed, match=message):
        metrics.parse_period(args, today=date(2026, 11, 23))


def test_only_operators_see_metrics(client, login_as, login_operator):
    with pytest.raises(Forbidden):
        metrics.report(factories.create_business(), metrics.parse_period({}))
    login_as(factories.create_freelancer())
    assert client.get("/moderation/metrics").status_code == 403


def test_metrics_page_renders_totals_charts_and_table(world, client, login_operator):
    login_operator(world["operator"])
    response = client.get("/moderation/metrics?days=7")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "$300.00" in page and "$20.00" in page and "50.0%" in page and "2.0 h" in page and "7.0 h" in page
    for chart_id in ("chart-gross", "chart-revenue", "chart-tasks", "chart-fill"):
        assert f'id="{chart_id}"' in page and f'id="{chart_id}-title"' in page
    assert 'role="img"' in page and 'id="metrics-table"' in page
    assert "<script" not in page[page.index('id="totals"'):page.index('id="metrics-table"')]


@pytest.mark.parametrize("query,message", [
    ("from=2026-03-10&to=2026-03-01", "on or after the from date"),
    ("from=31%2F12%2F2025&to=x", "must look like"),
    ("days=100000000000000000000", "preset periods"),
    ("days=%C2%B2", "preset periods"),
    ("from=2000-01-01&to=9999-12-31", "be in the future"),
    ("currency=XYZ", "supported currencies"),
])
def test_bad_period_on_the_page_is_a_clear_400(client, login_operator, query, message):
    login_operator(factories.create_operator())
    response = client.get(f"/moderation/metrics?{query}")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page and 'id="period-error"' in page and 'id="totals"' in page


def test_chart_geometry():
    c = charts.chart("c", "Tasks", [("a", 0), ("b", 5), ("c", None), ("d", 10)], str)
    assert [b.height for b in c.bars][0] == 0 and c.bars[2].value_label == "—"
    assert c.bars[3].height == pytest.approx(2 * c.bars[1].height)
    assert c.y_ticks[-1][1] == "10.0" and charts.nice_ceiling(7) == 10 and charts.nice_ceiling(230) == 250 and charts.nice_ceiling(31) == 40
    assert [label for _, label in charts.chart("t", "T", [("a", 3)], str, min_top=5).y_ticks] == \
        ["0.0", "1.0", "2.0", "3.0", "4.0", "5.0"]
    line = charts.chart("f", "Fill", [("a", 50), ("b", None), ("c", 100), ("d", 0)], str, kind="line", max_value=100)
    assert len(line.line_segments) == 2 and line.line_segments[1].count(",") == 2
    assert not c.empty and charts.chart("e", "Empty", [("a", 0)], str).empty


def test_seeded_history_is_consistent_and_deterministic():
    import random

    from marketplace.demo import seed_activity, seed_demo
    from marketplace.engagements.models import Engagement
    from marketplace.payments import ledger

    seed_demo(freelancers=30, businesses=3, seed=5)
    with db.session.begin_nested() as first:
        counts = seed_activity(random.Random(9), 300, echo=lambda _: None)
        amounts = list(db.session.scalars(select(Engagement.amount).order_by(Engagement.id)))
        first.rollback()
    assert seed_activity(random.Random(9), 300, echo=lambda _: None) == counts
    assert list(db.session.scalars(select(Engagement.amount).order_by(Engagement.id))) == amounts
    assert counts["tasks"] == 300 and counts["bids"] > 300 and counts["engagements"] > 50
    assert ledger.check() == []
    r = metrics.report(factories.create_operator(), metrics.parse_period({"days": "365"}))
    assert r.gross_volume > 0 and r.revenue > 0 and 0 < r.fill_rate < 1 and r.median_hire_hours > 0
