"""Dispute statements and the operator's split (marketplace/moderation/disputes.py, dispute_views.py)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from marketplace.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from marketplace.engagements import transitions
from marketplace.engagements.models import Engagement, EngagementStatus as S
from marketplace.extensions import db
from marketplace.moderation import disputes
from marketplace.moderation.models import AuditEntry, DisputeStatement
from marketplace.notifications.models import Notification
from marketplace.payments import ledger
from marketplace.payments.ledger import FEES, PAYABLE, REFUNDS
from marketplace.payments.models import LedgerTransaction, Refund, Transfer
from tests import factories
from tests.payments.helpers import assert_ledger_ok, ledger_counts, sandbox_fund


def kinds(user_id) -> list[str]:
    return list(db.session.scalars(select(Notification.kind).where(Notification.user_id == user_id)))


def statements(engagement) -> list[DisputeStatement]:
    return list(db.session.scalars(select(DisputeStatement).where(DisputeStatement.engagement_id == engagement.id)
                                   .order_by(DisputeStatement.id)))


def disputed(amount: int = 45_678):
    e = factories.create_engagement(amount=amount)
    sandbox_fund(e)
    transitions.open_dispute(e.business, e, "Half the shifts were missed.")
    return e


def state(e) -> tuple:
    """Everything a refused decision must leave untouched."""
    db.session.refresh(e)
    return (e.status, e.resolution_refund, e.resolution_release, ledger_counts(),
            db.session.scalar(select(func.count()).select_from(Refund)),
            db.session.scalar(select(func.count()).select_from(Transfer)),
            db.session.scalar(select(func.count()).select_from(AuditEntry)),
            len(statements(e)), db.session.scalar(select(func.count()).select_from(Notification)))


# --- statements ---------------------------------------------------------------------------------

def test_both_parties_add_statements_and_the_other_side_is_notified():
    e = disputed()
    disputes.add_statement(e.freelancer, e, "  I covered every shift; logs attached.  ")
    disputes.add_statement(e.business, e, "Two shifts were empty.")
    rows = statements(e)
    assert [(s.author_id, s.body) for s in rows] == [(e.freelancer_id, "I covered every shift; logs attached."),
                                                     (e.business_id, "Two shifts were empty.")]
    assert kinds(e.business_id).count("dispute_statement") == 1
    assert kinds(e.freelancer_id).count("dispute_statement") == 1


def test_operator_statement_notifies_both_parties_and_is_audited():
    e = disputed()
    operator = factories.create_operator()
    statement = disputes.add_statement(operator, e, "Please both send your shift logs.")
    assert "dispute_statement" in kinds(e.business_id) and "dispute_statement" in kinds(e.freelancer_id)
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "dispute_statement")).all()
    assert (entry.actor_id, entry.target_type, entry.target_id, entry.reason) == (
        operator.id, "engagement", e.id, "Please both send your shift logs.")
    assert f"statement {statement.id}" in entry.details
    # The parties' own statements are not operator actions.
    disputes.add_statement(e.business, e, "Logs attached.")
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "dispute_statement")) == 1


def test_stranger_and_other_roles_cannot_add_or_read_statements():
    e = disputed()
    for stranger in (factories.create_freelancer(), factories.create_business()):
        with pytest.raises(NotFound):
            disputes.add_statement(stranger, e, "I was there too.")
        with pytest.raises(NotFound):
            disputes.statements_for(stranger, e)
    assert statements(e) == []


def test_statements_only_while_disputed():
    e = factories.create_engagement()
    sandbox_fund(e)
    with pytest.raises(Conflict, match="only while a dispute is open"):
        disputes.add_statement(e.business, e, "Not disputed yet.")
    assert statements(e) == []


@pytest.mark.parametrize("body,message", [("", "write your statement"), ("   \n ", "write your statement"),
                                          (None, "write your statement"), ("x" * 4001, "at most 4,000")])
def test_statement_text_is_required_and_bounded(body, message):
    e = disputed()
    with pytest.raises(ValidationFailed, match=message):
        disputes.add_statement(e.business, e, body)
    assert statements(e) == []


def test_statement_page_flow_and_forged_engagement_id(client, login_as):
    e = disputed()
    other = disputed()  # a dispute between two other people
    login_as(e.freelancer)
    page = client.get(f"/engagements/{e.id}").get_data(as_text=True)
    assert 'id="dispute"' in page and "Add a statement" in page
    response = client.post(f"/engagements/{e.id}/dispute/statements", data={"body": "My side of the story."})
    assert response.status_code == 302
    assert "My side of the story." in client.get(f"/engagements/{e.id}").get_data(as_text=True)
    # Someone else's engagement id: not found, nothing written.
    response = client.post(f"/engagements/{other.id}/dispute/statements", data={"body": "Sneaky."})
    assert response.status_code == 404
    assert statements(other) == []
    # Empty text: a clear message, nothing written.
    response = client.post(f"/engagements/{e.id}/dispute/statements", data={"body": " "}, follow_redirects=True)
    assert "Please write your statement." in response.get_data(as_text=True)
    assert len(statements(e)) == 1


def test_panel_is_hidden_without_a_dispute_and_read_only_after_resolution(client, login_as):
    e = factories.create_engagement()
    sandbox_fund(e)
    login_as(e.business)
    assert 'id="dispute"' not in client.get(f"/engagements/{e.id}").get_data(as_text=True)
    transitions.open_dispute(e.business, e, "Missed shifts.")
    disputes.add_statement(e.business, e, "The logs show gaps.")
    disputes.decide(factories.create_operator(), e, "100", "356.78", "Two of eight shifts were missed.")
    page = client.get(f"/engagements/{e.id}").get_data(as_text=True)
    assert "The logs show gaps." in page and "Two of eight shifts were missed." in page
    assert "Add a statement" not in page and "resolved" in page


# --- the operator's decision ----------------------------------------------------------------------

def test_split_reaches_the_ledger_with_refund_transfer_audit_and_notifications():
    e = disputed(45_678)
    operator = factories.create_operator()
    before_notes = {uid: kinds(uid).count("dispute_resolved") for uid in (e.business_id, e.freelancer_id)}
    refund, transfer = disputes.decide(operator, e, "156.78", "300.00", "The specialist covered 2 of 3 days.")
    assert e.status == S.RESOLVED and (e.resolution_refund, e.resolution_release) == (15_678, 30_000)
    assert refund.amount == 15_678 and refund.status == "pending"
    # 10% fee on the released 300.00: 30.00 to the platform, 270.00 to the specialist.
    assert transfer.amount == 27_000
    assert ledger.held_for(e) == 0
    assert ledger.balance(REFUNDS, "USD", engagement_id=e.id) == -15_678
    assert ledger.balance(FEES, "USD", engagement_id=e.id) == -3_000
    assert ledger.balance(PAYABLE, "USD", engagement_id=e.id) == -27_000
    assert db.session.scalar(select(LedgerTransaction.kind).where(
        LedgerTransaction.source_id == f"resolution:eng_{e.id}")) == "dispute_resolution"
    assert_ledger_ok()
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "resolve_dispute"))
    assert (entry.actor_id, entry.target_type, entry.target_id) == (operator.id, "engagement", e.id)
    assert "refund=15678" in entry.details and "release=30000" in entry.details
    assert entry.reason == "The specialist covered 2 of 3 days."
    last = statements(e)[-1]
    assert last.author_id == operator.id and "The specialist covered 2 of 3 days." in last.body
    # Each party is told exactly once (by resolve_dispute).
    for uid in (e.business_id, e.freelancer_id):
        assert kinds(uid).count("dispute_resolved") == before_notes[uid] + 1


@pytest.mark.parametrize("refund,release,note,message", [
    ("100", "100", "note", r"add up to exactly the \$456\.78 held"),
    ("-1", "457.78", "note", "can't be negative"),
    ("abc", "456.78", "note", "must be a number"),
    ("1e400", "0", "note", "must be a number"),
    ("0.001", "456.777", "note", "must be a number"),
    ("", "456.78", "note", "enter the refund amount"),
    ("0", "456.78", "  ", "write your decision note"),
    ("0", "456.78", "x" * 2001, "at most 2,000"),
])
def test_bad_split_is_refused_and_nothing_changes(refund, release, note, message):
    e = disputed(45_678)
    before = state(e)
    with pytest.raises(ValidationFailed, match=message):
        disputes.decide(factories.create_operator(), e, refund, release, note)
    assert state(e) == before and e.status == S.DISPUTED


def test_deciding_twice_is_already_resolved_and_changes_nothing():
    e = disputed()
    first, second = factories.create_operator(), factories.create_operator()
    disputes.decide(first, e, "0", "456.78", "Work was done.")
    before = state(e)
    with pytest.raises(Conflict, match="already been resolved"):
        disputes.decide(second, e, "456.78", "0", "Refund everything.")
    assert state(e) == before


def test_a_stale_copy_loses_the_race_with_already_resolved():
    from sqlalchemy.orm.attributes import set_committed_value
    e = disputed()
    disputes.decide(factories.create_operator(), e, "0", "456.78", "Work was done.")
    # A second operator's request read the engagement while it was still disputed.
    set_committed_value(e, "status", S.DISPUTED)
    counts = ledger_counts()
    with pytest.raises(Conflict, match="already been resolved"):
        disputes.decide(factories.create_operator(), e, "456.78", "0", "Refund everything.")
    assert ledger_counts() == counts
    db.session.refresh(e)
    assert (e.status, e.resolution_refund) == (S.RESOLVED, 0)


def test_only_operators_decide():
    e = disputed()
    for user in (e.business, e.freelancer, factories.create_freelancer()):
        with pytest.raises(Forbidden):
            disputes.decide(user, e, "0", "456.78", "Mine.")
    assert e.status == S.DISPUTED


# --- pages ------------------------------------------------------------------------------------

def test_operator_pages_list_show_and_decide(client, login_operator):
    e = disputed(45_678)
    disputes.add_statement(e.freelancer, e, "I have the shift logs.")
    operator = factories.create_operator()
    login_operator(operator)
    index = client.get("/moderation/disputes").get_data(as_text=True)
    assert f"/moderation/disputes/{e.id}" in index and "$456.78" in index
    page = client.get(f"/moderation/disputes/{e.id}").get_data(as_text=True)
    assert "Half the shifts were missed." in page and "I have the shift logs." in page
    assert 'id="timeline"' in page and "Resolve dispute" in page
    response = client.post(f"/moderation/disputes/{e.id}/decide",
                           data={"confirm": "y", "refund": "200", "release": "256.78", "note": "Split for missed shifts."})
    assert response.status_code == 302
    db.session.refresh(e)
    assert (e.status, e.resolution_refund, e.resolution_release) == (S.RESOLVED, 20_000, 25_678)
    page = client.get(f"/moderation/disputes/{e.id}").get_data(as_text=True)
    assert "Resolved by" in page and "Resolve dispute" not in page
    # A second decision: "already resolved", nothing changes.
    before = state(e)
    response = client.post(f"/moderation/disputes/{e.id}/decide",
                           data={"confirm": "y", "refund": "456.78", "release": "0", "note": "Again."}, follow_redirects=True)
    assert "already been resolved" in response.get_data(as_text=True)
    assert state(e) == before


def test_bad_split_form_shows_a_clear_error(client, login_operator):
    e = disputed(45_678)
    login_operator(factories.create_operator())
    before = state(e)
    for data, message in (({"confirm": "y", "refund": "100", "release": "100", "note": "n"}, "must add up to exactly"),
                          ({"confirm": "y", "refund": "-5", "release": "461.78", "note": "n"}, "can&#39;t be negative"),
                          ({"confirm": "y", "refund": "lots", "release": "0", "note": "n"}, "must be a number"),
                          ({"confirm": "y", "refund": "0", "release": "456.78", "note": ""}, "write your decision note")):
        response = client.post(f"/moderation/disputes/{e.id}/decide", data=data)
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)
    assert state(e) == before


def test_non_operators_and_operators_without_2fa_are_refused(client, login_as):
    e = disputed()
    login_as(e.business)
    assert client.get("/moderation/disputes").status_code == 403
    assert client.get(f"/moderation/disputes/{e.id}").status_code == 403
    assert client.post(f"/moderation/disputes/{e.id}/decide",
                       data={"confirm": "y", "refund": "456.78", "release": "0", "note": "Mine."}).status_code == 403
    client.post("/logout")
    login_as(factories.create_operator())
    response = client.post(f"/moderation/disputes/{e.id}/decide",
                           data={"confirm": "y", "refund": "456.78", "release": "0", "note": "n"})
    assert response.status_code == 302 and "/moderation/2fa" in response.headers["Location"]
    assert client.get("/moderation/disputes").status_code == 302
    db.session.refresh(e)
    assert e.status == S.DISPUTED


@pytest.mark.no_db_transaction
def test_two_operators_deciding_at_once_make_one_resolution(app, committed_world):
    """PostgreSQL, real threads: one split wins, the other operator is told it was already resolved."""
    from marketplace.moderation.access import MFA_SESSION_KEY
    from tests.conftest import FreshContextClient
    from tests.payments.test_concurrency import _run_parallel

    e = disputed(45_678)
    operators = [factories.create_operator() for _ in range(2)]
    db.session.commit()
    engagement_id = e.id
    tabs = []
    for operator in operators:
        tab = FreshContextClient(app, app.response_class, use_cookies=True)
        assert tab.post("/login", data={"email": operator.email, "password": factories.PASSWORD}).status_code == 302
        with tab.session_transaction() as session:
            session[MFA_SESSION_KEY] = operator.get_id()
        tabs.append(tab)
    splits = [{"confirm": "y", "refund": "456.78", "release": "0", "note": "Refund all."},
              {"confirm": "y", "refund": "0", "release": "456.78", "note": "Release all."}]
    responses = _run_parallel(2, lambda i: tabs[i].post(f"/moderation/disputes/{engagement_id}/decide",
                                                        data=splits[i], follow_redirects=True))
    assert [r.status_code for r in responses] == [200, 200]
    texts = [r.get_data(as_text=True) for r in responses]
    assert sum("Dispute resolved." in t for t in texts) == 1
    assert sum("already been resolved" in t for t in texts) == 1
    db.session.expire_all()
    resolved = db.session.get(Engagement, engagement_id)
    assert resolved.status == S.RESOLVED
    assert db.session.scalar(select(func.count()).select_from(LedgerTransaction)
                             .where(LedgerTransaction.kind == "dispute_resolution")) == 1
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "resolve_dispute")) == 1
    assert ledger.check() == []
