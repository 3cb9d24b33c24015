"""The notification service: in-app rows, immediate emails, message digests, and the pages."""
import re
from datetime import timedelta

import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import func, select, update

from marketplace.core.errors import NotFound
from marketplace.core.time import utcnow
from marketplace.extensions import db
from marketplace.messaging import services as messaging
from marketplace.notifications import services
from marketplace.notifications.models import Notification
from marketplace.outbox.models import OutboxMessage
from tests import factories


def outbox(to: str | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if to:
        query = query.where(OutboxMessage.to_address == to)
    return list(db.session.scalars(query))


def later(minutes: int = 11):
    return utcnow() + timedelta(minutes=minutes)


# --- notify ------------------------------------------------------------------------------

def test_important_kinds_are_emailed_at_once_with_an_absolute_link(app, business):
    note = services.notify(business, "new_bid", "New proposal from Ana on “Launch weekend”",
                           "$500.00 total. I have done three launches.", "/tasks/7#bid-3")
    assert note.id is not None and note.user_id == business.id and note.read_at is None
    assert note.emailed_at is not None
    [mail] = outbox(business.email)
    assert mail.subject == "New proposal from Ana on “Launch weekend”"
    assert "I have done three launches." in mail.body
    base = app.config.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    assert f"{base}/tasks/7#bid-3" in mail.body


def test_notify_accepts_a_user_id(freelancer):
    note = services.notify(freelancer.id, "hired", "You're hired", link="/engagements/4")
    assert note.user_id == freelancer.id and note.emailed_at is not None
    assert [m.to_address for m in outbox()] == [freelancer.email]


@pytest.mark.parametrize("kind, email", [
    ("message", True),                # batched into digests, never sent one by one
    ("invitation_accepted", True),    # in-app only
    ("new_bid", False),               # caller opted out
])
def test_these_notifications_are_not_emailed_immediately(business, kind, email):
    note = services.notify(business, kind, "Something happened", link="/tasks/1", email=email)
    assert note.emailed_at is None and outbox() == []
    assert services.unread_count(business) == 1


@pytest.mark.parametrize("kind", ["invitation", "bid_declined", "funding", "delivery", "approval", "payout",
                                  "moderation", "moderation_rejected"])
def test_every_important_kind_is_emailed(business, kind):
    services.notify(business, kind, f"About {kind}")
    assert [m.subject for m in outbox(business.email)] == [f"About {kind}"]


@pytest.mark.parametrize("link", ["https://evil.example/phish", "//evil.example/x", "javascript:alert(1)",
                                  "tasks/1", "/" + "a" * 300])
def test_links_that_are_not_site_paths_are_dropped(business, link):
    assert services.notify(business, "bid_declined", "Declined", link=link).link == ""
    assert "/notifications" in outbox(business.email)[0].body


def test_long_titles_are_shortened_to_fit(business):
    note = services.notify(business, "new_bid", "T" * 250)
    db.session.refresh(note)
    assert len(note.title) == 200 and note.title.endswith("…")


# --- reading -----------------------------------------------------------------------------

def test_unread_count_mark_read_and_mark_all_read(business, freelancer):
    notes = [services.notify(business, "invitation_accepted", f"Note {i}") for i in range(3)]
    services.notify(freelancer, "invitation", "Not yours")
    assert services.unread_count(business) == 3
    assert services.unread_count(AnonymousUserMixin()) == 0 and services.unread_count(None) == 0

    assert services.mark_read(business, notes[0].id).read_at is not None
    assert services.unread_count(business) == 2
    services.mark_read(business, notes[0].id)   # twice is harmless
    assert services.unread_count(business) == 2

    assert services.mark_all_read(business) == 2
    assert services.unread_count(business) == 0 and services.unread_count(freelancer) == 1
    assert services.mark_all_read(business) == 0


def test_mark_read_of_someone_elses_notification_changes_nothing(business, freelancer):
    theirs = services.notify(freelancer, "invitation", "Invited")
    with pytest.raises(NotFound):
        services.mark_read(business, theirs.id)
    with pytest.raises(NotFound):
        services.mark_read(business, theirs.id + 1000)
    db.session.refresh(theirs)
    assert theirs.read_at is None and services.unread_count(freelancer) == 1


def test_list_for_is_newest_first_and_paginated(business):
    for i in range(5):
        note = services.notify(business, "invitation_accepted", f"Note {i}")
        note.created_at = utcnow() - timedelta(minutes=10 - i)
    services.notify(factories.create_business(), "invitation_accepted", "Someone else's")
    db.session.flush()
    first = services.list_for(business, 1, per_page=2)
    assert [n.title for n in first.items] == ["Note 4", "Note 3"] and first.total == 5 and first.pages == 3
    assert [n.title for n in services.list_for(business, 3, per_page=2).items] == ["Note 0"]
    assert services.list_for(business, 9, per_page=2).items == []


# --- message digests ---------------------------------------------------------------------

def _conversation(business, freelancer, title="Launch weekend"):
    return messaging.get_or_create_thread(factories.create_task(business, title=title), freelancer.id)


def test_three_message_notifications_make_exactly_one_digest_email(business, freelancer):
    first = _conversation(business, freelancer, "Launch weekend")
    second = _conversation(business, freelancer, "Black Friday queue")
    for thread, body in ((first, "Hello"), (first, "Are you there?"), (second, "Other task")):
        messaging.post_message(freelancer, thread, body)
    services.notify(business, "new_bid", "A proposal")        # emailed at once, on its own
    assert len(outbox(business.email)) == 1

    # Too recent: the business may still read them in the app.
    assert services.send_message_digests() == 0
    assert services.send_message_digests(now=later(9)) == 0
    assert len(outbox(business.email)) == 1

    assert services.send_message_digests(now=later()) == 1
    mails = outbox(business.email)
    assert len(mails) == 2
    digest = mails[-1]
    assert digest.subject == "You have 3 unread messages"
    assert "3 unread messages in 2 conversations" in digest.body
    assert "Launch weekend" in digest.body and "(2 messages)" in digest.body and "Black Friday queue" in digest.body
    assert freelancer.full_name in digest.body
    assert re.search(rf"https?://\S+/messages/{first.id}\b", digest.body)
    assert re.search(rf"https?://\S+/messages/{second.id}\b", digest.body)
    assert db.session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.kind == "message", Notification.emailed_at.is_(None))) == 0

    # Idempotent: a second run finds nothing to send.
    assert services.send_message_digests(now=later(30)) == 0
    assert len(outbox()) == 2

    # A later message gets a digest of its own that mentions only what is new.
    messaging.post_message(freelancer, second, "One more thing")
    assert services.send_message_digests(now=later(30)) == 1
    assert outbox(business.email)[-1].subject == "You have 1 unread message"


def test_digest_is_per_user_and_skips_what_was_read(business, freelancer):
    other_business = factories.create_business()
    read_thread = _conversation(business, freelancer)
    messaging.post_message(freelancer, read_thread, "You'll read this one")
    messaging.post_message(freelancer, _conversation(other_business, freelancer), "Hi other")
    messaging.post_message(other_business, _conversation(other_business, factories.create_freelancer()), "Hi")
    messaging.mark_thread_read(business, read_thread)

    assert services.send_message_digests(now=later()) == 2
    assert outbox(business.email) == []
    assert len(outbox(other_business.email)) == 1


def test_digest_job_runs_from_the_command_line(app, business, freelancer):
    messaging.post_message(freelancer, _conversation(business, freelancer), "Waiting for you")
    db.session.execute(update(Notification).values(created_at=utcnow() - timedelta(minutes=15)))
    result = app.test_cli_runner().invoke(args=["jobs", "run-due"])
    assert result.exit_code == 0, result.output
    assert "message digests: 1" in result.output
    assert [m.subject for m in outbox(business.email)] == ["You have 1 unread message"]


# --- pages -------------------------------------------------------------------------------

def test_notifications_page_lists_newest_first_and_highlights_unread(client, business, login_as):
    old = services.notify(business, "invitation_accepted", "Ana accepted your invitation", link="/tasks/1")
    old.created_at = utcnow() - timedelta(hours=3)
    old.read_at = utcnow()
    services.notify(business, "new_bid", "New proposal from Ben", "I can start Monday", "/tasks/1#bid-9")
    login_as(business)
    html = client.get("/notifications").get_data(as_text=True)
    assert html.index("New proposal from Ben") < html.index("Ana accepted your invitation")
    new_item = html[html.index("New proposal from Ben") - 1200:html.index("New proposal from Ben")]
    assert "bg-primary-subtle" in new_item and ">New</span>" in new_item
    old_item = html[html.index("Ana accepted your invitation") - 1200:html.index("Ana accepted your invitation")]
    assert ">New</span>" not in old_item.split("<li")[-1]
    assert "1 unread" in html and "Mark all as read" in html and "I can start Monday" in html


def test_opening_a_notification_marks_it_read_and_follows_its_link(client, business, login_as):
    note = services.notify(business, "new_bid", "New proposal", link="/tasks/12#bid-3")
    login_as(business)
    response = client.post(f"/notifications/{note.id}/read")
    assert response.status_code == 302 and response.headers["Location"] == "/tasks/12#bid-3"
    db.session.refresh(note)
    assert note.read_at is not None


def test_a_stored_off_site_link_is_never_followed(client, business, login_as):
    note = services.notify(business, "new_bid", "New proposal")
    note.link = "https://evil.example/"   # written around notify(), which would have dropped it
    login_as(business)
    response = client.post(f"/notifications/{note.id}/read")
    assert response.status_code == 302 and response.headers["Location"] == "/notifications"


def test_opening_someone_elses_notification_is_not_found_and_changes_nothing(client, business, freelancer,
                                                                             login_as):
    theirs = services.notify(freelancer, "invitation", "Invited to the launch weekend")
    mine = services.notify(business, "invitation_accepted", "Ana accepted")
    login_as(business)
    assert client.post(f"/notifications/{theirs.id}/read").status_code == 404
    page = client.get("/notifications").get_data(as_text=True)
    assert "Ana accepted" in page and "Invited to the launch weekend" not in page
    db.session.refresh(theirs)
    db.session.refresh(mine)
    assert theirs.read_at is None and mine.read_at is None


def test_mark_all_read_from_the_page(client, business, freelancer, login_as):
    for i in range(3):
        services.notify(business, "invitation_accepted", f"Note {i}")
    services.notify(freelancer, "invitation", "Theirs")
    login_as(business)
    response = client.post("/notifications/read-all", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Marked 3 notifications as read." in html
    assert "You're all caught up." in html and "Mark all as read" not in html
    assert services.unread_count(business) == 0 and services.unread_count(freelancer) == 1


def test_pages_need_login(client):
    for response in (client.get("/notifications"), client.post("/notifications/read-all"),
                     client.post("/notifications/1/read")):
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_actions_need_the_csrf_token(csrf_app, client, business):
    note = services.notify(business, "new_bid", "New proposal", link="/tasks/1")
    response = client.post("/login", data={"email": business.email, "password": factories.PASSWORD})
    assert response.status_code == 400   # even logging in needs the token
    from tests.conftest import login
    csrf_app.config["WTF_CSRF_ENABLED"] = False
    login(client, business)
    csrf_app.config["WTF_CSRF_ENABLED"] = True
    page = client.get("/notifications").get_data(as_text=True)
    assert page.count('name="csrf_token"') >= 3   # logout, mark all, the notification
    assert client.post("/notifications/read-all").status_code == 400
    assert client.post(f"/notifications/{note.id}/read").status_code == 400
    db.session.refresh(note)
    assert note.read_at is None
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post(f"/notifications/{note.id}/read", data={"csrf_token": token}).status_code == 302
    db.session.refresh(note)
    assert note.read_at is not None


def test_empty_notifications_page_is_helpful(client, freelancer, login_as):
    login_as(freelancer)
    html = client.get("/notifications").get_data(as_text=True)
    assert "Nothing here yet" in html and "When businesses invite you" in html
