"""Reporting tasks, profiles, proposals and messages: the rules and the Report links."""
from __future__ import annotations

from sqlalchemy import func, select

from marketplace.bidding.models import Bid, BidStatus
from marketplace.extensions import db
from marketplace.messaging import services as messaging
from marketplace.moderation import flags
from marketplace.moderation.models import Flag
from tests import factories


def _flag_count(**where) -> int:
    query = select(func.count()).select_from(Flag)
    for key, value in where.items():
        query = query.where(getattr(Flag, key) == value)
    return db.session.scalar(query)


def _bid(task, freelancer, **kw) -> Bid:
    bid = Bid(task_id=task.id, freelancer_id=freelancer.id, amount=40_000, cover_note="I have done this many times.",
              status=BidStatus.PENDING, **kw)
    db.session.add(bid)
    db.session.flush()
    return bid


def test_a_specialist_reports_a_task(client, login_as, business, freelancer):
    task = factories.create_task(business)
    login_as(freelancer)
    form = client.get(f"/report/task/{task.id}")
    assert form.status_code == 200
    assert task.title in form.get_data(as_text=True)
    response = client.post(f"/report/task/{task.id}", data={"reason": "off_platform", "details": "Asks for WhatsApp",
                                                             "back": f"/tasks/{task.id}"}, follow_redirects=True)
    assert response.status_code == 200
    assert "Thanks for telling us" in response.get_data(as_text=True)
    flag = db.session.scalar(select(Flag).where(Flag.target_type == "task", Flag.target_id == task.id))
    assert (flag.reporter_id, flag.target_owner_id, flag.reason, flag.details, flag.status) == (
        freelancer.id, business.id, "off_platform", "Asks for WhatsApp", "open")


def test_you_cant_report_your_own_task(client, login_as, business):
    task = factories.create_task(business)
    login_as(business)
    page = client.get(f"/report/task/{task.id}")
    assert page.status_code == 400
    assert "You can&#39;t report your own task" in page.get_data(as_text=True)
    response = client.post(f"/report/task/{task.id}", data={"reason": "spam"}, follow_redirects=True)
    assert "You can&#39;t report your own task" in response.get_data(as_text=True)
    assert _flag_count() == 0


def test_a_second_open_report_on_the_same_target_is_refused_clearly(client, login_as, freelancer):
    task = factories.create_task()
    login_as(freelancer)
    client.post(f"/report/task/{task.id}", data={"reason": "spam"})
    again = client.post(f"/report/task/{task.id}", data={"reason": "fraud"}, follow_redirects=True)
    assert "You already reported this; our team is looking at it" in again.get_data(as_text=True)
    assert _flag_count(target_type="task", target_id=task.id) == 1
    # The form itself says so too.
    page = client.get(f"/report/task/{task.id}", follow_redirects=True)
    assert "You already reported this" in page.get_data(as_text=True)


def test_the_database_backs_the_one_open_flag_rule(freelancer):
    task = factories.create_task()
    flags.report(freelancer, "task", task.id, "spam")
    import pytest

    from marketplace.core.errors import Conflict
    with pytest.raises(Conflict, match="already reported"):
        flags.report(freelancer, "task", task.id, "spam")
    # Even bypassing the pre-check, the partial unique index turns a duplicate into the same message.
    from unittest.mock import patch
    with patch.object(flags, "has_open_flag", return_value=False):
        with pytest.raises(Conflict, match="already reported"):
            flags.report(freelancer, "task", task.id, "fraud")
    assert _flag_count(target_type="task", target_id=task.id) == 1


def test_after_a_decision_the_same_user_can_report_again(freelancer, operator):
    from marketplace.moderation import actions
    task = factories.create_task()
    flags.report(freelancer, "task", task.id, "spam")
    actions.dismiss_flags(operator, "task", task.id)
    flags.report(freelancer, "task", task.id, "fraud")
    assert _flag_count(target_type="task", target_id=task.id) == 2


def test_things_the_reporter_cant_see_look_missing(client, login_as, freelancer):
    other_business, other_freelancer = factories.create_business(), factories.create_freelancer()
    draft = factories.create_task(other_business, status="draft")
    open_task = factories.create_task(other_business)
    someone_elses_bid = _bid(open_task, other_freelancer)
    thread = messaging.get_or_create_thread(open_task, other_freelancer.id)
    message = messaging.post_message(other_business, thread, "Private words")
    login_as(freelancer)
    for url in (f"/report/task/{draft.id}", f"/report/bid/{someone_elses_bid.id}",
                f"/report/message/{message.id}"):
        assert client.get(url).status_code == 404, url
        assert client.post(url, data={"reason": "spam"}).status_code == 404, url
    assert _flag_count() == 0


def test_unknown_types_and_ids_are_404(client, login_as, freelancer):
    task = factories.create_task()
    login_as(freelancer)
    assert client.get(f"/report/planet/{task.id}").status_code == 404
    assert client.post(f"/report/planet/{task.id}", data={"reason": "spam"}).status_code == 404
    assert client.get("/report/task/999999").status_code == 404
    assert client.get("/report/review/999999").status_code == 404
    operator = factories.create_operator()
    assert client.get(f"/report/profile/{operator.id}").status_code == 404
    assert _flag_count() == 0


def test_over_long_details_and_unknown_reasons_are_refused(client, login_as, freelancer):
    task = factories.create_task()
    login_as(freelancer)
    response = client.post(f"/report/task/{task.id}", data={"reason": "spam", "details": "x" * 1001})
    assert response.status_code == 400
    assert "under 1000 characters" in response.get_data(as_text=True)
    response = client.post(f"/report/task/{task.id}", data={"reason": "because"})
    assert response.status_code == 400
    assert _flag_count() == 0


def test_anonymous_visitors_and_operators_cant_report(client, login_operator):
    task = factories.create_task()
    response = client.get(f"/report/task/{task.id}")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    login_operator(factories.create_operator())
    assert client.post(f"/report/task/{task.id}", data={"reason": "spam"}).status_code == 403
    assert _flag_count() == 0


def test_a_business_reports_a_proposal_on_its_task_and_a_message_in_its_thread(client, login_as, business,
                                                                                  freelancer):
    task = factories.create_task(business)
    bid = _bid(task, freelancer)
    thread = messaging.get_or_create_thread(task, freelancer.id)
    message = messaging.post_message(freelancer, thread, "You were rude to me, honestly")
    login_as(business)
    assert client.post(f"/report/bid/{bid.id}", data={"reason": "off_platform"}).status_code == 302
    assert client.post(f"/report/message/{message.id}", data={"reason": "off_platform"}).status_code == 302
    assert client.post(f"/report/profile/{freelancer.id}", data={"reason": "fake"}).status_code == 302
    owners = set(db.session.scalars(select(Flag.target_owner_id)).all())
    assert owners == {freelancer.id}
    assert _flag_count(reporter_id=business.id) == 3
    # The specialist can't report their own proposal or message.
    client.post("/logout")
    login_as(freelancer)
    for url in (f"/report/bid/{bid.id}", f"/report/message/{message.id}"):
        refused = client.post(url, data={"reason": "spam"}, follow_redirects=True)
        assert refused.status_code == 400
        assert "You can&#39;t report your own" in refused.get_data(as_text=True)
    assert _flag_count(reporter_id=freelancer.id) == 0


def test_report_links_appear_where_the_viewer_can_report(client, login_as, business, freelancer):
    task = factories.create_task(business)
    bid = _bid(task, freelancer)
    thread = messaging.get_or_create_thread(task, freelancer.id)
    message = messaging.post_message(freelancer, thread, "Hello there")
    login_as(business)
    owner_view = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert f'data-testid="report-bid-{bid.id}"' in owner_view
    assert f'data-testid="report-task-{task.id}"' not in owner_view     # not on your own task
    assert f'data-testid="report-message-{message.id}"' in client.get(f"/messages/{thread.id}").get_data(as_text=True)
    assert f'data-testid="report-profile-{freelancer.id}"' in client.get(
        f"/freelancers/{freelancer.id}").get_data(as_text=True)
    client.post("/logout")
    login_as(freelancer)
    assert f'data-testid="report-task-{task.id}"' in client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert f'data-testid="report-message-{message.id}"' not in client.get(
        f"/messages/{thread.id}").get_data(as_text=True)


def test_a_business_can_be_reported_only_by_someone_who_can_see_it(client, login_as, freelancer):
    unseen = factories.create_business(full_name="Hidden Person")
    factories.create_task(unseen, status="draft")
    login_as(freelancer)
    page = client.get(f"/report/profile/{unseen.id}")
    assert page.status_code == 404 and "Hidden Person" not in page.get_data(as_text=True)
    listed = factories.create_business(full_name="Listed Business")
    factories.create_task(listed)
    assert client.get(f"/report/profile/{listed.id}").status_code == 200
