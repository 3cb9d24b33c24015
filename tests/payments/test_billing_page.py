"""The business's billing page and CSV: every payable of its contracts, nobody else's."""
from __future__ import annotations

import csv
import io
from datetime import date

from marketplace.engagements.models import PayableKind
from marketplace.extensions import db
from marketplace.payments import saved_methods
from marketplace.payments.off_session import charge_off_session, recovery_path
from tests import factories
from tests.contracts.helpers import fund, hire, milestone
from tests.payments.payables import add_payable, hourly_hire


def _world(business):
    """A fixed contract with a paid milestone and an unpaid one, and an hourly contract with a paid invoice,
    an invoice whose charge failed and a bonus."""
    contract, first = hire(business, amount=60_000)
    fund(first)
    second = milestone(contract, "Second weekend", 30_000, date(2030, 1, 5))
    hourly = hourly_hire(business)
    saved_methods.save_sandbox_card(business, "succeeds")
    paid = add_payable(hourly, 25_500, title="Week of 16 Nov 2026: 10 h")
    assert charge_off_session(paid).status == "succeeded"
    saved_methods.save_sandbox_card(business, "declined")
    failed = add_payable(hourly, 12_750, title="Week of 23 Nov 2026: 5 h")
    assert charge_off_session(failed).status == "failed"
    bonus = add_payable(hourly, 5_000, kind=PayableKind.BONUS, title="Thanks for the launch")
    return dict(first=first, second=second, paid=paid, failed=failed, bonus=bonus, hourly=hourly)


def test_the_billing_page_lists_every_payable_with_its_status_receipt_and_pay_now_link(client, login_as, business):
    w = _world(business)
    login_as(business)
    page = client.get("/billing").get_data(as_text=True)
    for title in ("Second weekend", "Week of 16 Nov 2026: 10 h", "Week of 23 Nov 2026: 5 h", "Thanks for the launch"):
        assert title in page
    assert "Payment failed" in page and f'href="{recovery_path(w["failed"])}"' in page
    assert f'href="/engagements/{w["paid"].id}/receipt"' in page
    assert f'href="/engagements/{w["first"].id}/receipt"' in page
    assert f'href="/engagements/{w["second"].id}/receipt"' not in page
    assert "05 Jan 2030" in page and "Visa" in page and ">0341<" in page
    assert "Paid, held by the platform" in page


def test_the_csv_has_one_row_per_payable_in_major_units(client, login_as, business):
    w = _world(business)
    login_as(business)
    response = client.get("/billing.csv")
    assert response.mimetype == "text/csv" and "billing.csv" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    by_id = {int(r["payable"]): r for r in rows}
    assert set(by_id) == {p.id for p in w["hourly"].payables} | {w["first"].id, w["second"].id}
    failed = by_id[w["failed"].id]
    assert (failed["kind"], failed["amount"], failed["currency"], failed["status"]) == (
        "invoice", "127.50", "USD", "Payment failed")
    assert failed["contract"] == str(w["hourly"].id) and failed["paid_on"] == ""
    assert by_id[w["bonus"].id]["kind"] == "bonus" and by_id[w["bonus"].id]["amount"] == "50.00"
    assert by_id[w["second"].id]["due_on"] == "2030-01-05"
    assert by_id[w["paid"].id]["paid_on"] != "" and by_id[w["paid"].id]["status"] == "Paid, held by the platform"


def test_a_title_that_looks_like_a_formula_is_neutralised_in_the_csv(client, login_as, business):
    hourly = hourly_hire(business)
    add_payable(hourly, 1_000, kind=PayableKind.BONUS, title="=HYPERLINK(\"http://evil\")")
    login_as(business)
    rows = list(csv.DictReader(io.StringIO(client.get("/billing.csv").get_data(as_text=True))))
    assert any(r["title"] == "'=HYPERLINK(\"http://evil\")" for r in rows)


def test_another_business_sees_none_of_it(client, login_as, business):
    w = _world(business)
    other = factories.create_business()
    hire(other, amount=10_000)
    login_as(other)
    page = client.get("/billing").get_data(as_text=True)
    assert "Week of 23 Nov 2026" not in page and "Second weekend" not in page and "0341" not in page
    rows = list(csv.DictReader(io.StringIO(client.get("/billing.csv").get_data(as_text=True))))
    assert len(rows) == 1 and int(rows[0]["payable"]) not in {p.id for p in w["hourly"].payables}
    assert client.get(recovery_path(w["failed"])).status_code == 404
    assert client.get("/billing/payables/999999/pay").status_code == 404
    db.session.expire_all()


def test_the_billing_list_is_paged_and_the_csv_has_everything(client, login_as, business, monkeypatch):
    from marketplace.payments import billing
    monkeypatch.setattr(billing, "PER_PAGE", 2)
    hourly = hourly_hire(business)
    for n in range(3):
        add_payable(hourly, 1_000 + n, kind=PayableKind.BONUS, title=f"Bonus number {n}")
    login_as(business)
    first = client.get("/billing").get_data(as_text=True)
    assert "Bonus number 2" in first and "Bonus number 1" in first and "Bonus number 0" not in first
    assert "Page 1 of 2" in first and "/billing?page=2" in first
    second = client.get("/billing?page=2").get_data(as_text=True)
    assert "Bonus number 0" in second and "Bonus number 2" not in second
    assert client.get("/billing?page=99").status_code == 200
    rows = list(csv.DictReader(io.StringIO(client.get("/billing.csv").get_data(as_text=True))))
    assert len(rows) == 3   # the three bonuses (an hourly hire has no up-front payable)
