"""The console queue: held items, reports grouped per target, disputes; filters and pages."""
from __future__ import annotations

from datetime import timedelta

from marketplace.bidding.models import Bid, BidStatus
from marketplace.core.time import utcnow
from marketplace.engagements.models import EngagementStatus
from marketplace.extensions import db
from marketplace.moderation import flags, holds
from tests import factories


def _held_task(title: str, age_days: int = 0):
    business = factories.create_business()
    task = factories.create_task(business, title=title)
    case = holds.hold("task", task, business.id, ["Links to an unknown domain"])
    if age_days:
        case.created_at = utcnow() - timedelta(days=age_days)
        db.session.flush()
    return task, case


def _held_bid(cover_note: str):
    freelancer = factories.create_freelancer()
    bid = Bid(task_id=factories.create_task().id, freelancer_id=freelancer.id, amount=20_000,
              cover_note=cover_note, status=BidStatus.PENDING)
    db.session.add(bid)
    db.session.flush()
    return bid, holds.hold("bid", bid, freelancer.id, ["Phone number"])


def test_held_items_show_type_owner_reasons_and_a_preview(client, login_operator, operator):
    task, case = _held_task("Support for crypto wallet users")
    login_operator(operator)
    html = client.get("/moderation/").get_data(as_text=True)
    assert "Support for crypto wallet users" in html
    assert "Links to an unknown domain" in html
    assert task.business.full_name in html
    assert task.description[:40] in html
    assert f'href="/moderation/cases/{case.id}"' in html


def test_filters_by_type_and_age(client, login_operator, operator):
    _held_task("Fresh task held today")
    _held_task("Old task held last week", age_days=8)
    _held_bid("Text me at five five five")
    login_operator(operator)
    only_bids = client.get("/moderation/?tab=held&type=bid").get_data(as_text=True)
    assert "Text me at five five five" in only_bids and "Fresh task held today" not in only_bids
    old = client.get("/moderation/?tab=held&age=7d").get_data(as_text=True)
    assert "Old task held last week" in old and "Fresh task held today" not in old
    # Unknown filter values are ignored, not a 500.
    assert client.get("/moderation/?tab=nope&type=planet&age=forever&page=-3").status_code == 200


def test_reports_are_grouped_per_target_with_count_and_reasons(client, login_operator, operator):
    task = factories.create_task(title="Too good to be true job")
    flags.report(factories.create_freelancer(), "task", task.id, "fraud")
    flags.report(factories.create_freelancer(), "task", task.id, "spam")
    flags.report(factories.create_freelancer(), "task", task.id, "fraud")
    login_operator(operator)
    html = client.get("/moderation/?tab=flags").get_data(as_text=True)
    assert html.count("Too good to be true job") == 1
    row = html.split(f'data-testid="flags-task-{task.id}"')[1].split("</tr>")[0]
    assert ">3<" in row and "Scam or fraud" in row and "Spam or advertising" in row
    assert "Too good to be true job" not in client.get("/moderation/?tab=flags&type=message").get_data(as_text=True)


def test_open_disputes_are_listed_with_a_link(client, login_operator, operator):
    engagement = factories.create_engagement()
    engagement.status = EngagementStatus.DISPUTED
    engagement.dispute_reason = "The work was never delivered"
    db.session.flush()
    login_operator(operator)
    html = client.get("/moderation/?tab=disputes").get_data(as_text=True)
    assert "The work was never delivered" in html
    assert f'href="/moderation/disputes/{engagement.id}"' in html


def test_the_queue_paginates(client, login_operator, operator):
    for n in range(22):
        _held_task(f"Held task number {n:02d}", age_days=30 - n)
    login_operator(operator)
    first = client.get("/moderation/").get_data(as_text=True)
    assert "Held task number 00" in first and "Held task number 21" not in first and "Page 1 of 2" in first
    second = client.get("/moderation/?page=2").get_data(as_text=True)
    assert "Held task number 21" in second
