"""Marketplace metrics for operators (`/moderation/metrics`): see metrics.py for the definitions."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user

from marketplace.core.errors import ValidationFailed
from marketplace.core.money import CURRENCIES, format_money
from marketplace.moderation import charts, metrics
from marketplace.moderation.access import operator_required

bp = Blueprint("metrics", __name__)


def _label(day, bucket: str) -> str:
    return day.strftime("%b %Y") if bucket == "month" else day.strftime("%d %b")


def _whole_money(currency: str):
    return lambda v: format_money(int(round(v)), currency).rsplit(".", 1)[0]


def _charts(report) -> list[charts.Chart]:
    bucket, cur = report.period.bucket, report.currency
    labels = [_label(p.start, bucket) for p in report.series]
    per = {"day": "per day", "week": "per week", "month": "per month"}[bucket]
    return [
        charts.chart("chart-gross", f"Gross volume {per} ({cur})",
                     list(zip(labels, [p.gross_volume for p in report.series])), _whole_money(cur)),
        charts.chart("chart-revenue", f"Platform revenue {per} ({cur})",
                     list(zip(labels, [p.revenue for p in report.series])), _whole_money(cur)),
        charts.chart("chart-tasks", f"Tasks posted {per}",
                     list(zip(labels, [p.tasks_posted for p in report.series])), lambda v: f"{v:,.0f}", min_top=5),
        charts.chart("chart-fill", f"Fill rate of the tasks posted {per}",
                     list(zip(labels, [None if p.fill_rate is None else p.fill_rate * 100 for p in report.series])),
                     lambda v: f"{v:.0f}%", kind="line", max_value=100),
    ]


@bp.get("/moderation/metrics")
@operator_required
def index():
    error = None
    try:
        period = metrics.parse_period(request.args)
        currency = metrics.parse_currency(request.args)
    except ValidationFailed as refused:
        error = refused
        period, currency = metrics.parse_period({}), "USD"
    report = metrics.report(current_user, period, currency)
    return render_template("moderation/metrics.html", report=report, charts=_charts(report), error=error,
                           presets=metrics.PRESETS, currencies=list(CURRENCIES), args=request.args), \
        400 if error else 200
