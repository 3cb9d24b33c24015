"""The contract page and its milestone forms, through HTTP."""
from __future__ import annotations

from datetime import timedelta

from marketplace.contracts.models import Contract
from marketplace.core.time import utcnow
from marketplace.extensions import db
from tests import factories
from tests.contracts.helpers import approve, fresh, hire, refund
from tests.tasks.helpers import flashes, plain, sign_in, text


def payables(contract) -> list[tuple[int, str, int]]:
    contract = fresh(Contract, contract.id)
    return [(p.position, p.title, p.amount) for p in contract.payables]


def test_both_sides_see_the_terms_milestones_and_timeline(client):
    contract, first = hire(amount=60_000, title="Holiday chat cover")
    for viewer in (contract.business, contract.freelancer):
        sign_in(client, viewer)
        page = plain(client.get(f"/contracts/{contract.id}"))
        assert "Holiday chat cover" in page and "Fixed-price contract" in page
        assert "Total $600.00" in page and "Milestones" in page
        assert f'href="/engagements/{first.id}"' in text(client.get(f"/contracts/{contract.id}"))
        assert "Proposal accepted" in page   # the first milestone's timeline
    # Only the business gets the forms.
    sign_in(client, contract.business)
    assert "Add a milestone" in plain(client.get(f"/contracts/{contract.id}"))
    sign_in(client, contract.freelancer)
    assert "Add a milestone" not in plain(client.get(f"/contracts/{contract.id}"))


def test_strangers_get_a_404_and_the_engagement_page_links_to_its_contract(client):
    contract, first = hire()
    sign_in(client, factories.create_business())
    assert client.get(f"/contracts/{contract.id}").status_code == 404
    sign_in(client, contract.freelancer)
    assert f'href="/contracts/{contract.id}"' in text(client.get(f"/engagements/{first.id}"))


def test_the_business_adds_and_splits_milestones_through_the_page(client):
    contract, first = hire(amount=60_000, title="Launch support")
    sign_in(client, contract.business)
    due = (utcnow().date() + timedelta(days=10)).isoformat()
    response = client.post(f"/contracts/{contract.id}/milestones",
                           data={"title": "Follow-up week", "amount": "150.50", "due_on": due})
    assert response.status_code == 302 and "Milestone 2 added" in flashes(client)[0]
    response = client.post(f"/contracts/{contract.id}/milestones/{first.id}/split",
                           data={"title": "Second half", "amount": "250", "due_on": ""})
    assert response.status_code == 302
    assert payables(contract) == [(1, "Launch support", 35_000), (2, "Follow-up week", 15_050),
                                  (3, "Second half", 25_000)]
    page = plain(client.get(f"/contracts/{contract.id}"))
    assert "Total $750.50" in page and "Second half" in page


def test_bad_milestone_forms_show_the_reason_and_change_nothing(client):
    contract, first = hire(amount=60_000)
    sign_in(client, contract.business)
    for data, reason in (({"title": "", "amount": "10"}, "Give the milestone a short title."),
                         ({"title": "Ok", "amount": "abc"}, "Not a valid decimal value"),
                         ({"title": "Ok", "amount": "0"}, "Enter an amount above zero"),
                         ({"title": "Ok", "amount": "10", "due_on": "2001-01-01"}, "can't be in the past")):
        response = client.post(f"/contracts/{contract.id}/milestones", data=data)
        assert response.status_code == 400 and reason in text(response), (data, text(response)[:200])
    response = client.post(f"/contracts/{contract.id}/milestones/{first.id}/split",
                           data={"title": "Everything", "amount": "600"})
    assert response.status_code == 400 and "so that something is left on it" in text(response)
    assert payables(contract) == [(1, contract.task.title, 60_000)]


def test_the_specialist_and_strangers_cannot_post_milestones(client):
    contract, first = hire(amount=60_000)
    sign_in(client, contract.freelancer)
    assert client.post(f"/contracts/{contract.id}/milestones",
                       data={"title": "Mine", "amount": "10"}).status_code == 403
    sign_in(client, factories.create_business())
    assert client.post(f"/contracts/{contract.id}/milestones/{first.id}/split",
                       data={"title": "Theirs", "amount": "10"}).status_code == 404
    assert payables(contract) == [(1, contract.task.title, 60_000)]


def test_an_ended_contract_shows_where_the_reviews_are_and_refuses_new_milestones(client):
    contract, first = hire(amount=60_000)
    from marketplace.contracts import services
    second = services.split_milestone(contract.business, first, services.MilestoneData("Rest", 20_000))
    approve(first)
    refund(second)
    db.session.flush()
    sign_in(client, contract.business)
    page = plain(client.get(f"/contracts/{contract.id}"))
    assert "Ended on" in page and "Reviews are written on milestone 1" in page
    assert "Add a milestone" not in page
    response = client.post(f"/contracts/{contract.id}/milestones", data={"title": "Late", "amount": "10"})
    assert response.status_code == 302 and "has ended" in flashes(client)[0]


def test_the_engagements_list_shows_contracts_with_their_milestones(client):
    contract, first = hire(amount=60_000, title="Listed contract")
    from marketplace.contracts import services
    services.split_milestone(contract.business, first, services.MilestoneData("Part two", 10_000))
    sign_in(client, contract.freelancer)
    page = text(client.get("/engagements"))
    assert f'href="/contracts/{contract.id}"' in page and "Listed contract" in page
    assert "2. Part two" in page and f'href="/engagements/{first.id}"' in page


def test_each_milestone_has_its_own_receipt_and_payments_row(client):
    contract, first = hire(amount=60_000, title="Receipts per stage")
    from marketplace.contracts import services
    second = services.split_milestone(contract.business, first, services.MilestoneData("Stage two", 20_000))
    approve(first)
    from tests.contracts.helpers import fund
    fund(db.session.get(type(second), second.id))
    sign_in(client, contract.business)
    receipt = plain(client.get(f"/engagements/{second.id}/receipt"))
    assert "milestone 2: Stage two" in receipt and "$200.00" in receipt
    payments_page = plain(client.get("/payments"))
    assert "Milestone 2: Stage two" in payments_page


def test_an_hourly_contract_page_shows_its_terms_and_no_milestone_forms(client, business):
    from marketplace.engagements.hiring import hire
    from tests.tasks.helpers import add_bid
    task = factories.create_task(business, pricing="hourly", budget=None, max_rate=4_000, estimated_hours=30)
    contract = hire(business, add_bid(task, factories.create_freelancer(), amount=3_500, estimated_hours=30))
    sign_in(client, business)
    page = plain(client.get(f"/contracts/{contract.id}"))
    assert "Hourly contract" in page and "Hourly rate $35.00/h" in page and "Weekly limit 30 h" in page
    assert "Manual time Allowed" in page and "Add a milestone" not in page and "Split this milestone" not in page
    assert "Weekly invoices" in page and "Pay a bonus" in page and "End contract" in page
