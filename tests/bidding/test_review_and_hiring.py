"""The business reviews proposals: sorting, shortlisting, declining, and hiring into an engagement."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from marketplace.bidding import services
from marketplace.bidding.models import Bid, BidStatus
from marketplace.core.errors import Conflict, Forbidden
from marketplace.core.money import split_fee
from marketplace.engagements.hiring import accept_bid
from marketplace.engagements.models import Engagement, EngagementEvent, EngagementStatus
from marketplace.extensions import db
from marketplace.notifications.models import Notification
from marketplace.tasks.models import Task, TaskStatus
from tests import factories
from tests.tasks.helpers import add_bid, client_for, flashes, plain, sign_in, task_form, text


@pytest.fixture()
def owner(client, business):
    return sign_in(client, business)


def fresh(model, id_):
    db.session.expire_all()
    return db.session.get(model, id_)


def notifications_of(user, kind=None) -> list[Notification]:
    stmt = select(Notification).where(Notification.user_id == getattr(user, "id", user))
    if kind:
        stmt = stmt.where(Notification.kind == kind)
    return list(db.session.scalars(stmt.order_by(Notification.id)))


def engagements_on(task) -> list[Engagement]:
    return list(db.session.scalars(select(Engagement).where(Engagement.task_id == task.id)))


# --- reviewing ---------------------------------------------------------------------------------

def test_owner_sees_bids_shortlisted_first_then_cheapest(owner, business):
    task = factories.create_task(business)
    cheap = add_bid(task, factories.create_freelancer(), amount=20_000, cover_note="Cheap pending note")
    pricey = add_bid(task, factories.create_freelancer(), amount=90_000, cover_note="Pricey shortlisted note",
                     shortlisted=True)
    middle = add_bid(task, factories.create_freelancer(), amount=50_000, cover_note="Middle pending note")
    declined = add_bid(task, factories.create_freelancer(), amount=10_000, cover_note="Declined note",
                       status=BidStatus.DECLINED)
    add_bid(task, factories.create_freelancer(), amount=5_000, cover_note="Withdrawn note",
            status=BidStatus.WITHDRAWN)

    assert [b.id for b in services.bids_for_task(business, task)] == [pricey.id, cheap.id, middle.id, declined.id]
    page = text(owner.get(f"/tasks/{task.id}"))
    order = ["Pricey shortlisted note", "Cheap pending note", "Middle pending note", "Declined note"]
    assert sorted(order, key=page.index) == order
    assert "Withdrawn note" not in page
    assert "Proposals (4)" in page


def test_bids_for_task_service_refuses_anyone_but_the_owner(business):
    task = factories.create_task(business)
    add_bid(task, factories.create_freelancer())
    for stranger in (factories.create_business(), factories.create_freelancer()):
        with pytest.raises(Forbidden):
            services.bids_for_task(stranger, task)


def test_shortlist_and_unshortlist(owner, business):
    task = factories.create_task(business)
    bid = add_bid(task, factories.create_freelancer())
    response = owner.post(f"/bids/{bid.id}/shortlist", data={"on": "1"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/tasks/{task.id}#proposals")
    assert flashes(owner) == ["Shortlist updated."]
    assert fresh(Bid, bid.id).shortlisted is True
    owner.post(f"/bids/{bid.id}/shortlist", data={"on": "0"})
    assert fresh(Bid, bid.id).shortlisted is False


def test_only_a_pending_bid_can_be_shortlisted(owner, business):
    task = factories.create_task(business)
    bid = add_bid(task, factories.create_freelancer(), status=BidStatus.WITHDRAWN)
    owner.post(f"/bids/{bid.id}/shortlist", data={"on": "1"})
    assert flashes(owner) == ["Only a pending proposal can be shortlisted."]
    assert fresh(Bid, bid.id).shortlisted is False


def test_decline_with_a_note_tells_the_freelancer(owner, business):
    task = factories.create_task(business, title="Refund queue")
    freelancer = factories.create_freelancer()
    bid = add_bid(task, freelancer)
    response = owner.post(f"/bids/{bid.id}/decline", data={"note": "  We went with a native Portuguese speaker.  "})
    assert response.status_code == 302
    assert flashes(owner) == ["Proposal declined. The specialist has been told."]
    bid = fresh(Bid, bid.id)
    assert bid.status == BidStatus.DECLINED and bid.decline_note == "We went with a native Portuguese speaker."
    [note] = notifications_of(freelancer)
    assert note.kind == "bid_declined" and "Refund queue" in note.title
    assert note.body == "We went with a native Portuguese speaker." and note.link == f"/tasks/{task.id}"
    assert note.read_at is None


def test_decline_without_a_note_sends_a_polite_default(owner, business):
    task = factories.create_task(business)
    freelancer = factories.create_freelancer()
    bid = add_bid(task, freelancer)
    owner.post(f"/bids/{bid.id}/decline", data={"note": ""})
    assert fresh(Bid, bid.id).decline_note is None
    [note] = notifications_of(freelancer, "bid_declined")
    assert "Thank you for applying." in note.body


def test_declining_twice_notifies_once(owner, business):
    task = factories.create_task(business)
    freelancer = factories.create_freelancer()
    bid = add_bid(task, freelancer)
    owner.post(f"/bids/{bid.id}/decline", data={"note": "No thanks"})
    flashes(owner)
    owner.post(f"/bids/{bid.id}/decline", data={"note": "Really no"})
    assert flashes(owner) == ["This proposal is no longer pending."]
    assert fresh(Bid, bid.id).decline_note == "No thanks"
    assert len(notifications_of(freelancer)) == 1


def test_decline_note_too_long_changes_nothing(owner, business):
    task = factories.create_task(business)
    freelancer = factories.create_freelancer()
    bid = add_bid(task, freelancer)
    owner.post(f"/bids/{bid.id}/decline", data={"note": "x" * 501})
    assert "Field cannot be longer than 500 characters." in " ".join(flashes(owner))
    assert fresh(Bid, bid.id).status == BidStatus.PENDING
    assert notifications_of(freelancer) == []


def test_declined_freelancer_sees_the_outcome_on_the_task_page(app, business):
    task = factories.create_task(business)
    freelancer = factories.create_freelancer()
    bid = add_bid(task, freelancer, cover_note="Please pick me")
    services.decline_bid(business, bid, "Not this time")
    page = text(client_for(app, freelancer).get(f"/tasks/{task.id}"))
    # Declined is not live: the specialist may send a fresh proposal.
    assert "Send a proposal" in page


# --- hiring -----------------------------------------------------------------------------------

def test_accept_creates_an_engagement_awaiting_funding(app, owner, business):
    task = factories.create_task(business, title="Launch weekend chat", budget=60_000)
    hired = factories.create_freelancer(full_name="Hana Hired")
    others = [factories.create_freelancer() for _ in range(2)]
    bid = add_bid(task, hired, amount=45_678)
    losing = [add_bid(task, f, amount=30_000) for f in others]
    gone = add_bid(task, factories.create_freelancer(), status=BidStatus.WITHDRAWN)

    response = owner.post(f"/bids/{bid.id}/accept")
    assert response.status_code == 302
    [engagement] = engagements_on(task)
    assert response.headers["Location"].endswith(f"/engagements/{engagement.id}")
    assert flashes(owner) == ["Hired! Fund the engagement so the work can start."]

    fee_bps = app.config["PLATFORM_FEE_BPS"]
    assert (engagement.bid_id, engagement.business_id, engagement.freelancer_id) == (bid.id, business.id, hired.id)
    assert engagement.status == EngagementStatus.AWAITING_FUNDING
    assert (engagement.amount, engagement.currency, engagement.fee_bps) == (45_678, "USD", fee_bps)
    assert engagement.fee_amount == 4_568          # 10% of 456.78 = 45.678, rounded half up
    assert engagement.payout_amount == 41_110
    assert engagement.fee_amount + engagement.payout_amount == engagement.amount
    assert [e.to_status for e in db.session.scalars(select(EngagementEvent)
                                                    .where(EngagementEvent.engagement_id == engagement.id))] \
        == ["awaiting_funding"]

    task = fresh(Task, task.id)
    assert task.filled_seats == 1 and task.status == TaskStatus.IN_PROGRESS
    assert fresh(Bid, bid.id).status == BidStatus.ACCEPTED
    for other_bid in losing:
        other_bid = db.session.get(Bid, other_bid.id)
        assert other_bid.status == BidStatus.DECLINED
        assert other_bid.decline_note == "All seats on this task have been filled."
        assert [n.kind for n in notifications_of(other_bid.freelancer_id)] == ["bid_declined"]
    assert db.session.get(Bid, gone.id).status == BidStatus.WITHDRAWN
    assert notifications_of(gone.freelancer_id) == []
    [hire_note] = notifications_of(hired, "hired")
    assert hire_note.link == f"/engagements/{engagement.id}" and "$411.10" in hire_note.body

    # The engagement page, as both sides see it.
    page = plain(owner.get(f"/engagements/{engagement.id}"))
    assert "awaiting funding" in page and "Next step: fund this engagement." in page
    assert "Agreed amount $456.78" in page and "Platform fee (10%) $45.68" in page
    assert "Specialist receives $411.10" in page
    freelancer_page = client_for(app, hired).get(f"/engagements/{engagement.id}")
    assert freelancer_page.status_code == 200
    freelancer_view = plain(freelancer_page)
    assert "awaiting funding" in freelancer_view
    assert "Waiting for the business to fund the engagement." in freelancer_view


@pytest.mark.parametrize("fee_bps, amount, fee", [(1500, 10_001, 1_500), (1000, 5, 1), (1000, 4, 0), (0, 9_999, 0)])
def test_fee_follows_the_setting_and_always_splits_exactly(app, business, fee_bps, amount, fee):
    task = factories.create_task(business)
    bid = add_bid(task, factories.create_freelancer(), amount=amount)
    old = app.config["PLATFORM_FEE_BPS"]
    app.config["PLATFORM_FEE_BPS"] = fee_bps
    try:
        engagement = accept_bid(business, bid)
    finally:
        app.config["PLATFORM_FEE_BPS"] = old
    assert (engagement.fee_bps, engagement.fee_amount, engagement.payout_amount) == (fee_bps, fee, amount - fee)
    assert (fee, amount - fee) == split_fee(amount, fee_bps)


def test_accepting_an_hourly_bid_opens_an_hourly_contract_with_nothing_charged_up_front(owner, business):
    from marketplace.contracts.models import Contract, ContractKind
    task = factories.create_task(business, pricing="hourly", budget=None, max_rate=3_000, estimated_hours=40)
    bid = add_bid(task, factories.create_freelancer(), amount=2_550, estimated_hours=12)
    response = owner.post(f"/bids/{bid.id}/accept")
    assert engagements_on(task) == []           # no up-front payable: each week is invoiced
    contract = db.session.scalar(select(Contract).where(Contract.task_id == task.id))
    assert (contract.kind, contract.hourly_rate, contract.weekly_limit_minutes) == (ContractKind.HOURLY, 2_550, 720)
    # No saved card yet: the business is sent to save one.
    assert response.status_code == 302 and "/billing" in response.headers["Location"]


def test_two_seat_task_stays_open_after_one_hire_and_fills_on_the_second(owner, business):
    task = factories.create_task(business, seats=2)
    first, second, third = (add_bid(task, factories.create_freelancer()) for _ in range(3))

    owner.post(f"/bids/{first.id}/accept")
    task = fresh(Task, task.id)
    assert (task.status, task.filled_seats) == (TaskStatus.OPEN, 1)
    assert [db.session.get(Bid, b.id).status for b in (second, third)] == [BidStatus.PENDING] * 2
    assert "Bilingual chat support" in text(owner.get("/tasks"))   # still listed with a seat left

    owner.post(f"/bids/{second.id}/accept")
    task = fresh(Task, task.id)
    assert (task.status, task.filled_seats) == (TaskStatus.IN_PROGRESS, 2)
    assert db.session.get(Bid, third.id).status == BidStatus.DECLINED
    assert len(engagements_on(task)) == 2


@pytest.mark.parametrize("status", [BidStatus.WITHDRAWN, BidStatus.DECLINED])
def test_accepting_a_dead_bid_changes_nothing(owner, business, status):
    task = factories.create_task(business)
    bid = add_bid(task, factories.create_freelancer(), status=status)
    waiting = add_bid(task, factories.create_freelancer())
    response = owner.post(f"/bids/{bid.id}/accept")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/tasks/{task.id}#proposals")
    assert flashes(owner) == ["This proposal is no longer pending."]
    assert engagements_on(task) == []
    task = fresh(Task, task.id)
    assert (task.status, task.filled_seats) == (TaskStatus.OPEN, 0)
    assert db.session.get(Bid, bid.id).status == status
    assert db.session.get(Bid, waiting.id).status == BidStatus.PENDING


@pytest.mark.parametrize("seats, second_message", [(1, "All seats on this task are already filled."),
                                                   (2, "This proposal is no longer pending.")])
def test_double_click_on_accept_makes_one_engagement(owner, business, seats, second_message):
    task = factories.create_task(business, seats=seats)
    bid = add_bid(task, factories.create_freelancer())
    owner.post(f"/bids/{bid.id}/accept")
    flashes(owner)
    second = owner.post(f"/bids/{bid.id}/accept")
    assert second.status_code == 302
    assert flashes(owner) == [second_message]
    assert len(engagements_on(task)) == 1
    assert fresh(Task, task.id).filled_seats == 1


def test_accept_bid_service_raises_conflict_for_a_second_acceptance(business):
    task = factories.create_task(business, seats=2)
    bid = add_bid(task, factories.create_freelancer())
    accept_bid(business, bid)
    with pytest.raises(Conflict):
        accept_bid(business, bid)
    assert len(engagements_on(task)) == 1


def test_the_bidder_cannot_accept_their_own_bid(app, business):
    task = factories.create_task(business)
    freelancer = factories.create_freelancer()
    bid = add_bid(task, freelancer)
    browser = client_for(app, freelancer)
    flashes(browser)
    browser.post(f"/bids/{bid.id}/accept")
    assert flashes(browser) == ["Only the business that posted this task can hire for it."]
    assert engagements_on(task) == [] and fresh(Bid, bid.id).status == BidStatus.PENDING


def test_strangers_get_404_on_the_engagement(app, business):
    task = factories.create_task(business)
    engagement = accept_bid(business, add_bid(task, factories.create_freelancer()))
    for stranger in (factories.create_freelancer(), factories.create_business()):
        assert client_for(app, stranger).get(f"/engagements/{engagement.id}").status_code == 404
    visitor = client_for(app).get(f"/engagements/{engagement.id}")
    assert visitor.status_code == 302 and "/login" in visitor.headers["Location"]


def test_engagement_list_shows_only_own_engagements(app, business):
    task = factories.create_task(business, title="Visible hire")
    hired = factories.create_freelancer()
    accept_bid(business, add_bid(task, hired))
    assert "Visible hire" in text(client_for(app, hired).get("/engagements"))
    assert "Visible hire" not in text(client_for(app, factories.create_freelancer()).get("/engagements"))


# --- a task whose pricing changes under its proposals ------------------------------------------------

@pytest.mark.parametrize("was, now, message", [
    (dict(pricing="fixed", budget=50_000),
     dict(pricing="hourly", budget="", max_rate="30", estimated_hours="10"), "as a fixed total"),
    (dict(pricing="hourly", budget=None, max_rate=3_000, estimated_hours=10),
     dict(pricing="fixed", budget="900"), "per hour"),
])
def test_pricing_type_cannot_change_under_pending_proposals(owner, business, was, now, message):
    task = factories.create_task(business, **was)
    hourly = was["pricing"] == "hourly"
    bid = add_bid(task, factories.create_freelancer(), amount=2_500 if hourly else 40_000,
                  estimated_hours=10 if hourly else None)
    response = owner.post(f"/tasks/{task.id}/edit", data=task_form(**now))
    assert response.status_code == 400
    assert (f"This task already has proposals priced {message}, so the pricing type can't change. "
            "Cancel it and post a new task instead.") in text(response)
    task = fresh(Task, task.id)
    assert task.pricing.value == was["pricing"] and task.budget == was.get("budget")
    # ...so the hire happens on the terms the specialist proposed.
    owner.post(f"/bids/{bid.id}/accept")
    if hourly:   # an hourly contract at the proposed rate, nothing charged up front
        from marketplace.contracts.models import Contract
        contract = db.session.scalar(select(Contract).where(Contract.task_id == task.id))
        assert (contract.hourly_rate, engagements_on(task)) == (2_500, [])
    else:
        [engagement] = engagements_on(task)
        assert engagement.amount == 40_000


def test_pricing_type_can_change_when_no_proposal_is_pending(owner, business):
    task = factories.create_task(business, pricing="fixed", budget=50_000)
    add_bid(task, factories.create_freelancer(), status=BidStatus.WITHDRAWN)
    add_bid(task, factories.create_freelancer(), status=BidStatus.DECLINED)
    response = owner.post(f"/tasks/{task.id}/edit", data=task_form(pricing="hourly", budget="", max_rate="30",
                                                                   estimated_hours="10"))
    assert response.status_code == 302
    task = fresh(Task, task.id)
    assert (task.pricing.value, task.budget, task.max_rate, task.estimated_hours) == ("hourly", None, 3_000, 10)


def test_budget_can_change_under_pending_proposals(owner, business):
    task = factories.create_task(business, budget=50_000)
    add_bid(task, factories.create_freelancer())
    assert owner.post(f"/tasks/{task.id}/edit", data=task_form(budget="700")).status_code == 302
    assert fresh(Task, task.id).budget == 70_000


def test_declining_an_accepted_bid_changes_nothing(owner, business):
    task = factories.create_task(business, seats=2)
    freelancer = factories.create_freelancer()
    bid = add_bid(task, freelancer)
    accept_bid(business, bid)
    owner.post(f"/bids/{bid.id}/decline", data={"note": "Changed my mind"})
    assert flashes(owner) == ["This proposal is no longer pending."]
    assert fresh(Bid, bid.id).status == BidStatus.ACCEPTED
    assert [e.status for e in engagements_on(task)] == [EngagementStatus.AWAITING_FUNDING]
    assert notifications_of(freelancer, "bid_declined") == []


@pytest.mark.parametrize("held", ["task", "bid"])
def test_nobody_is_hired_on_a_task_or_proposal_waiting_for_review(business, held):
    from marketplace.tasks.models import ModerationStatus
    task = factories.create_task(business, seats=1)
    bid = add_bid(task, factories.create_freelancer())
    (task if held == "task" else bid).moderation_status = ModerationStatus.PENDING_REVIEW
    db.session.flush()
    with pytest.raises(Conflict, match="waiting for a review"):
        accept_bid(business, bid)
    assert fresh(Bid, bid.id).status == BidStatus.PENDING
    assert fresh(Task, task.id).filled_seats == 0
    assert engagements_on(task) == []
