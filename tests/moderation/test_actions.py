"""Operator actions: one audit entry each, the affected user told why, and "already handled" for the second operator."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from marketplace.bidding.models import Bid, BidStatus
from marketplace.core.errors import Conflict, Forbidden, ValidationFailed
from marketplace.extensions import db
from marketplace.messaging import services as messaging
from marketplace.moderation import actions, flags, holds
from marketplace.moderation.models import AuditEntry, Flag, ModerationCase
from marketplace.notifications.models import Notification
from marketplace.tasks.models import ModerationStatus, TaskStatus
from tests import factories


def _audit_since(first_id: int) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.id > first_id).order_by(AuditEntry.id)))


def _last_audit_id() -> int:
    return db.session.scalar(select(func.max(AuditEntry.id))) or 0


def _notifications(user, kind: str) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id,
                                                              Notification.kind == kind)))


def _held_task(business=None):
    business = business or factories.create_business()
    task = factories.create_task(business)
    case = holds.hold("task", task, business.id, ["Mentions payment outside the platform"])
    return task, case


# --- held items -----------------------------------------------------------------------------

def test_approving_a_held_task_records_notifies_and_publishes(operator):
    task, case = _held_task()
    before = _last_audit_id()
    actions.approve_case(operator, case, "Looks fine")
    entries = _audit_since(before)
    assert [(e.action, e.actor_id, e.target_type, e.target_id, e.subject_user_id, e.reason) for e in entries] == [
        ("approve", operator.id, "task", task.id, task.business_id, "Looks fine")]
    db.session.refresh(task)
    assert task.moderation_status == ModerationStatus.APPROVED
    assert case.status == "approved" and case.handled_by_id == operator.id
    [note] = _notifications(task.business, "moderation_approved")
    assert "Looks fine" in note.body


def test_rejecting_a_held_task_needs_a_reason_and_tells_the_owner(operator):
    task, case = _held_task()
    before = _last_audit_id()
    with pytest.raises(ValidationFailed):
        actions.reject_case(operator, case, "   ")
    assert _audit_since(before) == [] and case.status == "open"
    actions.reject_case(operator, case, "Contact details in the description")
    [entry] = _audit_since(before)
    assert (entry.action, entry.actor_id, entry.target_id, entry.reason) == (
        "reject", operator.id, task.id, "Contact details in the description")
    db.session.refresh(task)
    assert task.moderation_status == ModerationStatus.REJECTED
    assert task.moderation_note == "Contact details in the description"
    [note] = _notifications(task.business, "moderation_rejected")
    assert "Contact details in the description" in note.body


def test_a_second_operator_on_the_same_case_is_told_it_was_already_handled(operator):
    task, case = _held_task()
    other = factories.create_operator()
    actions.reject_case(operator, case, "Off-platform payment")
    before = _last_audit_id()
    with pytest.raises(Conflict, match="Already handled"):
        actions.approve_case(other, db.session.get(ModerationCase, case.id))
    assert _audit_since(before) == []
    db.session.refresh(task)
    assert task.moderation_status == ModerationStatus.REJECTED
    assert db.session.get(ModerationCase, case.id).handled_by_id == operator.id


def test_a_held_bid_can_be_rejected(operator):
    task = factories.create_task()
    freelancer = factories.create_freelancer()
    bid = Bid(task_id=task.id, freelancer_id=freelancer.id, amount=30_000, cover_note="hi", status=BidStatus.PENDING)
    db.session.add(bid)
    db.session.flush()
    case = holds.hold("bid", bid, freelancer.id, ["Phone number"])
    actions.reject_case(operator, case, "Share contact details only after hire")
    db.session.refresh(bid)
    assert bid.status == BidStatus.DECLINED and bid.moderation_status == ModerationStatus.REJECTED
    assert "Share contact details" in _notifications(freelancer, "moderation_rejected")[0].body


def test_only_operators_decide(business):
    task, case = _held_task()
    with pytest.raises(Forbidden):
        actions.approve_case(business, case)
    with pytest.raises(Forbidden):
        actions.dismiss_flags(business, "task", task.id)


def test_the_case_page_rejects_through_the_console(client, login_operator, operator):
    task, case = _held_task()
    login_operator(operator)
    page = client.get(f"/moderation/cases/{case.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert task.title in html and "Mentions payment outside the platform" in html
    missing = client.post(f"/moderation/cases/{case.id}/reject", data={"reject-reason": ""}, follow_redirects=True)
    assert "Give a reason" in missing.get_data(as_text=True)
    done = client.post(f"/moderation/cases/{case.id}/reject", data={"reject-reason": "No contact details, please"},
                       follow_redirects=True)
    assert "Rejected" in done.get_data(as_text=True)
    again = client.post(f"/moderation/cases/{case.id}/approve", data={}, follow_redirects=True)
    assert "Already handled by another operator" in again.get_data(as_text=True)
    db.session.refresh(task)
    assert task.moderation_status == ModerationStatus.REJECTED


# --- flags ----------------------------------------------------------------------------------

def _flag(target_type, target_id, reporter=None, reason="spam"):
    return flags.report(reporter or factories.create_freelancer(), target_type, target_id, reason)


def test_dismissing_reports_leaves_the_item_alone(operator):
    task = factories.create_task()
    _flag("task", task.id)
    _flag("task", task.id)
    before = _last_audit_id()
    assert actions.dismiss_flags(operator, "task", task.id, "Normal task") == 2
    [entry] = _audit_since(before)
    assert (entry.action, entry.actor_id, entry.target_type, entry.target_id, entry.reason) == (
        "dismiss_flags", operator.id, "task", task.id, "Normal task")
    assert set(db.session.scalars(select(Flag.status))) == {"dismissed"}
    db.session.refresh(task)
    assert task.moderation_status == ModerationStatus.APPROVED and task.status == TaskStatus.OPEN
    with pytest.raises(Conflict, match="Already handled"):
        actions.dismiss_flags(factories.create_operator(), "task", task.id)


def test_rejecting_a_reported_task_upholds_every_report(operator):
    business = factories.create_business()
    task = factories.create_task(business)
    _flag("task", task.id)
    _flag("task", task.id, reason="fraud")
    before = _last_audit_id()
    assert actions.act_on_flags(operator, "task", task.id, "reject", "Asks for payment by gift cards") == 2
    [entry] = _audit_since(before)
    assert (entry.action, entry.actor_id, entry.subject_user_id, entry.reason) == (
        "reject", operator.id, business.id, "Asks for payment by gift cards")
    assert set(db.session.scalars(select(Flag.status))) == {"upheld"}
    db.session.refresh(task)
    assert task.moderation_status == ModerationStatus.REJECTED
    [note] = _notifications(business, "moderation_rejected")
    assert "Asks for payment by gift cards" in note.body
    with pytest.raises(Conflict, match="Already handled"):
        actions.act_on_flags(factories.create_operator(), "task", task.id, "remove", "again")
    db.session.refresh(task)
    assert task.status == TaskStatus.OPEN


def test_removing_a_reported_task_bid_and_message(operator):
    business, freelancer = factories.create_business(), factories.create_freelancer()
    task = factories.create_task(business)
    bid = Bid(task_id=task.id, freelancer_id=freelancer.id, amount=30_000, cover_note="hello",
              status=BidStatus.PENDING)
    db.session.add(bid)
    db.session.flush()
    thread = messaging.get_or_create_thread(task, freelancer.id)
    message = messaging.post_message(freelancer, thread, "You are all idiots")
    _flag("bid", bid.id, reporter=business)
    _flag("message", message.id, reporter=business)

    before = _last_audit_id()
    actions.act_on_flags(operator, "bid", bid.id, "remove", "Spam proposal")
    actions.act_on_flags(operator, "message", message.id, "remove", "Abusive language")
    entries = _audit_since(before)
    assert [(e.action, e.target_type, e.target_id, e.subject_user_id, e.reason) for e in entries] == [
        ("remove", "bid", bid.id, freelancer.id, "Spam proposal"),
        ("remove", "message", message.id, freelancer.id, "Abusive language")]
    db.session.refresh(bid)
    db.session.refresh(message)
    assert bid.status == BidStatus.DECLINED and bid.decline_note == "Spam proposal"
    assert message.moderation_status == ModerationStatus.REJECTED
    bodies = [n.body for n in _notifications(freelancer, "moderation_removed")]
    assert any("Spam proposal" in b for b in bodies) and any("Abusive language" in b for b in bodies)

    _flag("task", task.id)
    actions.act_on_flags(operator, "task", task.id, "remove", "Prohibited work")
    db.session.refresh(task)
    assert task.status == TaskStatus.REMOVED
    assert "Prohibited work" in _notifications(business, "moderation_removed")[0].body


def test_warning_the_owner_of_a_reported_profile(operator):
    freelancer = factories.create_freelancer()
    _flag("profile", freelancer.id, reporter=factories.create_business(), reason="fake")
    with pytest.raises(ValidationFailed):
        actions.act_on_flags(operator, "profile", freelancer.id, "remove", "Not possible for profiles")
    before = _last_audit_id()
    actions.act_on_flags(operator, "profile", freelancer.id, "warn", "Your headline claims certifications you lack")
    [entry] = _audit_since(before)
    assert (entry.action, entry.target_type, entry.subject_user_id) == ("warn", "profile", freelancer.id)
    assert "certifications" in _notifications(freelancer, "moderation_warning")[0].body


def test_the_flag_page_acts_through_the_console(client, login_operator, operator):
    task = factories.create_task(title="Gift card helpers wanted")
    _flag("task", task.id, reason="fraud")
    login_operator(operator)
    queue = client.get("/moderation/?tab=flags").get_data(as_text=True)
    assert "Gift card helpers wanted" in queue and "Scam or fraud" in queue
    page = client.get(f"/moderation/flags/task/{task.id}")
    assert page.status_code == 200 and "Gift card helpers wanted" in page.get_data(as_text=True)
    done = client.post(f"/moderation/flags/task/{task.id}/act",
                       data={"action": "reject", "act-reason": "Scam"}, follow_redirects=True)
    assert "Task rejected" in done.get_data(as_text=True)
    again = client.post(f"/moderation/flags/task/{task.id}/dismiss", data={}, follow_redirects=True)
    assert "Already handled" in again.get_data(as_text=True)


# --- accounts -------------------------------------------------------------------------------

def test_warning_a_user(operator):
    business = factories.create_business()
    before = _last_audit_id()
    actions.warn_user(operator, business.id, "Be polite in messages")
    [entry] = _audit_since(before)
    assert (entry.action, entry.actor_id, entry.target_type, entry.target_id, entry.subject_user_id, entry.reason) \
        == ("warn", operator.id, "user", business.id, business.id, "Be polite in messages")
    assert "Be polite in messages" in _notifications(business, "moderation_warning")[0].body
    with pytest.raises(ValidationFailed):
        actions.warn_user(operator, business.id, "")


def test_suspending_and_reinstating_record_and_notify(operator):
    freelancer = factories.create_freelancer()
    before = _last_audit_id()
    actions.suspend_user(operator, freelancer.id, "Repeated off-platform payment requests")
    actions.reinstate_user(operator, freelancer.id, "Appeal accepted")
    entries = _audit_since(before)
    assert [(e.action, e.actor_id, e.subject_user_id, e.reason) for e in entries] == [
        ("suspend", operator.id, freelancer.id, "Repeated off-platform payment requests"),
        ("reinstate", operator.id, freelancer.id, "Appeal accepted")]
    assert "Repeated off-platform" in _notifications(freelancer, "moderation_suspended")[0].body
    assert "Appeal accepted" in _notifications(freelancer, "moderation_reinstated")[0].body


def test_suspending_yourself_an_operator_or_a_suspended_user_is_refused(operator):
    with pytest.raises(Forbidden):
        actions.suspend_user(operator, operator.id, "oops")
    with pytest.raises(Forbidden):
        actions.suspend_user(operator, factories.create_operator().id, "rival")
    business = factories.create_business()
    actions.suspend_user(operator, business.id, "Fraud")
    before = _last_audit_id()
    with pytest.raises(Conflict, match="Already handled"):
        actions.suspend_user(factories.create_operator(), business.id, "Fraud again")
    with pytest.raises(Conflict):
        actions.reinstate_user(operator, factories.create_business().id)
    assert _audit_since(before) == []


def test_account_actions_through_the_console(client, login_operator, operator):
    business = factories.create_business()
    login_operator(operator)
    page = client.get(f"/moderation/users/{business.id}")
    assert page.status_code == 200
    done = client.post(f"/moderation/users/{business.id}/suspend", data={"suspend-reason": "Fraudulent tasks"},
                       follow_redirects=True)
    assert "Account suspended" in done.get_data(as_text=True)
    again = client.post(f"/moderation/users/{business.id}/suspend", data={"suspend-reason": "Fraudulent tasks"},
                        follow_redirects=True)
    assert "already suspended" in again.get_data(as_text=True)
    history = client.get(f"/moderation/users/{business.id}").get_data(as_text=True)
    assert "Fraudulent tasks" in history
    assert client.get(f"/moderation/users/{operator.id}").status_code == 404


# --- what a suspension does -----------------------------------------------------------------

def test_a_suspended_user_cant_log_in_and_their_session_dies(app, operator):
    business = factories.create_business()
    other_client = app.test_client()
    from tests.conftest import login
    assert login(other_client, business).status_code == 302
    assert other_client.get("/tasks/mine").status_code == 200
    actions.suspend_user(operator, business.id, "Fraud")
    # The existing session stops working...
    assert other_client.get("/tasks/mine").headers["Location"].startswith("/login")
    # ...and a new login is refused.
    refused = app.test_client().post("/login", data={"email": business.email, "password": factories.PASSWORD})
    assert refused.status_code == 400 and "suspended" in refused.get_data(as_text=True)


def test_a_suspended_business_s_tasks_are_hidden_from_others_and_come_back(client, login_as, operator):
    from marketplace.matching.service import candidate_task_ids
    from marketplace.profiles.models import FreelancerProfile
    business = factories.create_business()
    task = factories.create_task(business, title="Night shift phone support for a bakery")
    viewer = factories.create_freelancer()
    login_as(viewer)
    assert "Night shift phone support" in client.get("/tasks?q=bakery").get_data(as_text=True)

    actions.suspend_user(operator, business.id, "Fraud")
    assert "Night shift phone support" not in client.get("/tasks?q=bakery").get_data(as_text=True)
    assert "Night shift phone support" not in client.get("/tasks").get_data(as_text=True)
    assert client.get(f"/tasks/{task.id}").status_code == 404
    profile = db.session.get(FreelancerProfile, viewer.id)
    assert task.id not in candidate_task_ids(profile, 100)
    # Nothing was deleted.
    db.session.refresh(task)
    assert task.status == TaskStatus.OPEN

    actions.reinstate_user(operator, business.id)
    assert "Night shift phone support" in client.get("/tasks?q=bakery").get_data(as_text=True)
    assert client.get(f"/tasks/{task.id}").status_code == 200


def test_a_suspended_specialist_s_pending_proposals_are_withdrawn_and_stay_withdrawn(operator):
    freelancer = factories.create_freelancer()
    pending_task, hired_task = factories.create_task(), factories.create_task()
    pending = Bid(task_id=pending_task.id, freelancer_id=freelancer.id, amount=30_000, cover_note="hi",
                  status=BidStatus.PENDING)
    accepted = Bid(task_id=hired_task.id, freelancer_id=freelancer.id, amount=30_000, cover_note="hi",
                   status=BidStatus.ACCEPTED)
    db.session.add_all([pending, accepted])
    db.session.flush()
    assert actions.suspend_user(operator, freelancer.id, "Spam proposals") == 1
    db.session.refresh(pending)
    db.session.refresh(accepted)
    assert pending.status == BidStatus.WITHDRAWN and accepted.status == BidStatus.ACCEPTED
    assert db.session.scalar(select(func.count()).select_from(Bid).where(Bid.freelancer_id == freelancer.id)) == 2
    actions.reinstate_user(operator, freelancer.id)
    db.session.refresh(pending)
    assert pending.status == BidStatus.WITHDRAWN


# --- real races (PostgreSQL) ----------------------------------------------------------------

def _operator_client(app, user):
    from marketplace.moderation.access import MFA_SESSION_KEY
    from tests.conftest import FreshContextClient
    client = FreshContextClient(app, app.response_class, use_cookies=True)
    assert client.post("/login", data={"email": user.email, "password": factories.PASSWORD}).status_code == 302
    with client.session_transaction() as session:
        session[MFA_SESSION_KEY] = user.get_id()
    return client


def _race(clients, requests):
    import threading
    barrier = threading.Barrier(len(clients))
    outcomes = [None] * len(clients)

    def run(i):
        url, data = requests[i]
        barrier.wait()
        response = clients[i].post(url, data=data, follow_redirects=True)
        outcomes[i] = (response.status_code, response.get_data(as_text=True))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert all(o is not None for o in outcomes)
    return outcomes


@pytest.mark.no_db_transaction
def test_parallel_operators_decide_a_case_exactly_once(app, committed_world):
    operators = [factories.create_operator() for _ in range(6)]
    task, case = _held_task()
    db.session.commit()
    task_id, case_id, owner_id = task.id, case.id, task.business_id
    clients = [_operator_client(app, o) for o in operators]
    requests = [(f"/moderation/cases/{case_id}/approve", {}) if i % 2 else
                (f"/moderation/cases/{case_id}/reject", {"reject-reason": f"Reason {i}"}) for i in range(6)]
    outcomes = _race(clients, requests)
    assert all(status == 200 for status, _ in outcomes)
    handled = [body for _, body in outcomes if "Already handled by another operator" in body]
    assert len(handled) == 5
    db.session.expire_all()
    decisions = db.session.scalars(select(AuditEntry).where(AuditEntry.target_type == "task",
                                                            AuditEntry.target_id == task_id,
                                                            AuditEntry.action.in_(("approve", "reject")))).all()
    assert len(decisions) == 1
    case = db.session.get(ModerationCase, case_id)
    assert case.status in ("approved", "rejected") and case.handled_by_id == decisions[0].actor_id
    kinds = db.session.scalars(select(Notification.kind).where(Notification.user_id == owner_id,
                                                               Notification.kind.like("moderation_%"))).all()
    assert len(kinds) == 1


@pytest.mark.no_db_transaction
def test_parallel_operators_act_on_reports_exactly_once(app, committed_world):
    operators = [factories.create_operator() for _ in range(6)]
    task = factories.create_task()
    for _ in range(3):
        flags.report(factories.create_freelancer(), "task", task.id, "fraud")
    db.session.commit()
    task_id = task.id
    clients = [_operator_client(app, o) for o in operators]
    requests = [(f"/moderation/flags/task/{task_id}/dismiss", {}) if i % 3 == 0 else
                (f"/moderation/flags/task/{task_id}/act", {"action": "remove" if i % 3 == 1 else "reject",
                                                           "act-reason": "Scam"}) for i in range(6)]
    outcomes = _race(clients, requests)
    assert all(status == 200 for status, _ in outcomes)
    assert sum("Already handled" in body for _, body in outcomes) == 5
    db.session.expire_all()
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.target_type == "task",
                                                          AuditEntry.target_id == task_id)).all()
    assert len(entries) == 1
    statuses = set(db.session.scalars(select(Flag.status).where(Flag.target_id == task_id)))
    assert len(statuses) == 1 and statuses <= {"upheld", "dismissed"}


# --- acting on items nobody reported ----------------------------------------------------------

def test_an_operator_removes_an_unreported_item_once(operator):
    business, freelancer = factories.create_business(), factories.create_freelancer()
    task = factories.create_task(business)
    bid = Bid(task_id=task.id, freelancer_id=freelancer.id, amount=30_000, cover_note="hello",
              status=BidStatus.PENDING)
    db.session.add(bid)
    db.session.flush()
    before = _last_audit_id()
    assert actions.act_on_flags(operator, "bid", bid.id, "remove", "Copied proposal", reported=False) == 0
    [entry] = _audit_since(before)
    assert (entry.action, entry.target_type, entry.details) == ("remove", "bid", "no open reports")
    db.session.refresh(bid)
    assert bid.status == BidStatus.DECLINED
    with pytest.raises(Conflict, match="Already handled"):
        actions.act_on_flags(operator, "bid", bid.id, "remove", "Copied proposal", reported=False)
    # Acting on reports that are no longer open is still "already handled".
    with pytest.raises(Conflict, match="Already handled"):
        actions.act_on_flags(operator, "task", task.id, "reject", "Scam")
    actions.act_on_flags(operator, "task", task.id, "reject", "Scam", reported=False)
    with pytest.raises(Conflict, match="Already handled"):
        actions.act_on_flags(operator, "task", task.id, "reject", "Scam", reported=False)
    assert len(_audit_since(before)) == 2


def test_the_item_page_moderates_an_unreported_review(client, login_operator, operator):
    from marketplace.reviews.models import Review
    from tests.reviews.helpers import business_review, ended_engagement, specialist_review
    engagement = ended_engagement()
    review = business_review(engagement, comment="Rude and late")
    specialist_review(engagement)
    db.session.refresh(review)
    assert review.revealed_at is not None
    login_operator(operator)
    page = client.get(f"/moderation/flags/review/{review.id}").get_data(as_text=True)
    assert 'name="reported" value="0"' in page and "Dismiss the reports" not in page
    done = client.post(f"/moderation/flags/review/{review.id}/act",
                       data={"action": "remove", "act-reason": "Personal details", "reported": "0"},
                       follow_redirects=True)
    assert "Removed. The owner has been told why." in done.get_data(as_text=True)
    db.session.expire_all()
    hidden = db.session.get(Review, review.id)
    assert hidden.hidden_at is not None and hidden.hidden_reason == "Personal details"
    again = client.post(f"/moderation/flags/review/{review.id}/act",
                        data={"action": "remove", "act-reason": "Personal details", "reported": "0"},
                        follow_redirects=True)
    assert "already hidden" in again.get_data(as_text=True)


def test_operators_see_a_moderate_link_instead_of_report(client, login_operator, operator):
    task = factories.create_task(title="Weekend chat queue")
    login_operator(operator)
    html = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert f'href="/moderation/flags/task/{task.id}"' in html and f"/report/task/{task.id}" not in html


def test_removing_a_held_and_reported_task_closes_its_case(operator):
    # Reported while live, then held again by the risk screen after an edit.
    task = factories.create_task()
    _flag("task", task.id)
    case = holds.hold("task", task, task.business_id, ["Unknown link after an edit"])
    actions.act_on_flags(operator, "task", task.id, "remove", "Prohibited work")
    db.session.refresh(case)
    assert case.status == "removed" and case.handled_by_id == operator.id


def test_suspension_ends_sessions_for_good(app, operator):
    from tests.conftest import login
    business = factories.create_business()
    other_client = app.test_client()
    assert login(other_client, business).status_code == 302
    actions.suspend_user(operator, business.id, "Fraud")
    actions.reinstate_user(operator, business.id, "Cleared")
    # Reinstating does not revive the session that was open at suspension.
    assert other_client.get("/tasks/mine").headers["Location"].startswith("/login")


def test_a_task_with_a_live_engagement_is_neither_removed_nor_rejected(operator):
    from marketplace.engagements import transitions
    from marketplace.engagements.models import EngagementStatus
    engagement = factories.create_engagement()
    task = engagement.task
    task.status = TaskStatus.OPEN   # still hiring for another seat
    db.session.flush()
    before = _last_audit_id()
    with pytest.raises(Conflict, match="engagement in progress"):
        actions.act_on_flags(operator, "task", task.id, "remove", "Scam", reported=False)
    db.session.refresh(task)
    assert task.status == TaskStatus.OPEN and _audit_since(before) == []
    transitions.cancel(engagement.business, engagement, "Changed plans")
    assert engagement.status == EngagementStatus.CANCELLED
    actions.act_on_flags(operator, "task", task.id, "remove", "Scam", reported=False)
    db.session.refresh(task)
    assert task.status == TaskStatus.REMOVED


def test_only_a_task_still_hiring_can_be_rejected(operator):
    task = factories.create_task(status="in_progress")
    with pytest.raises(Conflict, match="still hiring"):
        actions.act_on_flags(operator, "task", task.id, "reject", "Scam", reported=False)
    db.session.refresh(task)
    assert task.moderation_status == ModerationStatus.APPROVED


def test_a_taken_down_task_cant_be_funded():
    from marketplace.engagements import transitions
    engagement = factories.create_engagement()
    engagement.task.moderation_status = ModerationStatus.REJECTED
    db.session.flush()
    with pytest.raises(Conflict, match="taken down"):
        transitions.begin_funding(engagement.business, engagement, "sandbox")
