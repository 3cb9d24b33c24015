"""The hourly billing pages: contract sections, invoice page, disputing entries, bonuses, pause/resume/end,
the operator's queue and dispute page. Bad input is a clear message and changes nothing."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from marketplace.contracts.models import ContractStatus
from marketplace.engagements.models import EngagementStatus as S, PayableKind
from marketplace.extensions import db
from marketplace.invoicing.charging import charge_due_invoices
from marketplace.invoicing.closing import close_due_weeks
from marketplace.invoicing.models import WeeklyInvoice
from marketplace.payments import saved_methods
from tests import factories
from tests.invoicing.conftest import CLOSED, IN_WINDOW, WEEK, add_time, create_hourly_contract, day


@pytest.fixture()
def charged(app, monkeypatch):
    """A closed week (12 h logged, 10 h limit), charged to the business's saved card; the clock in the window."""
    monkeypatch.setitem(app.config, "FAKE_NOW", IN_WINDOW.isoformat())
    contract = create_hourly_contract(created_at=WEEK, rate=3_000, limit_minutes=600)
    entries = [add_time(contract, day(0), 360, "Morning queue"), add_time(contract, day(2), 360, "Launch day")]
    saved_methods.save_sandbox_card(contract.business, "succeeds")
    close_due_weeks(CLOSED)
    charge_due_invoices(CLOSED)
    invoice = db.session.scalar(select(WeeklyInvoice).where(WeeklyInvoice.contract_id == contract.id))
    return contract, invoice, entries


def page_text(response) -> str:
    return " ".join(response.get_data(as_text=True).split())


def test_both_sides_see_the_invoice_and_strangers_do_not(client, login_as, charged):
    contract, invoice, _ = charged
    url = f"/contracts/{contract.id}/invoices/{invoice.id}"
    login_as(contract.business)
    body = page_text(client.get(url))
    assert "10:00 h x $30.00/h = $300.00" in body and "Dispute these entries" in body
    assert "Pay as bonus" in body                     # the 2 h over the limit, offered to the business
    page = page_text(client.get(f"/contracts/{contract.id}"))
    assert "Weekly invoices" in page and "in review" in page and "$300.00" in page
    client.post("/logout")
    login_as(contract.freelancer)
    body = page_text(client.get(url))
    assert "$270.00" in body and "Dispute these entries" not in body and "Pay as bonus" not in body
    client.post("/logout")
    login_as(factories.create_business())
    assert client.get(url).status_code == 404


def test_disputing_entries_through_the_page(client, login_as, charged):
    contract, invoice, entries = charged
    login_as(contract.business)
    url = f"/contracts/{contract.id}/invoices/{invoice.id}/dispute"
    # Nothing chosen, or no reason: a form error, nothing changes.
    response = client.post(url, data={"reason": "Wrong"})
    assert response.status_code == 400 and "Choose at least one entry" in page_text(response)
    response = client.post(url, data={"entries": [str(entries[1].id)], "reason": ""})
    assert response.status_code == 400
    response = client.post(url, data={"entries": ["999999"], "reason": "Not ours"})
    assert response.status_code == 400
    db.session.refresh(invoice.engagement)
    assert invoice.engagement.status == S.DELIVERED
    response = client.post(url, data={"entries": [str(entries[1].id)], "reason": "Launch day was cancelled."})
    assert response.status_code == 302 and f"/engagements/{invoice.engagement_id}" in response.location
    db.session.refresh(invoice.engagement)
    assert invoice.engagement.status == S.DISPUTED


def test_the_operator_sees_the_disputed_entries_in_the_queue_and_on_the_dispute(client, login_operator, charged):
    from marketplace.invoicing.services import dispute_entries
    contract, invoice, entries = charged
    dispute_entries(contract.business, invoice, [entries[1].id], "Launch day was cancelled.", now=IN_WINDOW)
    login_operator(factories.create_operator())
    queue = page_text(client.get("/moderation/disputes"))
    assert "time dispute" in queue and "Launch day" in queue
    case = client.get(f"/moderation/disputes/{invoice.engagement_id}").get_data(as_text=True)
    assert 'data-disputed="yes"' in case and case.count('data-disputed="yes"') == 1
    assert "Launch day" in case


def test_a_bonus_is_charged_to_the_saved_card_and_released(client, login_as, charged):
    contract, _, _ = charged
    login_as(contract.business)
    response = client.post(f"/contracts/{contract.id}/bonuses", data={"title": "Launch week", "amount": "60.00"})
    assert response.status_code == 302
    [bonus] = [p for p in contract.payables if p.payable_kind == PayableKind.BONUS]
    db.session.refresh(bonus)
    assert (bonus.amount, bonus.status) == (6_000, S.COMPLETED)


def _bonus_form_key(client, contract) -> str:
    page = client.get(f"/contracts/{contract.id}").get_data(as_text=True)
    return re.search(r'name="key" type="hidden" value="([A-Za-z0-9_-]+)"', page).group(1)


def _bonus_charges(contract):
    from marketplace.payments.models import Charge, Transfer
    bonus_ids = [p.id for p in contract.payables if p.payable_kind == PayableKind.BONUS]
    charges = db.session.scalars(select(Charge).where(Charge.engagement_id.in_(bonus_ids))).all()
    transfers = db.session.scalars(select(Transfer).where(Transfer.engagement_id.in_(bonus_ids))).all()
    return bonus_ids, charges, transfers


def test_a_double_click_on_pay_bonus_pays_one_bonus(client, login_as, charged):
    from marketplace.payments import ledger
    contract, _, _ = charged
    login_as(contract.business)
    key = _bonus_form_key(client, contract)
    form = {"title": "Launch week", "amount": "60.00", "key": key}
    first = client.post(f"/contracts/{contract.id}/bonuses", data=form)
    cash = ledger.balance("platform_cash", "USD")
    second = client.post(f"/contracts/{contract.id}/bonuses", data=form, follow_redirects=True)
    db.session.expire_all()
    [bonus_id], charges, transfers = _bonus_charges(contract)
    assert first.status_code == 302 and first.location.endswith(f"/contracts/{contract.id}#bonuses")
    # The second submit shows the bonus the first one added and charges nothing more.
    assert second.request.path == f"/engagements/{bonus_id}"
    assert "already sent" in page_text(second) and "Nothing more was charged" in page_text(second)
    assert [c.status for c in charges] == ["succeeded"] and len(transfers) == 1
    assert ledger.balance("platform_cash", "USD") == cash and ledger.check() == []


def test_two_bonus_forms_pay_two_bonuses(client, login_as, charged):
    contract, _, _ = charged
    login_as(contract.business)
    keys = [_bonus_form_key(client, contract) for _ in range(2)]
    assert keys[0] != keys[1]                          # each showing of the form has its own key
    for key in keys:
        client.post(f"/contracts/{contract.id}/bonuses", data={"title": "Launch week", "amount": "60.00", "key": key})
    db.session.expire_all()
    bonus_ids, charges, transfers = _bonus_charges(contract)
    assert len(bonus_ids) == 2 and [c.status for c in charges] == ["succeeded"] * 2 and len(transfers) == 2


def test_a_tampered_bonus_form_key_is_refused(client, login_as, charged):
    contract, _, _ = charged
    login_as(contract.business)
    page = client.post(f"/contracts/{contract.id}/bonuses", data={"title": "Hi", "amount": "5", "key": "x" * 65},
                       follow_redirects=True)
    assert "That form expired" in page_text(page)
    db.session.expire_all()
    assert _bonus_charges(contract)[0] == []


def test_a_bonus_without_a_saved_card_goes_to_checkout(client, login_as, app, monkeypatch):
    monkeypatch.setitem(app.config, "FAKE_NOW", IN_WINDOW.isoformat())
    contract = create_hourly_contract(created_at=WEEK, card=None)
    login_as(contract.business)
    response = client.post(f"/contracts/{contract.id}/bonuses", data={"title": "Thanks", "amount": "25"})
    [bonus] = [p for p in contract.payables if p.payable_kind == PayableKind.BONUS]
    assert response.location.endswith(f"/engagements/{bonus.id}") and bonus.status == S.AWAITING_FUNDING


@pytest.mark.parametrize("data", [{"title": "", "amount": "10"}, {"title": "Hi", "amount": "0"},
                                  {"title": "Hi", "amount": "abc"}, {"title": "Hi", "amount": "-5"}])
def test_bad_bonus_forms_change_nothing(client, login_as, data):
    contract = create_hourly_contract(created_at=WEEK)
    login_as(contract.business)
    response = client.post(f"/contracts/{contract.id}/bonuses", data=data)
    assert response.status_code == 302
    db.session.expire_all()
    assert [p for p in contract.payables if p.payable_kind == PayableKind.BONUS] == []


def test_the_specialist_cannot_pay_a_bonus_through_the_page(client, login_as):
    contract = create_hourly_contract(created_at=WEEK)
    login_as(contract.freelancer)
    client.post(f"/contracts/{contract.id}/bonuses", data={"title": "Me", "amount": "100"})
    db.session.expire_all()
    assert [p for p in contract.payables if p.payable_kind == PayableKind.BONUS] == []


def test_pause_resume_and_end_through_the_page(client, login_as, app, monkeypatch):
    monkeypatch.setitem(app.config, "FAKE_NOW", day(3, 18).isoformat())
    contract = create_hourly_contract(created_at=WEEK)
    add_time(contract, day(1), 120)
    saved_methods.save_sandbox_card(contract.business, "succeeds")
    login_as(contract.freelancer)
    client.post(f"/contracts/{contract.id}/pause")
    db.session.refresh(contract)
    assert contract.status == ContractStatus.PAUSED
    client.post(f"/contracts/{contract.id}/resume")
    db.session.refresh(contract)
    assert contract.status == ContractStatus.ACTIVE
    client.post(f"/contracts/{contract.id}/end")
    db.session.expire_all()
    db.session.refresh(contract)
    assert contract.status == ContractStatus.ENDED
    invoice = db.session.scalar(select(WeeklyInvoice).where(WeeklyInvoice.contract_id == contract.id,
                                                            WeeklyInvoice.week_start == WEEK))
    assert invoice.closed_early and invoice.billable_minutes == 120
    assert invoice.status == "in_review"              # charged right away, then the normal window
    assert "Ended on" in page_text(client.get(f"/contracts/{contract.id}"))


def test_strangers_cannot_pause_or_end(client, login_as):
    contract = create_hourly_contract(created_at=WEEK)
    login_as(factories.create_freelancer())
    assert client.post(f"/contracts/{contract.id}/end").status_code == 404
    db.session.refresh(contract)
    assert contract.status == ContractStatus.ACTIVE


def test_the_contract_starts_once_the_business_saves_a_card(client, login_as, app, monkeypatch):
    from marketplace.timesheets import services as timesheets
    from marketplace.timesheets.models import TimeEntry
    from datetime import time as clock
    monkeypatch.setitem(app.config, "FAKE_NOW", day(3, 18).isoformat())
    contract = create_hourly_contract(created_at=WEEK, card=None)
    entry = timesheets.EntryInput(day(1).date(), clock(9), clock(11), "Chat queue")
    with pytest.raises(Exception, match="saved a card"):
        timesheets.log_entry(contract.freelancer, contract, entry, now=day(3, 18))
    login_as(contract.freelancer)
    assert "once the business saves a card" in page_text(client.get(f"/contracts/{contract.id}"))
    saved_methods.save_sandbox_card(contract.business, "succeeds")
    timesheets.log_entry(contract.freelancer, contract, entry, now=day(3, 18))
    assert db.session.scalar(select(TimeEntry.minutes).where(TimeEntry.contract_id == contract.id)) == 120
