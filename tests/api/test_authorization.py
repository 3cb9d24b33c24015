"""Authorization table: every operation x (owner, other business, other specialist, anonymous, revoked
token, read-only token) answers the expected status, and a refused call changes nothing of the owner's."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from marketplace.api import tokens
from marketplace.bidding import services as bidding
from marketplace.bidding.models import Bid, Invitation
from marketplace.core.time import utcnow
from marketplace.engagements import transitions
from marketplace.engagements.models import Engagement
from marketplace.extensions import db
from marketplace.messaging.models import Message, ThreadRead
from marketplace.messaging.services import get_or_create_thread
from marketplace.notifications.models import Notification
from marketplace.notifications.services import notify
from marketplace.tasks.models import Task
from tests import factories
from tests.api.helpers import auth, skill_id, task_body, token_for
from marketplace.reviews.services import ReviewData, submit_review
from tests.contracts.helpers import approve, fund, hire
from tests.tasks.helpers import add_bid

FIVES = {"listening": 5, "acknowledging": 5, "patience": 5, "positive_language": 5, "follow_through": 5}
B, S, OB, OS = "business", "specialist", "other_business", "other_specialist"

# (method, path, body, owner, {actor: expected status}); anonymous and revoked tokens always get 401,
# the owner's read-only token gets the owner's answer on GET and 403 on anything else.
TABLE = [
    ("GET", "/api/v1/tasks", None, B, {B: 200, OB: 200, OS: 200}),
    ("POST", "/api/v1/tasks", "new_task", B, {B: 201, OB: 201, OS: 403}),
    ("GET", "/api/v1/tasks/mine", None, B, {B: 200, OB: 200, OS: 403}),
    ("GET", "/api/v1/tasks/{open_task}", None, B, {B: 200, OB: 200, OS: 200}),
    ("GET", "/api/v1/tasks/{draft}", None, B, {B: 200, OB: 404, OS: 404}),
    ("PATCH", "/api/v1/tasks/{draft}", {"title": "A clearer title for the launch"}, B, {B: 200, OB: 404, OS: 404}),
    ("POST", "/api/v1/tasks/{draft}/publish", None, B, {B: 200, OB: 404, OS: 404}),
    ("POST", "/api/v1/tasks/{open_task}/cancel", None, B, {B: 200, OB: 403, OS: 403}),
    ("POST", "/api/v1/tasks/{open_task}/close", None, B, {B: 409, OB: 403, OS: 403}),
    ("GET", "/api/v1/tasks/{open_task}/matches", None, B, {B: 200, OB: 403, OS: 403}),
    ("GET", "/api/v1/tasks/{open_task}/invitations", None, B, {B: 200, OB: 403, OS: 403}),
    ("POST", "/api/v1/tasks/{open_task}/invitations", "invite_other", B, {B: 201, OB: 403, OS: 403}),
    ("GET", "/api/v1/tasks/{open_task}/proposals", None, B, {B: 200, OB: 403, OS: 403}),
    ("POST", "/api/v1/tasks/{second_task}/proposals", {"amount": 40_000, "cover_note": "Happy to help."}, S,
     {S: 201, OB: 403, OS: 201}),
    ("GET", "/api/v1/proposals", None, S, {S: 200, OB: 403, OS: 200}),
    ("GET", "/api/v1/proposals/{proposal}", None, S, {S: 200, B: 200, OB: 404, OS: 404}),
    ("PATCH", "/api/v1/proposals/{proposal}", {"cover_note": "Updated note."}, S, {S: 200, B: 403, OB: 404, OS: 404}),
    ("POST", "/api/v1/proposals/{proposal}/withdraw", None, S, {S: 200, B: 403, OB: 404, OS: 404}),
    ("POST", "/api/v1/proposals/{proposal}/shortlist", {}, B, {B: 200, S: 403, OB: 404, OS: 404}),
    ("POST", "/api/v1/proposals/{proposal}/decline", {}, B, {B: 200, S: 403, OB: 404, OS: 404}),
    ("POST", "/api/v1/proposals/{proposal}/accept", {}, B, {B: 201, S: 403, OB: 404, OS: 404}),
    ("GET", "/api/v1/invitations", None, S, {S: 200, OB: 403, OS: 200}),
    ("POST", "/api/v1/invitations/{invitation}/answer", {"accept": True}, S, {S: 200, B: 403, OB: 404, OS: 404}),
    ("GET", "/api/v1/contracts", None, B, {B: 200, OB: 200, OS: 200}),
    ("GET", "/api/v1/contracts/{contract}", None, B, {B: 200, S: 200, OB: 404, OS: 404}),
    ("GET", "/api/v1/contracts/{contract}/time-entries", None, B, {B: 200, OB: 404, OS: 404}),
    ("GET", "/api/v1/engagements", None, B, {B: 200, OB: 200, OS: 200}),
    ("GET", "/api/v1/engagements/{unfunded}", None, B, {B: 200, S: 200, OB: 404, OS: 404}),
    ("POST", "/api/v1/engagements/{active}/deliver", {"note": "All tickets answered."}, S,
     {S: 200, B: 403, OB: 404, OS: 404}),
    ("POST", "/api/v1/engagements/{delivered}/request-changes", {"note": "Please add the summary."}, B,
     {B: 200, S: 403, OB: 404, OS: 404}),
    ("POST", "/api/v1/engagements/{delivered}/approve", None, B, {B: 200, S: 403, OB: 404, OS: 404}),
    ("POST", "/api/v1/engagements/{unfunded}/cancel", {}, B, {B: 200, OB: 404, OS: 404}),
    ("POST", "/api/v1/engagements/{active}/dispute", {"reason": "Nobody answered the queue."}, B,
     {B: 200, OB: 404, OS: 404}),
    ("POST", "/api/v1/engagements/{completed}/reviews", "review", B, {B: 201, OB: 404, OS: 404}),
    ("GET", "/api/v1/reviews/{revealed_review}", None, B, {B: 200, S: 200, OB: 200, OS: 200}),
    ("GET", "/api/v1/reviews/{unrevealed_review}", None, B, {B: 200, S: 404, OB: 404, OS: 404}),
    ("GET", "/api/v1/threads", None, B, {B: 200, OB: 200, OS: 200}),
    ("GET", "/api/v1/threads/{thread}/messages", None, B, {B: 200, S: 200, OB: 404, OS: 404}),
    ("POST", "/api/v1/threads/{thread}/messages", {"body": "Can you start on Monday?"}, B,
     {B: 201, OB: 404, OS: 404}),
    ("POST", "/api/v1/threads/{thread}/read", None, B, {B: 204, OB: 404, OS: 404}),
    ("GET", "/api/v1/notifications", None, B, {B: 200, OB: 200, OS: 200}),
    ("POST", "/api/v1/notifications/{notification}/read", None, B, {B: 200, OB: 404, OS: 404}),
    ("GET", "/api/v1/me", None, B, {B: 200, OB: 200, OS: 200}),
    ("GET", "/api/v1/me/specialist-profile", None, S, {S: 200, OB: 403, OS: 200}),
    ("PATCH", "/api/v1/me/specialist-profile", {"headline": "Calm, bilingual support"}, S, {S: 200, OB: 403, OS: 200}),
    ("GET", "/api/v1/me/business-profile", None, B, {B: 200, OB: 200, OS: 403}),
    ("PATCH", "/api/v1/me/business-profile", {"company_name": "Acme Support"}, B, {B: 200, OB: 200, OS: 403}),
    ("GET", "/api/v1/skills", None, B, {B: 200, OB: 200, OS: 200}),
    ("GET", "/api/v1/specialists", None, B, {B: 200, OB: 200, OS: 200}),
    ("GET", "/api/v1/specialists/{specialist}", None, B, {B: 200, OB: 200, OS: 200}),
]


def test_the_table_covers_every_operation(client):
    documented = {(method.upper(), path) for path, item in client.get("/api/v1/openapi.json").json["paths"].items()
                  for method in item if method in ("get", "post", "patch", "put", "delete")}
    covered = {(method, _template(path)) for method, path, *_ in TABLE}
    assert documented == covered


def _template(path: str) -> str:
    import re
    names = {"open_task": "task_id", "draft": "task_id", "second_task": "task_id", "proposal": "proposal_id",
             "invitation": "invitation_id", "contract": "contract_id", "unfunded": "engagement_id",
             "active": "engagement_id", "delivered": "engagement_id", "thread": "thread_id",
             "notification": "notification_id", "specialist": "specialist_id", "completed": "engagement_id",
             "revealed_review": "review_id", "unrevealed_review": "review_id"}
    return re.sub(r"\{(\w+)\}", lambda m: "{" + names[m.group(1)] + "}", path)


@pytest.fixture()
def world(app):
    app.config["MODERATION_FIRST_TASK_REVIEW"] = False
    users = {B: factories.create_business(), S: factories.create_freelancer(), OB: factories.create_business(),
             OS: factories.create_freelancer()}
    business, specialist = users[B], users[S]
    open_task = factories.create_task(business)
    second_task = factories.create_task(business)
    draft = factories.create_task(business, status="draft")
    proposal = add_bid(open_task, specialist)
    invitation = bidding.invite(business, open_task, specialist.id, "Would you take this on?")
    contract, unfunded = hire(business, specialist)
    _, active = hire(business, specialist)
    fund(active)
    _, delivered = hire(business, specialist)
    fund(delivered)
    transitions.deliver(specialist, delivered, "Done.")
    thread = get_or_create_thread(open_task, specialist.id)
    notification = notify(business, "test", "Something happened")
    ids = {"open_task": open_task.id, "second_task": second_task.id, "draft": draft.id, "proposal": proposal.id,
           "invitation": invitation.id, "contract": contract.id, "unfunded": unfunded.id, "active": active.id,
           "delivered": delivered.id, "thread": thread.id, "notification": notification.id,
           "specialist": specialist.id}
    secrets = {role: token_for(user) for role, user in users.items()}
    for role in (B, S):
        secrets[role + ":read"] = token_for(users[role], "read")
        revoked = token_for(users[role])
        tokens.revoke_token(users[role], db.session.scalar(
            select(tokens.ApiToken.id).where(tokens.ApiToken.token_hash == tokens._digest(revoked))))
        secrets[role + ":revoked"] = revoked
    db.session.flush()
    yield {"users": users, "ids": ids, "tokens": secrets}
    app.config["MODERATION_FIRST_TASK_REVIEW"] = True


def _add_reviews(world) -> None:
    """Finished engagements and their reviews (only the review rows need them: approving costs time)."""
    business, specialist = world["users"][B], world["users"][S]
    _, completed = hire(business, specialist)
    approve(completed)
    _, reviewed = hire(business, specialist)
    approve(reviewed)
    revealed = submit_review(business, reviewed, ReviewData(5, "Kind and quick.", dimensions=FIVES))
    submit_review(specialist, reviewed, ReviewData(5, "Clear brief."))
    _, half_reviewed = hire(business, specialist)
    approve(half_reviewed)
    unrevealed = submit_review(business, half_reviewed, ReviewData(4, "Good.", dimensions=FIVES))
    world["ids"].update(completed=completed.id, revealed_review=revealed.id, unrevealed_review=unrevealed.id)


def _body(body, world):
    if body == "new_task":
        return task_body(skill_id())
    if body == "review":
        return {"stars": 5, "public_comment": "Lovely work.", "dimensions": FIVES}
    if body == "invite_other":
        return {"specialist_id": world["users"][OS].id, "message": "Join us?"}
    return body


def _owner_state(world) -> tuple:
    """Everything of the business's and the specialist's that a refused call must leave alone."""
    db.session.expire_all()
    business, specialist = world["users"][B].id, world["users"][S].id
    return (
        db.session.execute(select(Task.id, Task.status, Task.title, Task.filled_seats)
                           .where(Task.business_id == business).order_by(Task.id)).all(),
        db.session.execute(select(Bid.id, Bid.status, Bid.shortlisted, Bid.cover_note)
                           .where(Bid.freelancer_id == specialist).order_by(Bid.id)).all(),
        db.session.execute(select(Invitation.id, Invitation.status).order_by(Invitation.id)).all(),
        db.session.execute(select(Engagement.id, Engagement.status).where(Engagement.business_id == business)
                           .order_by(Engagement.id)).all(),
        db.session.execute(select(Message.id).order_by(Message.id)).all(),
        db.session.execute(select(ThreadRead.thread_id, ThreadRead.user_id, ThreadRead.last_read_message_id)
                           .order_by(ThreadRead.thread_id, ThreadRead.user_id)).all(),
        # (A proposal another specialist may send adds a notification: only read markers count here.)
        db.session.execute(select(Notification.id, Notification.read_at)
                           .where(Notification.user_id == business, Notification.read_at.is_not(None))).all(),
    )


@pytest.mark.parametrize("method,path,body,owner,expected", TABLE, ids=[f"{m} {p}" for m, p, *_ in TABLE])
def test_authorization(client, world, method, path, body, owner, expected):
    if "review" in path:
        _add_reviews(world)
    url = path.format(**world["ids"])
    payload = _body(body, world)

    def call(secret: str | None):
        headers = auth(secret) if secret else {}
        return client.open(url, method=method, json=payload, headers=headers)

    before = _owner_state(world)
    refused = {"anonymous": call(None), "revoked": call(world["tokens"][owner + ":revoked"])}
    read_only = call(world["tokens"][owner + ":read"])
    for label, response in refused.items():
        assert response.status_code == 401, (label, response.json)
        assert response.mimetype == "application/problem+json"
    if method == "GET":
        assert read_only.status_code == expected[owner], read_only.json
    else:
        assert read_only.status_code == 403, read_only.json
        assert read_only.json["type"].endswith("/insufficient-scope")
    for actor in (B, S, OB, OS):
        if actor == owner or actor not in expected:
            continue
        response = call(world["tokens"][actor])
        assert response.status_code == expected[actor], (actor, response.json)
        if response.status_code >= 400:
            assert response.mimetype == "application/problem+json"
    if method != "GET":
        assert _owner_state(world) == before, "a refused call changed the owner's data"
    response = call(world["tokens"][owner])
    assert response.status_code == expected[owner], response.json
