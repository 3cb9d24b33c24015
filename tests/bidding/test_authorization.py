"""Acting on objects by id: other people's bids, other businesses' tasks, invitations."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from marketplace.accounts.models import AccountStatus
from marketplace.bidding import services
from marketplace.bidding.models import Bid, BidStatus, Invitation, InvitationStatus
from marketplace.core.errors import Conflict, Forbidden, NotFound
from marketplace.engagements.models import Engagement
from marketplace.extensions import db
from marketplace.notifications.models import Notification
from marketplace.tasks.models import Task, TaskStatus
from tests import factories
from tests.tasks.helpers import add_bid, client_for, count, flashes, sign_in, text


def fresh(model, id_):
    db.session.expire_all()
    return db.session.get(model, id_)


# --- freelancers never see each other's proposals ------------------------------------------------------

def test_other_freelancers_cover_notes_stay_private(app, business):
    task = factories.create_task(business)
    author = factories.create_freelancer()
    bid = add_bid(task, author, cover_note="SECRET-COVER-NOTE-of-the-author", amount=33_300)
    rival = factories.create_freelancer()
    rival_browser = client_for(app, rival)

    assert rival_browser.get(f"/bids/{bid.id}/edit").status_code == 404
    page = text(rival_browser.get(f"/tasks/{task.id}"))
    assert "SECRET-COVER-NOTE" not in page and "$333.00" not in page
    assert "Send a proposal" in page   # the rival still gets their own form
    assert "SECRET-COVER-NOTE" not in text(rival_browser.get("/bids"))
    assert "SECRET-COVER-NOTE" not in text(client_for(app).get(f"/tasks/{task.id}"))
    assert "SECRET-COVER-NOTE" not in text(client_for(app, factories.create_business()).get(f"/tasks/{task.id}"))
    # ...while the author and the owner do see it.
    assert "SECRET-COVER-NOTE" in text(client_for(app, author).get(f"/tasks/{task.id}"))
    assert "SECRET-COVER-NOTE" in text(client_for(app, business).get(f"/tasks/{task.id}"))


def test_get_bid_for_hides_a_bid_from_strangers(business):
    task = factories.create_task(business)
    bid = add_bid(task, factories.create_freelancer())
    for stranger in (factories.create_freelancer(), factories.create_business()):
        with pytest.raises(NotFound):
            services.get_bid_for(stranger, bid.id)
    assert services.get_bid_for(business, bid.id).id == bid.id
    with pytest.raises(NotFound):
        services.get_bid_for(business, 999_999)


def test_another_business_cannot_act_on_bids_of_my_task(app, business):
    task = factories.create_task(business)
    freelancer = factories.create_freelancer()
    bid = add_bid(task, freelancer)
    intruder = client_for(app, factories.create_business())

    assert intruder.post(f"/bids/{bid.id}/accept").status_code == 404
    assert intruder.post(f"/bids/{bid.id}/decline", data={"note": "Go away"}).status_code == 404
    assert intruder.post(f"/bids/{bid.id}/shortlist", data={"on": "1"}).status_code == 404
    assert intruder.post(f"/bids/{bid.id}/withdraw").status_code == 404

    bid = fresh(Bid, bid.id)
    assert (bid.status, bid.shortlisted, bid.decline_note) == (BidStatus.PENDING, False, None)
    assert count(Engagement) == 0
    assert count(Notification, Notification.user_id == freelancer.id) == 0
    task = db.session.get(Task, task.id)
    assert (task.status, task.filled_seats) == (TaskStatus.OPEN, 0)


def test_review_services_refuse_another_business(business):
    from marketplace.engagements.hiring import accept_bid
    task = factories.create_task(business)
    bid = add_bid(task, factories.create_freelancer())
    intruder = factories.create_business()
    for action in (accept_bid, services.decline_bid, services.shortlist_bid):
        with pytest.raises(Forbidden):
            action(intruder, bid)
    bid = fresh(Bid, bid.id)
    assert (bid.status, bid.shortlisted) == (BidStatus.PENDING, False)
    assert count(Engagement) == 0


def test_a_freelancer_cannot_review_bids(app, business):
    task = factories.create_task(business)
    freelancer = factories.create_freelancer()
    bid = add_bid(task, freelancer)
    browser = client_for(app, freelancer)
    flashes(browser)
    browser.post(f"/bids/{bid.id}/shortlist", data={"on": "1"})
    browser.post(f"/bids/{bid.id}/decline", data={"note": "self-decline"})
    assert flashes(browser) == ["Only the business that posted this task can do that."] * 2
    bid = fresh(Bid, bid.id)
    assert (bid.status, bid.shortlisted) == (BidStatus.PENDING, False)


def test_unknown_bid_ids_are_404(app, business):
    browser = client_for(app, business)
    for path in ("/bids/999999/edit",):
        assert browser.get(path).status_code == 404
    for action in ("accept", "decline", "shortlist", "withdraw"):
        assert browser.post(f"/bids/999999/{action}").status_code == 404


def test_task_of_a_suspended_business_is_hidden_by_id_too(app):
    suspended = factories.create_business(status=AccountStatus.SUSPENDED)
    task = factories.create_task(suspended)
    freelancer = factories.create_freelancer()
    browser = client_for(app, freelancer)
    assert browser.get(f"/tasks/{task.id}").status_code == 404
    assert browser.post(f"/tasks/{task.id}/bids", data={"amount": "300", "cover_note": "Hello"}).status_code == 404
    assert count(Bid) == 0
    assert client_for(app).get(f"/tasks/{task.id}").status_code == 404
    with pytest.raises(Conflict, match="This task is not taking proposals."):
        services.place_bid(freelancer, task, amount=30_000, estimated_hours=None, cover_note="Hello")
    assert count(Bid) == 0


# --- invitations ------------------------------------------------------------------------------

@pytest.fixture()
def inviter(client, business):
    return sign_in(client, business)


def test_invite_a_specialist_to_an_open_task(inviter, business):
    task = factories.create_task(business, hiring_mode="invite", title="Invite-only Spanish chat")
    specialist = factories.create_freelancer(full_name="Iris Invited")
    response = inviter.post(f"/freelancers/{specialist.id}/invite",
                            data={"task_id": str(task.id), "message": "  Your Zendesk work looks great.  "})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/tasks/{task.id}")
    assert flashes(inviter) == ["Invitation sent."]
    [invitation] = db.session.scalars(select(Invitation)).all()
    assert (invitation.task_id, invitation.freelancer_id, invitation.status, invitation.automatic) == \
        (task.id, specialist.id, InvitationStatus.PENDING, False)
    assert invitation.message == "Your Zendesk work looks great."
    [note] = db.session.scalars(select(Notification).where(Notification.user_id == specialist.id)).all()
    assert note.kind == "invitation" and "Invite-only Spanish chat" in note.title and note.link == "/invitations"
    assert "Iris Invited" in text(inviter.get(f"/tasks/{task.id}"))   # listed under Invitations


def test_inviting_twice_says_so(inviter, business):
    task = factories.create_task(business)
    specialist = factories.create_freelancer(full_name="Twice Asked")
    inviter.post(f"/freelancers/{specialist.id}/invite", data={"task_id": str(task.id), "message": "Hi"})
    flashes(inviter)
    inviter.post(f"/freelancers/{specialist.id}/invite", data={"task_id": str(task.id), "message": "Hi again"})
    assert flashes(inviter) == ["Twice Asked has already been invited to this task."]
    assert count(Invitation) == 1
    assert count(Notification, Notification.user_id == specialist.id) == 1


@pytest.mark.parametrize("target", ["business", "operator", "unknown", "suspended"])
def test_only_active_specialists_can_be_invited(inviter, business, target):
    task = factories.create_task(business)
    user_id = {"business": lambda: factories.create_business().id,
               "operator": lambda: factories.create_operator().id,
               "unknown": lambda: 999_999,
               "suspended": lambda: factories.create_freelancer(status=AccountStatus.SUSPENDED).id}[target]()
    response = inviter.post(f"/freelancers/{user_id}/invite", data={"task_id": str(task.id), "message": "Hi"})
    assert response.status_code == 302
    assert flashes(inviter) == ["We couldn't find that specialist."]
    assert count(Invitation) == 0


@pytest.mark.parametrize("whose, status", [("other", "open"), ("mine", "draft"), ("mine", "cancelled"),
                                           ("mine", "in_progress")])
def test_invite_only_to_own_open_tasks(inviter, business, whose, status):
    owner = business if whose == "mine" else factories.create_business()
    task = factories.create_task(owner, status=status, filled_seats=1 if status == "in_progress" else 0)
    specialist = factories.create_freelancer()
    response = inviter.post(f"/freelancers/{specialist.id}/invite", data={"task_id": str(task.id), "message": ""})
    assert response.status_code == 302
    assert flashes(inviter) == ["Not a valid choice."]
    assert count(Invitation) == 0


def test_invite_service_refuses_other_tasks_and_non_specialists(business):
    mine = factories.create_task(business)
    theirs = factories.create_task(factories.create_business())
    specialist = factories.create_freelancer()
    with pytest.raises(Forbidden):
        services.invite(business, theirs, specialist.id)
    with pytest.raises(NotFound):
        services.invite(business, mine, factories.create_business().id)
    assert count(Invitation) == 0


def test_a_freelancer_cannot_invite(app, business):
    task = factories.create_task(business)
    freelancer = factories.create_freelancer()
    response = client_for(app, freelancer).post(f"/freelancers/{factories.create_freelancer().id}/invite",
                                                data={"task_id": str(task.id), "message": "Join me"})
    assert response.status_code == 403
    assert count(Invitation) == 0


@pytest.fixture()
def invitation(business):
    task = factories.create_task(business, hiring_mode="invite", title="Invite-only task")
    invited = factories.create_freelancer(full_name="Ines Invited")
    row = services.invite(business, task, invited.id, "Please apply")
    return row


def test_invited_specialist_accepts_and_can_then_bid(app, business, invitation):
    browser = client_for(app, invitation.freelancer)
    assert "Invite-only task" in text(browser.get("/invitations"))
    response = browser.post(f"/invitations/{invitation.id}/accept")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/tasks/{invitation.task_id}#proposal")
    row = fresh(Invitation, invitation.id)
    assert row.status == InvitationStatus.ACCEPTED and row.answered_at is not None
    [note] = db.session.scalars(select(Notification).where(Notification.user_id == business.id)).all()
    assert note.kind == "invitation_accepted" and "Ines Invited accepted" in note.title

    placed = browser.post(f"/tasks/{invitation.task_id}/bids", data={"amount": "300", "cover_note": "Thanks!"})
    assert placed.status_code == 302
    assert count(Bid, Bid.task_id == invitation.task_id, Bid.freelancer_id == row.freelancer_id) == 1


def test_invited_specialist_declines_and_then_cannot_bid(app, business, invitation):
    browser = client_for(app, invitation.freelancer)
    flashes(browser)
    response = browser.post(f"/invitations/{invitation.id}/decline")
    assert response.status_code == 302 and response.headers["Location"].endswith("/invitations")
    assert flashes(browser) == ["Invitation declined. The business has been told."]
    assert fresh(Invitation, invitation.id).status == InvitationStatus.DECLINED
    assert count(Notification, Notification.user_id == business.id, Notification.kind == "invitation_declined") == 1
    assert browser.post(f"/tasks/{invitation.task_id}/bids",
                        data={"amount": "300", "cover_note": "Changed my mind"}).status_code == 400
    assert count(Bid) == 0


def test_answering_twice_says_so(app, invitation):
    browser = client_for(app, invitation.freelancer)
    browser.post(f"/invitations/{invitation.id}/accept")
    flashes(browser)
    browser.post(f"/invitations/{invitation.id}/decline")
    assert flashes(browser) == ["You've already answered this invitation."]
    assert fresh(Invitation, invitation.id).status == InvitationStatus.ACCEPTED


def test_someone_else_cannot_answer_an_invitation(app, business, invitation):
    for stranger in (factories.create_freelancer(), factories.create_business()):
        browser = client_for(app, stranger)
        assert browser.post(f"/invitations/{invitation.id}/accept").status_code == 404
        assert browser.post(f"/invitations/{invitation.id}/decline").status_code == 404
        if stranger.is_freelancer:
            assert "Invite-only task" not in text(browser.get("/invitations"))
    # The inviting business may look at it but not answer for the specialist.
    owner = client_for(app, business)
    flashes(owner)
    owner.post(f"/invitations/{invitation.id}/accept")
    assert flashes(owner) == ["Only the invited specialist can answer this invitation."]
    row = fresh(Invitation, invitation.id)
    assert row.status == InvitationStatus.PENDING and row.answered_at is None
    assert client_for(app, invitation.freelancer).post("/invitations/999999/accept").status_code == 404


def test_an_invitation_to_a_cancelled_task_cannot_be_accepted(app, business, invitation):
    from marketplace.tasks import services as tasks
    tasks.cancel_task(business, db.session.get(Task, invitation.task_id))
    browser = client_for(app, invitation.freelancer)
    flashes(browser)
    browser.post(f"/invitations/{invitation.id}/accept")
    assert fresh(Invitation, invitation.id).status != InvitationStatus.ACCEPTED
    assert count(Notification, Notification.user_id == business.id, Notification.kind == "invitation_accepted") == 0
    assert "Send your proposal below" not in " ".join(flashes(browser))
