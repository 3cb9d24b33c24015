"""Held items through the real pages and services: who sees them, what is deferred, release and refuse."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from marketplace.bidding.models import Bid, BidStatus, Invitation
from marketplace.core.errors import Conflict
from marketplace.core.time import utcnow
from marketplace.core import queue
from marketplace.extensions import db
from marketplace.messaging import services as messaging
from marketplace.messaging.models import Message, Thread
from marketplace.moderation.access import MFA_SESSION_KEY
from marketplace.moderation.holds import hold, open_case_for, refuse, release
from marketplace.moderation.models import AuditEntry, ModerationCase
from marketplace.moderation.screening import FIRST_TASK_REASON
from marketplace.notifications.models import Notification
from marketplace.tasks import services as tasks
from marketplace.tasks.models import ModerationStatus, Task, TaskStatus
from tests import factories
from tests.tasks.helpers import client_for, flashes, plain, sign_in, task_form, text

PHONE_DESCRIPTION = "Help customers set up routers over chat. Questions? Call me on +1 415 555 0134."


def _established(business):
    """An earlier approved task: the business's next tasks skip the first-task review."""
    return factories.create_task(business, status="completed", title="An earlier, approved task")


def _cases(target_type: str, target_id: int) -> list[ModerationCase]:
    return list(db.session.scalars(select(ModerationCase).where(ModerationCase.target_type == target_type,
                                                                ModerationCase.target_id == target_id)))


def _decide(case: ModerationCase, operator, approve: bool, note: str = ""):
    """What the operator console does around release/refuse: close the case, then apply the decision."""
    case.status, case.handled_by_id, case.handled_at, case.decision_note = (
        "approved" if approve else "rejected", operator.id, utcnow(), note)
    db.session.flush()
    item = db.session.get({"task": Task, "bid": Bid, "message": Message}[case.target_type], case.target_id)
    if approve:
        release(case.target_type, item)
    else:
        refuse(case.target_type, item, note)


def _notifications(user, kind: str) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id,
                                                              Notification.kind == kind)))


def _publish_through_page(client, business, **overrides) -> Task:
    sign_in(client, business)
    response = client.post("/tasks/new", data=task_form(publish="1", **overrides))
    assert response.status_code == 302, text(response)[:500]
    return db.session.scalar(select(Task).where(Task.business_id == business.id).order_by(Task.id.desc()).limit(1))


# --- tasks -----------------------------------------------------------------------------------

def test_publishing_a_task_with_a_phone_number_holds_it(app, client, business, freelancer, operator):
    _established(business)
    task = _publish_through_page(client, business, description=PHONE_DESCRIPTION)
    assert task.status == TaskStatus.OPEN and task.moderation_status == ModerationStatus.PENDING_REVIEW
    assert flashes(client) == ["Your task is waiting for a quick review by our team. "
                               "Specialists will see it as soon as it's approved."]
    [case] = _cases("task", task.id)
    assert case.status == "open" and case.owner_id == business.id
    assert case.reason_list == ["Contact details: phone number “+1 415 555 0134”"]
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.target_type == "task",
                                                       AuditEntry.target_id == task.id))
    assert (audit.action, audit.actor_id, audit.subject_user_id) == ("hold", None, business.id)
    assert audit.reason == case.reasons

    # The owner sees it with the banner (and not which rule fired).
    page = plain(client.get(f"/tasks/{task.id}"))
    assert "Your task is waiting for a quick review by our team." in page
    assert "+1 415 555 0134" in page and "Contact details: phone number" not in page
    assert "waiting for review" in plain(client.get("/tasks/mine"))
    # Nobody else does: not listed, not found, not matched.
    specialist = client_for(app, freelancer)
    assert "Weekend chat cover" not in text(specialist.get("/tasks"))
    assert specialist.get(f"/tasks/{task.id}").status_code == 404
    visitor = client_for(app)
    assert "Weekend chat cover" not in text(visitor.get("/tasks?q=router"))
    assert visitor.get(f"/tasks/{task.id}").status_code == 404
    assert specialist.post(f"/tasks/{task.id}/bids", data={"amount": "500", "cover_note": "Hi"}).status_code == 404
    # Operators can open it (after the second factor).
    console = client_for(app, operator)
    with console.session_transaction() as session:
        session[MFA_SESSION_KEY] = operator.get_id()
    assert console.get(f"/tasks/{task.id}").status_code == 200


def test_a_clean_task_of_an_established_business_goes_live_without_a_case(app, client, business, freelancer):
    _established(business)
    task = _publish_through_page(client, business)
    assert task.moderation_status == ModerationStatus.APPROVED
    assert flashes(client) == ["Your task is live."]
    assert _cases("task", task.id) == []
    assert "Weekend chat cover" in text(client_for(app, freelancer).get("/tasks"))


def test_a_business_first_task_waits_for_review_and_the_second_does_not(app, client, business, freelancer,
                                                                       operator):
    first = _publish_through_page(client, business)
    assert first.moderation_status == ModerationStatus.PENDING_REVIEW
    [case] = _cases("task", first.id)
    assert case.reason_list == [FIRST_TASK_REASON]
    # A second task published while the first still waits is held too.
    waiting = _publish_through_page(client, business, title="Second task while the first waits")
    assert waiting.moderation_status == ModerationStatus.PENDING_REVIEW

    _decide(case, operator, approve=True)
    db.session.commit()
    db.session.refresh(first)
    assert first.moderation_status == ModerationStatus.APPROVED and first.moderation_note is None
    assert "Weekend chat cover" in text(client_for(app, freelancer).get("/tasks"))

    third = _publish_through_page(client, business, title="Third task after an approval")
    assert third.moderation_status == ModerationStatus.APPROVED
    assert _cases("task", third.id) == []


def test_releasing_a_held_match_task_sends_the_auto_invitations_then(app, business, operator):
    from tests.matching.test_ranking import TASK_SKILLS, specialist
    _established(business)
    for i in range(3):
        specialist(f"Candidate {i}")
    draft = factories.create_task(business, status="draft", skills=TASK_SKILLS, languages=["es", "en"],
                                  channel="phone", hiring_mode="match",
                                  description="Phone support; candidates may write to hr@unknown-agency.xyz")
    tasks.publish_task(business, draft)
    assert draft.moderation_status == ModerationStatus.PENDING_REVIEW
    invitations = select(func.count()).select_from(Invitation).where(Invitation.task_id == draft.id)
    assert db.session.scalar(invitations) == 0

    _decide(open_case_for("task", draft.id), operator, approve=True)
    assert db.session.scalar(invitations) == 0   # queued: sent once the decision is committed
    db.session.commit()
    assert queue.run_ready() == 1
    assert db.session.scalar(invitations) == 3
    assert draft.published_at is not None and draft.is_visible_publicly


def test_refusing_a_task_shows_the_reason_to_its_owner_and_an_edit_sends_it_back(app, client, business,
                                                                                freelancer, operator):
    _established(business)
    task = _publish_through_page(client, business, description=PHONE_DESCRIPTION)
    _decide(open_case_for("task", task.id), operator, approve=False, note="Please keep contact on the platform.")
    db.session.commit()
    db.session.refresh(task)
    assert task.moderation_status == ModerationStatus.REJECTED
    assert task.moderation_note == "Please keep contact on the platform."
    page = plain(client.get(f"/tasks/{task.id}"))
    assert "Our team couldn't approve this task. Please keep contact on the platform." in page
    assert "not approved" in plain(client.get("/tasks/mine"))
    assert client_for(app, freelancer).get(f"/tasks/{task.id}").status_code == 404

    # Editing the rejected task sends it back to the queue (a new case), never straight to approved.
    response = client.post(f"/tasks/{task.id}/edit", data=task_form(
        description="Help customers set up routers over chat, kindly and patiently."))
    assert response.status_code == 302
    db.session.refresh(task)
    assert task.moderation_status == ModerationStatus.PENDING_REVIEW and task.moderation_note is None
    case = open_case_for("task", task.id)
    assert case.reason_list == ["Edited after rejection (was: Please keep contact on the platform.)"]
    assert client_for(app, freelancer).get(f"/tasks/{task.id}").status_code == 404


def test_editing_an_approved_task_to_add_contact_details_holds_it_again(app, client, business, freelancer):
    _established(business)
    task = _publish_through_page(client, business)
    assert task.moderation_status == ModerationStatus.APPROVED
    client.post(f"/tasks/{task.id}/edit", data=task_form(description="Email me at boss@acme-shop.xyz please."))
    db.session.refresh(task)
    assert task.moderation_status == ModerationStatus.PENDING_REVIEW
    assert open_case_for("task", task.id).reason_list == ["Contact details: email address “boss@acme-shop.xyz”"]
    assert client_for(app, freelancer).get(f"/tasks/{task.id}").status_code == 404


def test_refusing_an_edited_task_declines_its_pending_proposals(app, business, freelancer, operator):
    from tests.tasks.helpers import add_bid
    _established(business)
    task = factories.create_task(business)
    bid = add_bid(task, freelancer)
    hold("task", task, business.id, ["Reported by a user"])
    _decide(open_case_for("task", task.id), operator, approve=False, note="Prohibited work.")
    db.session.refresh(bid)
    assert bid.status == BidStatus.DECLINED
    assert _notifications(freelancer, "bid_declined")


# --- bids ------------------------------------------------------------------------------------

@pytest.fixture()
def open_task(business):
    _established(business)
    return factories.create_task(business, title="Launch weekend chat cover")


def _bid_through_page(app, freelancer, task, note: str):
    browser = client_for(app, freelancer)
    response = browser.post(f"/tasks/{task.id}/bids", data={"amount": "450", "cover_note": note})
    assert response.status_code == 302, text(response)[:500]
    return browser, db.session.scalar(select(Bid).where(Bid.task_id == task.id, Bid.freelancer_id == freelancer.id)
                                      .order_by(Bid.id.desc()).limit(1))


def test_a_held_bid_is_hidden_from_the_business_until_released(app, business, freelancer, operator, open_task):
    specialist, bid = _bid_through_page(app, freelancer, open_task, "Kind and quick. Venmo me the deposit.")
    assert bid.moderation_status == ModerationStatus.PENDING_REVIEW and bid.status == BidStatus.PENDING
    assert open_case_for("bid", bid.id).reason_list == ["Off-platform payment: “Venmo me”"]
    # The specialist sees it under review.
    assert flashes(specialist) == ["Proposal sent. It's under review by our team; the business will see it once "
                                   "it's approved."]
    assert "under review" in plain(specialist.get(f"/tasks/{open_task.id}"))
    assert "under review" in plain(specialist.get("/bids"))
    # The business: no notification, no thread, not in the proposals, not counted, can't act on it.
    owner = client_for(app, business)
    assert _notifications(business, "new_bid") == []
    assert db.session.scalar(select(func.count()).select_from(Thread).where(Thread.task_id == open_task.id)) == 0
    page = plain(owner.get(f"/tasks/{open_task.id}"))
    assert "Proposals (0)" in page and "Kind and quick" not in page
    assert tasks.tasks_of(business)[0][1:] == (0, 0)
    assert owner.post(f"/bids/{bid.id}/accept").status_code == 404
    db.session.refresh(bid)
    assert bid.status == BidStatus.PENDING

    _decide(open_case_for("bid", bid.id), operator, approve=True)
    db.session.commit()
    [notice] = _notifications(business, "new_bid")
    assert notice.link == f"/tasks/{open_task.id}#bid-{bid.id}"
    assert db.session.scalar(select(func.count()).select_from(Thread).where(Thread.task_id == open_task.id)) == 1
    assert "Kind and quick" in plain(owner.get(f"/tasks/{open_task.id}"))


def test_a_clean_bid_reaches_the_business_at_once(app, business, freelancer, open_task):
    _, bid = _bid_through_page(app, freelancer, open_task, "Eight years of patient chat support.")
    assert bid.moderation_status == ModerationStatus.APPROVED
    assert open_case_for("bid", bid.id) is None
    assert len(_notifications(business, "new_bid")) == 1


def test_editing_a_bid_to_add_contact_details_hides_it_again(app, business, freelancer, open_task):
    specialist, bid = _bid_through_page(app, freelancer, open_task, "Eight years of patient chat support.")
    specialist.post(f"/bids/{bid.id}/edit", data={"amount": "450", "cover_note": "Skype: lucia.support"})
    db.session.refresh(bid)
    assert bid.moderation_status == ModerationStatus.PENDING_REVIEW
    assert _notifications(business, "bid_edited") == []
    assert "Skype" not in plain(client_for(app, business).get(f"/tasks/{open_task.id}"))
    # Edited again while held: still the one case, with the new finding added.
    specialist.post(f"/bids/{bid.id}/edit", data={"amount": "450", "cover_note": "Skype: lucia or x@y.com"})
    [case] = _cases("bid", bid.id)
    assert case.reason_list == ["Contact details: messaging handle “Skype: lucia.support”",
                                "Contact details: email address “x@y.com”",
                                "Contact details: messaging handle “Skype: lucia”"]


def test_refusing_a_bid_declines_it_with_the_reason_and_frees_the_slot(app, business, freelancer, operator,
                                                                      open_task):
    specialist, bid = _bid_through_page(app, freelancer, open_task, "Pay me via PayPal, it's quicker.")
    _decide(open_case_for("bid", bid.id), operator, approve=False, note="Payments stay on the platform.")
    db.session.commit()
    db.session.refresh(bid)
    assert (bid.status, bid.moderation_status, bid.decline_note) == (
        BidStatus.DECLINED, ModerationStatus.REJECTED, "Payments stay on the platform.")
    assert "Payments stay on the platform." in plain(specialist.get("/bids"))
    # The one-live-bid slot is free again.
    _, second = _bid_through_page(app, freelancer, open_task, "Happy to help through the platform.")
    assert second.id != bid.id and second.moderation_status == ModerationStatus.APPROVED


def test_a_bid_withdrawn_while_held_is_released_without_telling_the_business(app, business, freelancer, operator,
                                                                            open_task):
    specialist, bid = _bid_through_page(app, freelancer, open_task, "WhatsApp me")
    specialist.post(f"/bids/{bid.id}/withdraw")
    _decide(open_case_for("bid", bid.id), operator, approve=True)
    db.session.refresh(bid)
    assert bid.status == BidStatus.WITHDRAWN and _notifications(business, "new_bid") == []


# --- messages --------------------------------------------------------------------------------

@pytest.fixture()
def conversation(business, freelancer):
    return messaging.get_or_create_thread(factories.create_task(business, title="Chat cover for Brightline"),
                                          freelancer.id)


def test_a_held_message_is_seen_only_by_its_sender_until_released(app, business, freelancer, operator,
                                                                  conversation):
    sender = client_for(app, freelancer)
    response = sender.post(f"/messages/{conversation.id}", data={"body": "Text me on 415-555-0134 instead"})
    assert response.status_code == 302
    message = db.session.scalar(select(Message).where(Message.thread_id == conversation.id))
    assert message.moderation_status == ModerationStatus.PENDING_REVIEW
    assert "Held for review" in plain(sender.get(f"/messages/{conversation.id}"))

    recipient = client_for(app, business)
    assert messaging.unread_thread_count(business) == 0
    assert _notifications(business, "message") == []
    assert "415-555-0134" not in text(recipient.get("/messages"))
    assert "415-555-0134" not in text(recipient.get(f"/messages/{conversation.id}"))   # marks the thread read

    _decide(open_case_for("message", message.id), operator, approve=True)
    db.session.commit()
    # Released: it counts as unread even though the thread was opened while it was held.
    assert messaging.unread_thread_count(business) == 1
    assert len(_notifications(business, "message")) == 1
    assert "415-555-0134" in text(recipient.get(f"/messages/{conversation.id}"))
    assert "Held for review" not in plain(sender.get(f"/messages/{conversation.id}"))


def test_a_refused_message_is_marked_not_delivered_for_its_sender(app, business, freelancer, operator,
                                                                  conversation):
    message = messaging.post_message(freelancer, conversation, "Let's avoid the fee: pay me on PayPal")
    _decide(open_case_for("message", message.id), operator, approve=False, note="Payments stay on the platform.")
    db.session.commit()
    assert message.moderation_status == ModerationStatus.REJECTED
    page = plain(client_for(app, freelancer).get(f"/messages/{conversation.id}"))
    assert "Not delivered: Payments stay on the platform." in page
    assert "avoid the fee" not in text(client_for(app, business).get(f"/messages/{conversation.id}"))
    assert messaging.unread_thread_count(business) == 0 and _notifications(business, "message") == []


def test_a_clean_message_is_delivered_at_once(business, freelancer, conversation):
    message = messaging.post_message(freelancer, conversation, "Hi! Happy to start Monday at 09:00 CET.")
    assert message.moderation_status == ModerationStatus.APPROVED
    assert open_case_for("message", message.id) is None
    assert messaging.unread_thread_count(business) == 1 and len(_notifications(business, "message")) == 1


# --- the functions themselves ---------------------------------------------------------------

def test_release_refuses_an_item_that_is_not_waiting(business):
    task = factories.create_task(business)
    with pytest.raises(Conflict):
        release("task", task)
    assert task.moderation_status == ModerationStatus.APPROVED


def test_hold_writes_the_case_and_a_system_audit_entry(business):
    task = factories.create_task(business)
    case = hold("task", task, business.id, ["First finding", "Second finding"])
    db.session.refresh(task)
    assert task.moderation_status == ModerationStatus.PENDING_REVIEW
    assert (case.target_type, case.target_id, case.status, case.reasons) == (
        "task", task.id, "open", "First finding\nSecond finding")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "hold"))
    assert (entry.actor_id, entry.target_id, entry.reason) == (None, task.id, "First finding\nSecond finding")


# --- release keeps a live task's publication date; refuses a task whose start date passed ------

def test_a_task_held_at_publication_is_dated_when_released_not_before(business, operator):
    draft = factories.create_task(business, status="draft")   # first task: held
    tasks.publish_task(business, draft)
    assert draft.moderation_status == ModerationStatus.PENDING_REVIEW and draft.status == TaskStatus.OPEN
    assert draft.published_at is None   # not listed, not counted as posted while it waits
    _decide(open_case_for("task", draft.id), operator, approve=True)
    assert draft.published_at is not None and draft.is_visible_publicly


def test_approving_an_edit_of_a_live_task_keeps_its_publication_date_and_metrics_stay_true(business, operator):
    from datetime import timedelta

    from marketplace.moderation import actions, metrics
    _established(business)
    task = factories.create_task(business)
    published = utcnow() - timedelta(days=3)
    task.published_at = published
    freelancer = factories.create_freelancer()
    db.session.add(Bid(task_id=task.id, freelancer_id=freelancer.id, amount=60_000, cover_note="Happy to help.",
                       created_at=utcnow() - timedelta(days=2)))
    db.session.flush()
    case = hold("task", task, business.id, ["Edited with a phone number"])   # an edit held it
    actions.approve_case(operator, case, "")
    db.session.refresh(task)
    assert task.moderation_status == ModerationStatus.APPROVED
    assert abs((task.published_at.replace(tzinfo=None) - published.replace(tzinfo=None)).total_seconds()) < 1
    report = metrics.report(operator, metrics.parse_period({"days": "7"}))
    assert report.median_first_bid_hours is not None and 23 < report.median_first_bid_hours < 25


def test_approving_a_held_task_whose_start_date_passed_is_refused_and_changes_nothing(business, operator):
    from datetime import timedelta

    from marketplace.moderation import actions
    from marketplace.moderation.holds import START_PASSED
    task = factories.create_task(business, start_date=utcnow().date() - timedelta(days=1))
    case = hold("task", task, business.id, [FIRST_TASK_REASON])
    db.session.commit()   # what the page saw; the refused action must undo only its own work
    with pytest.raises(Conflict) as refused:
        actions.approve_case(operator, case, "Looks fine")
    assert refused.value.message == START_PASSED
    db.session.rollback()   # what the console view does on a DomainError
    db.session.refresh(case)
    db.session.refresh(task)
    assert case.status == "open" and case.handled_by_id is None
    assert task.moderation_status == ModerationStatus.PENDING_REVIEW
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "approve")) == 0
    assert _notifications(business, "moderation_approved") == []
    # Rejecting with a note is what the operator does instead.
    actions.reject_case(operator, case, "Please update the dates and save the task again.")
    db.session.refresh(task)
    assert case.status == "rejected" and task.moderation_status == ModerationStatus.REJECTED


def test_the_console_shows_why_a_held_task_with_past_dates_cannot_be_approved(client, login_operator, business,
                                                                               operator):
    from datetime import timedelta

    from marketplace.moderation.holds import START_PASSED
    task = factories.create_task(business, start_date=utcnow().date() - timedelta(days=2))
    case = hold("task", task, business.id, [FIRST_TASK_REASON])
    login_operator(operator)
    response = client.post(f"/moderation/cases/{case.id}/approve", data={"approve-reason": ""},
                           follow_redirects=True)
    assert response.status_code == 200 and START_PASSED in plain(response)
    db.session.refresh(case)
    db.session.refresh(task)
    assert case.status == "open" and task.moderation_status == ModerationStatus.PENDING_REVIEW


def test_a_held_task_starting_today_can_still_be_approved(business, operator):
    from marketplace.moderation import actions
    task = factories.create_task(business, start_date=utcnow().date())
    case = hold("task", task, business.id, [FIRST_TASK_REASON])
    actions.approve_case(operator, case, "")
    db.session.refresh(task)
    assert case.status == "approved" and task.moderation_status == ModerationStatus.APPROVED
