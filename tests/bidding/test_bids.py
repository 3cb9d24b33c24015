"""Placing, editing and withdrawing proposals; who may bid on what; the one-live-bid rule."""
from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from marketplace.bidding import services
from marketplace.bidding.models import Bid, BidStatus, Invitation, InvitationStatus
from marketplace.core.errors import Conflict, Forbidden
from marketplace.extensions import db
from marketplace.notifications.models import Notification
from tests import factories
from tests.tasks.helpers import add_bid, client_for, count, flashes, plain, sign_in, text


def bid_form(**overrides) -> dict:
    data = {"amount": "450", "estimated_hours": "", "cover_note": "I have run launch-weekend queues for two years.",
            "availability_note": "Free from the 12th, mornings CET."}
    data.update(overrides)
    return data


@pytest.fixture()
def task(business):
    return factories.create_task(business, title="Launch weekend chat", budget=50_000)


@pytest.fixture()
def hourly_task(business):
    return factories.create_task(business, title="Hourly phone queue", pricing="hourly", budget=None,
                                 max_rate=3_000, estimated_hours=40)


@pytest.fixture()
def bidder(client, freelancer):
    return sign_in(client, freelancer)


def bids_on(task) -> list[Bid]:
    db.session.expire_all()
    return list(db.session.scalars(select(Bid).where(Bid.task_id == task.id).order_by(Bid.id)))


# --- placing -----------------------------------------------------------------------------------

def test_place_a_bid_through_the_task_page(bidder, task, freelancer, business):
    response = bidder.post(f"/tasks/{task.id}/bids", data=bid_form(amount="450.50", estimated_hours="12"))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/tasks/{task.id}")
    assert "Proposal sent. You'll be notified when the business answers." in flashes(bidder)
    [bid] = bids_on(task)
    assert (bid.freelancer_id, bid.amount, bid.estimated_hours, bid.status) == (freelancer.id, 45_050, 12,
                                                                                 BidStatus.PENDING)
    assert bid.cover_note == "I have run launch-weekend queues for two years."
    assert bid.availability_note == "Free from the 12th, mornings CET."
    # The business hears about it.
    [note] = db.session.scalars(select(Notification).where(Notification.user_id == business.id)).all()
    assert note.kind == "new_bid" and "$450.50" in note.body and note.link == f"/tasks/{task.id}#bid-{bid.id}"
    # The freelancer now sees their proposal instead of the form.
    page = text(bidder.get(f"/tasks/{task.id}"))
    assert "Your proposal" in page and "$450.50" in page and "Send a proposal" not in page


def test_hourly_bid_stores_the_rate_and_hours(bidder, hourly_task):
    assert bidder.post(f"/tasks/{hourly_task.id}/bids",
                       data=bid_form(amount="27.50", estimated_hours="30")).status_code == 302
    [bid] = bids_on(hourly_task)
    assert (bid.amount, bid.estimated_hours) == (2_750, 30)


def test_proposal_form_shows_the_fee_and_the_payout(bidder, task):
    page = plain(bidder.get(f"/tasks/{task.id}"))
    assert "Send a proposal" in page
    assert "The platform fee is 10%, taken from your side." in page
    assert "At the full budget of $500.00 the business pays $500.00, the fee is $50.00 and you receive " \
           "$450.00." in page


def test_proposal_form_follows_the_fee_setting(app, bidder, hourly_task):
    old = app.config["PLATFORM_FEE_BPS"]
    app.config["PLATFORM_FEE_BPS"] = 1250
    try:
        page = plain(bidder.get(f"/tasks/{hourly_task.id}"))
    finally:
        app.config["PLATFORM_FEE_BPS"] = old
    assert "The platform fee is 12.5%, taken from your side." in page
    # 30.00/h x 40 h = 1,200.00; 12.5% = 150.00
    assert "the business pays $1,200.00, the fee is $150.00 and you receive $1,050.00" in page


def test_quote_endpoint_refuses_negative_hours(bidder, hourly_task):
    response = bidder.get(f"/bids/quote?task_id={hourly_task.id}&amount=25&estimated_hours=-3")
    assert response.status_code == 400
    assert response.get_json()["message"]


def test_quote_endpoint_rounds_the_fee_half_up(bidder, task, hourly_task):
    body = bidder.get(f"/bids/quote?task_id={task.id}&amount=123.45").get_json()
    assert body == {"total": 12_345, "fee": 1_235, "payout": 11_110, "fee_bps": 1000}
    body = bidder.get(f"/bids/quote?task_id={hourly_task.id}&amount=25&estimated_hours=3").get_json()
    assert body == {"total": 7_500, "fee": 750, "payout": 6_750, "fee_bps": 1000}
    assert bidder.get(f"/bids/quote?task_id={task.id}&amount=abc").status_code == 400
    assert bidder.get(f"/bids/quote?task_id={task.id}&amount=0").status_code == 400


def test_second_bid_on_the_same_task_is_refused(bidder, task):
    bidder.post(f"/tasks/{task.id}/bids", data=bid_form())
    response = bidder.post(f"/tasks/{task.id}/bids", data=bid_form(amount="300", cover_note="Second try"))
    assert response.status_code == 400
    assert "You already have a proposal on this task. Edit it instead." in text(response)
    [bid] = bids_on(task)
    assert bid.amount == 45_000


def test_after_withdrawing_a_new_bid_is_allowed(bidder, task):
    bidder.post(f"/tasks/{task.id}/bids", data=bid_form())
    [first] = bids_on(task)
    assert bidder.post(f"/bids/{first.id}/withdraw").status_code == 302
    assert "Proposal withdrawn." in flashes(bidder)
    response = bidder.post(f"/tasks/{task.id}/bids", data=bid_form(amount="400", cover_note="Fresh proposal"))
    assert response.status_code == 302
    first, second = bids_on(task)
    assert first.status == BidStatus.WITHDRAWN
    assert (second.status, second.amount, second.cover_note) == (BidStatus.PENDING, 40_000, "Fresh proposal")


def test_place_bid_service_turns_a_lost_race_into_a_clear_error(monkeypatch, task, freelancer):
    """Two tabs at once: both pass the look-up, the unique index decides, the loser gets a message."""
    add_bid(task, freelancer)
    monkeypatch.setattr(services, "live_bid_of", lambda task_id, freelancer_id: None)
    with pytest.raises(Conflict, match="You already have a proposal on this task"):
        services.place_bid(freelancer, task, amount=30_000, estimated_hours=None, cover_note="Again")
    assert count(Bid, Bid.task_id == task.id) == 1


# --- the database itself --------------------------------------------------------------------------

@pytest.mark.parametrize("existing", [BidStatus.PENDING, BidStatus.ACCEPTED])
def test_partial_unique_index_refuses_a_second_live_bid(task, freelancer, existing):
    add_bid(task, freelancer, status=existing)
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            db.session.add(Bid(task_id=task.id, freelancer_id=freelancer.id, amount=1_000, cover_note="dup",
                               status=BidStatus.PENDING))
            db.session.flush()
    assert count(Bid, Bid.task_id == task.id) == 1


@pytest.mark.parametrize("old", [BidStatus.WITHDRAWN, BidStatus.DECLINED])
def test_partial_unique_index_allows_a_new_bid_after_a_dead_one(task, freelancer, old):
    add_bid(task, freelancer, status=old)
    add_bid(task, freelancer, status=old)   # any number of dead ones
    with db.session.begin_nested():
        add_bid(task, freelancer)
    assert count(Bid, Bid.task_id == task.id) == 3


def test_check_constraint_refuses_a_zero_amount(task, freelancer):
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            add_bid(task, freelancer, amount=0)
    assert count(Bid) == 0


# --- validation ---------------------------------------------------------------------------------

OUT_OF_BOUNDS = "Enter an amount above zero and at most $100,000.00."
NOT_MONEY = "Enter an amount like 120 or 120.50 (at most two decimals)."


@pytest.mark.parametrize("overrides, message", [
    ({"amount": "-5"}, OUT_OF_BOUNDS),
    ({"amount": "0"}, OUT_OF_BOUNDS),
    ({"amount": "0.00"}, OUT_OF_BOUNDS),
    ({"amount": "100000.01"}, OUT_OF_BOUNDS),
    ({"amount": ""}, "Enter your price."),
    ({"amount": "lots"}, "Not a valid decimal value."),
    ({"amount": "10.005"}, NOT_MONEY),
    ({"amount": "Infinity"}, NOT_MONEY),
    ({"amount": "NaN"}, NOT_MONEY),
    ({"cover_note": ""}, "Tell the business why you're a good fit."),
    ({"cover_note": "   \n  "}, "Tell the business why you're a good fit."),
    ({"cover_note": "x" * 5001}, "Field cannot be longer than 5000 characters."),
    ({"availability_note": "x" * 301}, "Field cannot be longer than 300 characters."),
    ({"estimated_hours": "0"}, "Number must be between 1 and 2000."),
])
def test_bad_fixed_price_bids_are_refused(bidder, task, overrides, message):
    response = bidder.post(f"/tasks/{task.id}/bids", data=bid_form(**overrides))
    assert response.status_code == 400
    assert message in text(response)
    assert count(Bid) == 0
    assert count(Notification) == 0


@pytest.mark.parametrize("overrides, message", [
    ({"amount": "1000.01", "estimated_hours": "10"}, "The amount can be at most $1,000.00."),
    ({"amount": "30", "estimated_hours": ""}, "Estimate between 1 and 2000 hours."),
    ({"amount": "1000", "estimated_hours": "2000"}, "Rate × hours is above the largest amount we can hold."),
])
def test_bad_hourly_bids_are_refused(bidder, hourly_task, overrides, message):
    response = bidder.post(f"/tasks/{hourly_task.id}/bids", data=bid_form(**overrides))
    assert response.status_code == 400
    assert message in text(response)
    assert count(Bid) == 0


def test_bid_at_the_limits_is_accepted(bidder, task, hourly_task):
    assert bidder.post(f"/tasks/{task.id}/bids", data=bid_form(amount="100000")).status_code == 302
    assert bidder.post(f"/tasks/{hourly_task.id}/bids",
                       data=bid_form(amount="1000", estimated_hours="100")).status_code == 302
    assert count(Bid) == 2


# --- who may bid on what ------------------------------------------------------------------------

def test_a_business_cannot_bid_at_all(client, login_as, task):
    other_business = factories.create_business()
    login_as(other_business)
    page = text(client.get(f"/tasks/{task.id}"))
    assert "Send a proposal" not in page
    assert client.post(f"/tasks/{task.id}/bids", data=bid_form()).status_code in (400, 403)
    assert count(Bid) == 0
    with pytest.raises(Forbidden, match="Only specialists can send proposals."):
        services.place_bid(other_business, task, amount=10_000, estimated_hours=None, cover_note="me")
    assert count(Bid) == 0


def test_the_owner_cannot_bid_on_its_own_task(client, login_as, task, business):
    login_as(business)
    response = client.post(f"/tasks/{task.id}/bids", data=bid_form())
    assert response.status_code in (400, 403)
    assert count(Bid) == 0
    with pytest.raises(Forbidden):
        services.place_bid(business, task, amount=10_000, estimated_hours=None, cover_note="me")
    assert count(Bid) == 0


def test_visitor_is_sent_to_login(client, task):
    response = client.post(f"/tasks/{task.id}/bids", data=bid_form())
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert count(Bid) == 0


@pytest.mark.parametrize("status, code", [("draft", 404), ("cancelled", 404), ("removed", 404),
                                          ("in_progress", 400), ("completed", 400)])
def test_no_bids_on_tasks_that_are_not_open(bidder, business, status, code):
    task = factories.create_task(business, status=status, filled_seats=0 if status in ("draft", "cancelled",
                                                                                     "removed") else 1)
    response = bidder.post(f"/tasks/{task.id}/bids", data=bid_form())
    assert response.status_code == code
    if code == 400:
        assert "This task is not taking proposals." in text(response)
    assert count(Bid) == 0


def test_no_bids_on_a_task_waiting_for_moderation(bidder, business):
    task = factories.create_task(business, moderation_status="pending_review")
    assert bidder.post(f"/tasks/{task.id}/bids", data=bid_form()).status_code == 404
    assert count(Bid) == 0


@pytest.mark.parametrize("mode", ["invite", "match"])
def test_invite_only_task_refuses_uninvited_specialists(bidder, business, mode):
    task = factories.create_task(business, hiring_mode=mode)
    page = text(bidder.get(f"/tasks/{task.id}"))
    assert "This task takes proposals by invitation only." in page and "Send a proposal" not in page
    response = bidder.post(f"/tasks/{task.id}/bids", data=bid_form())
    assert response.status_code == 400 and "This task takes proposals by invitation only." in text(response)
    assert count(Bid) == 0


@pytest.mark.parametrize("invitation_status, allowed", [(InvitationStatus.PENDING, True),
                                                        (InvitationStatus.ACCEPTED, True),
                                                        (InvitationStatus.DECLINED, False)])
def test_invite_only_task_takes_a_bid_from_an_invited_specialist(bidder, business, freelancer,
                                                                 invitation_status, allowed):
    task = factories.create_task(business, hiring_mode="invite")
    db.session.add(Invitation(task_id=task.id, freelancer_id=freelancer.id, status=invitation_status))
    db.session.flush()
    response = bidder.post(f"/tasks/{task.id}/bids", data=bid_form())
    assert response.status_code == (302 if allowed else 400)
    assert count(Bid, Bid.task_id == task.id) == (1 if allowed else 0)


def test_an_invitation_to_someone_else_does_not_open_the_task(bidder, business):
    task = factories.create_task(business, hiring_mode="invite")
    db.session.add(Invitation(task_id=task.id, freelancer_id=factories.create_freelancer().id))
    db.session.flush()
    assert bidder.post(f"/tasks/{task.id}/bids", data=bid_form()).status_code == 400
    assert count(Bid) == 0


# --- editing and withdrawing ------------------------------------------------------------------------

def test_bidder_edits_a_pending_bid(bidder, task, freelancer):
    bid = add_bid(task, freelancer, amount=40_000)
    page = bidder.get(f"/bids/{bid.id}/edit")
    assert page.status_code == 200 and "400.00" in text(page)
    response = bidder.post(f"/bids/{bid.id}/edit", data=bid_form(amount="380", cover_note="Sharper offer"))
    assert response.status_code == 302
    assert "Proposal updated." in flashes(bidder)
    bid = db.session.get(Bid, bid.id)
    db.session.refresh(bid)
    assert (bid.amount, bid.cover_note, bid.status) == (38_000, "Sharper offer", BidStatus.PENDING)


def test_edit_validates_like_placing(bidder, task, freelancer):
    bid = add_bid(task, freelancer, amount=40_000)
    response = bidder.post(f"/bids/{bid.id}/edit", data=bid_form(amount="100000.01"))
    assert response.status_code == 400 and OUT_OF_BOUNDS in text(response)
    response = bidder.post(f"/bids/{bid.id}/edit", data=bid_form(cover_note=" "))
    assert response.status_code == 400 and "Tell the business why you're a good fit." in text(response)
    db.session.refresh(bid)
    assert bid.amount == 40_000


@pytest.mark.parametrize("status", [BidStatus.WITHDRAWN, BidStatus.DECLINED, BidStatus.ACCEPTED])
def test_only_a_pending_bid_can_be_edited_or_withdrawn(bidder, task, freelancer, status):
    bid = add_bid(task, freelancer, amount=40_000, status=status)
    response = bidder.post(f"/bids/{bid.id}/edit", data=bid_form(amount="10"))
    assert response.status_code == 400 and "Only a pending proposal can be edited." in text(response)
    bidder.post(f"/bids/{bid.id}/withdraw")
    assert "Only a pending proposal can be withdrawn." in flashes(bidder)
    db.session.refresh(bid)
    assert (bid.amount, bid.status) == (40_000, status)


def test_withdrawing_twice_says_so(bidder, task, freelancer):
    bid = add_bid(task, freelancer)
    bidder.post(f"/bids/{bid.id}/withdraw")
    assert "Proposal withdrawn." in flashes(bidder)
    bidder.post(f"/bids/{bid.id}/withdraw")
    assert flashes(bidder) == ["Only a pending proposal can be withdrawn."]
    assert bids_on(task)[0].status == BidStatus.WITHDRAWN


def test_another_freelancer_cannot_edit_or_withdraw(bidder, task):
    bid = add_bid(task, factories.create_freelancer(), amount=40_000)
    assert bidder.get(f"/bids/{bid.id}/edit").status_code == 404
    assert bidder.post(f"/bids/{bid.id}/edit", data=bid_form(amount="1")).status_code == 404
    assert bidder.post(f"/bids/{bid.id}/withdraw").status_code == 404
    db.session.refresh(bid)
    assert (bid.amount, bid.status) == (40_000, BidStatus.PENDING)


def test_the_business_cannot_edit_or_withdraw_a_bid_on_its_task(client, login_as, task, business):
    bid = add_bid(task, factories.create_freelancer(), amount=40_000)
    login_as(business)
    assert client.get(f"/bids/{bid.id}/edit").status_code == 403
    assert client.post(f"/bids/{bid.id}/edit", data=bid_form(amount="1")).status_code == 403
    client.post(f"/bids/{bid.id}/withdraw")
    assert "Only the specialist who sent this proposal can change it." in flashes(client)
    db.session.refresh(bid)
    assert (bid.amount, bid.status) == (40_000, BidStatus.PENDING)


def test_edit_and_withdraw_services_check_the_bidder(task, freelancer):
    bid = add_bid(task, freelancer)
    stranger = factories.create_freelancer()
    with pytest.raises(Forbidden):
        services.edit_bid(stranger, bid, amount=1_000, estimated_hours=None, cover_note="mine now")
    with pytest.raises(Forbidden):
        services.withdraw_bid(stranger, bid)
    db.session.refresh(bid)
    assert bid.status == BidStatus.PENDING and bid.amount == 40_000


def test_my_bids_lists_only_my_own(app, bidder, task, freelancer):
    add_bid(task, freelancer, cover_note="My own proposal text")
    add_bid(task, factories.create_freelancer(), cover_note="Somebody else's proposal text")
    page = text(bidder.get("/bids"))
    assert "Launch weekend chat" in page
    assert "Somebody else's proposal text" not in page
    assert client_for(app, factories.create_business()).get("/bids").status_code == 403
