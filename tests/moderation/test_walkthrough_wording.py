"""Operator pages say what happened: decided reports are not "nobody reported", and a resolved
dispute shows the fee actually charged."""
from __future__ import annotations

from marketplace.engagements import transitions
from marketplace.extensions import db
from marketplace.moderation import actions, flags
from tests import factories
from tests.moderation.test_disputes import disputed
from tests.tasks.helpers import plain


def test_an_upheld_report_page_does_not_say_nobody_reported_it(client, login_operator):
    operator = factories.create_operator()
    freelancer = factories.create_freelancer()
    task = factories.create_task()
    flags.report(freelancer, "task", task.id, "spam", "Copied from elsewhere.")
    actions.act_on_flags(operator, "task", task.id, "warn", "Please write your own task text.")
    db.session.flush()
    login_operator(operator)
    page = plain(client.get(f"/moderation/flags/task/{task.id}"))
    assert "Nobody has reported this item" not in page
    assert "The reports on this item have been decided" in page


def test_a_resolved_dispute_shows_the_fee_charged_on_what_was_released(client, login_operator):
    e = disputed(85_000)   # 10% fee: $85.00 on the full amount
    operator = factories.create_operator()
    transitions.resolve_dispute(operator, e, 53_000, 32_000)
    db.session.flush()
    login_operator(operator)
    page = plain(client.get(f"/moderation/disputes/{e.id}"))
    assert "$32.00 charged on the $320.00 released" in page
    assert "on the full amount" not in page


def test_resolving_a_dispute_needs_the_confirmation_box_ticked(client, login_operator):
    from marketplace.engagements.models import EngagementStatus
    e = disputed(45_678)
    login_operator(factories.create_operator())
    response = client.post(f"/moderation/disputes/{e.id}/decide",
                           data={"refund": "456.78", "release": "0", "note": "Refund all."})
    assert response.status_code == 400
    body = plain(response)
    assert "Tick the box to confirm the split" in body
    assert 'id="confirm" name="confirm" required type="checkbox" value="y">' in response.get_data(as_text=True) \
        or 'checked' not in response.get_data(as_text=True).split('id="confirm"')[1].split(">")[0]
    db.session.refresh(e)
    assert e.status == EngagementStatus.DISPUTED
