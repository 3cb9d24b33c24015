"""The API's main journey through the same services as the pages: post, publish, propose, hire, deliver."""
from __future__ import annotations

from sqlalchemy import select

from marketplace.bidding.models import Bid
from marketplace.engagements.models import Engagement
from marketplace.tasks.models import Task
from tests import factories
from tests.api.helpers import auth, skill_id, task_body, token_for


def test_post_publish_propose_accept(client, app):
    app.config["MODERATION_FIRST_TASK_REVIEW"] = False
    business, specialist = factories.create_business(), factories.create_freelancer()
    b, s = token_for(business), token_for(specialist)

    created = client.post("/api/v1/tasks", json=task_body(skill_id()), headers=auth(b))
    assert created.status_code == 201, created.json
    task_id = created.json["id"]
    assert created.json["status"] == "draft"

    published = client.post(f"/api/v1/tasks/{task_id}/publish", headers=auth(b))
    assert published.status_code == 200, published.json
    assert published.json["status"] == "open"

    proposal = client.post(f"/api/v1/tasks/{task_id}/proposals", headers=auth(s),
                           json={"amount": 55_000, "cover_note": "I have run launch weekends for three shops."})
    assert proposal.status_code == 201, proposal.json
    listed = client.get(f"/api/v1/tasks/{task_id}/proposals", headers=auth(b))
    assert [p["id"] for p in listed.json["data"]] == [proposal.json["id"]]

    hired = client.post(f"/api/v1/proposals/{proposal.json['id']}/accept", headers=auth(b),
                        json={"seen_amount": 55_000})
    assert hired.status_code == 201, hired.json
    assert hired.json["status"] == "awaiting_funding"
    assert hired.json["funding_url"].endswith(f"/engagements/{hired.json['id']}")
    from marketplace.extensions import db
    assert db.session.scalar(select(Bid.status).where(Bid.id == proposal.json["id"])).value == "accepted"
    assert db.session.get(Task, task_id).filled_seats == 1
    assert db.session.scalar(select(Engagement).where(Engagement.id == hired.json["id"])) is not None


def test_openapi_document_validates(client):
    from openapi_spec_validator import validate
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    validate(response.json)


def test_profile_updates_go_through_the_profile_services(client):
    specialist = factories.create_freelancer()
    secret = token_for(specialist)
    changed = client.patch("/api/v1/me/specialist-profile", headers=auth(secret), json={
        "headline": "Calm, bilingual support", "hourly_rate": 3_500, "channels": ["chat", "email"],
        "skills": [{"skill_id": skill_id(), "level": 4}], "languages": [{"language": "es", "proficiency": "native"}]})
    assert changed.status_code == 200, changed.json
    assert changed.json["skills"] == [{"skill_id": skill_id(), "level": 4}]
    refused = client.patch("/api/v1/me/specialist-profile", headers=auth(secret), json={"hourly_rate": 100})
    assert refused.status_code == 400 and refused.json["errors"][0]["field"] == "hourly_rate"
    from marketplace.extensions import db
    from marketplace.profiles.models import FreelancerProfile
    db.session.expire_all()
    profile = db.session.get(FreelancerProfile, specialist.id)
    assert (profile.headline, profile.hourly_rate) == ("Calm, bilingual support", 3_500)
    assert profile.channel_mask != 0   # the matching masks were refreshed by the same service as the page


def test_approving_through_the_api_pays_the_specialist_after_the_commit(client):
    """The payout a change makes due goes out through the same queued job as from the pages."""
    from marketplace.engagements import transitions
    from marketplace.extensions import db
    from marketplace.payments import services
    from marketplace.payments.models import Transfer
    from tests.payments.helpers import assert_ledger_ok, sandbox_fund

    engagement = factories.create_engagement(amount=30_000)
    services.sandbox_connect(engagement.freelancer)
    sandbox_fund(engagement)
    transitions.deliver(engagement.freelancer, engagement, "Queue cleared; notes in the thread.")
    db.session.commit()

    approved = client.post(f"/api/v1/engagements/{engagement.id}/approve", headers=auth(token_for(engagement.business)))
    assert approved.status_code == 200, approved.json
    assert approved.json["status"] == "completed"
    transfer = db.session.scalar(select(Transfer).where(Transfer.engagement_id == engagement.id))
    db.session.refresh(transfer)
    assert transfer.status == "paid" and transfer.amount == 27_000
    assert_ledger_ok()
