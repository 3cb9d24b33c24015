"""Posting and reading messages: validation, safe rendering, unread counts, read receipts, the inbox."""
import re
from datetime import timedelta

import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import event, func, select

from marketplace.accounts.models import AccountStatus
from marketplace.core.errors import Forbidden, NotFound, ValidationFailed
from marketplace.extensions import db
from marketplace.messaging import services
from marketplace.messaging.models import Message
from marketplace.notifications import services as notifications
from marketplace.notifications.models import Notification
from marketplace.outbox.models import OutboxMessage
from tests import factories


def messages_in_db(thread) -> list[str]:
    return list(db.session.scalars(select(Message.body).where(Message.thread_id == thread.id).order_by(Message.id)))


def test_posting_through_the_page_stores_the_message_and_notifies_the_other_side(
        client, thread, business, freelancer, login_as):
    login_as(freelancer)
    response = client.post(f"/messages/{thread.id}", data={"body": "  Hi! I can cover Saturday.\r\nAnd Sunday.  "})
    assert response.status_code == 302
    message = db.session.scalar(select(Message).where(Message.thread_id == thread.id))
    assert response.headers["Location"].endswith(f"/messages/{thread.id}#m-{message.id}")
    assert message.body == "Hi! I can cover Saturday.\nAnd Sunday." and message.sender_id == freelancer.id
    db.session.refresh(thread)
    assert thread.last_message_at is not None

    note = db.session.scalar(select(Notification).where(Notification.user_id == business.id))
    assert note.kind == "message" and note.link == f"/messages/{thread.id}#reply"
    assert note.title == f"New message from {freelancer.full_name} about “Weekend chat cover for Brightline”"
    assert "I can cover Saturday" in note.body
    # Messages are never emailed one by one: they wait for the digest.
    assert note.emailed_at is None
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    # The sender gets no notification about their own message.
    assert db.session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.user_id == freelancer.id)) == 0


@pytest.mark.parametrize("body, error", [
    ("", "Write a message before sending."),
    ("   \r\n\t  ", "Write a message before sending."),
    ("x" * 5001, "Messages can be at most 5,000 characters."),
])
def test_bad_message_input_is_refused_next_to_the_field(client, thread, freelancer, login_as, body, error):
    login_as(freelancer)
    response = client.post(f"/messages/{thread.id}", data={"body": body})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert re.search(r'id="body-error" class="invalid-feedback d-block">' + re.escape(error), html)
    assert 'aria-invalid="true"' in html
    assert messages_in_db(thread) == []
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 0


def test_a_message_of_exactly_the_limit_is_accepted(client, thread, freelancer, login_as):
    login_as(freelancer)
    assert client.post(f"/messages/{thread.id}", data={"body": "y" * 5000}).status_code == 302
    assert messages_in_db(thread) == ["y" * 5000]


def test_service_refuses_bad_bodies_strangers_and_suspended_users(thread, business, freelancer):
    for body, fragment in (("", "Write a message"), ("  \n ", "Write a message"),
                           ("z" * 5001, "(this one has 5,001)")):
        with pytest.raises(ValidationFailed) as refused:
            services.post_message(freelancer, thread, body)
        assert refused.value.field == "body" and fragment in refused.value.message
    with pytest.raises(NotFound):
        services.post_message(factories.create_freelancer(), thread, "Let me in")
    freelancer.status = AccountStatus.SUSPENDED
    with pytest.raises(Forbidden):
        services.post_message(freelancer, thread, "Still here?")
    assert messages_in_db(thread) == []
    # Control characters are dropped; newlines and tabs stay.
    services.post_message(business, thread, "a\x00b\x07c\n\td")
    assert messages_in_db(thread) == ["abc\n\td"]


def test_message_bodies_are_escaped_and_links_become_safe_links(client, thread, business, freelancer, login_as):
    # A link to an allowed help-center domain (links elsewhere are held by the risk screen).
    services.post_message(freelancer, thread, '<script>alert("x")</script> <b>bold</b>\n'
                                              "Guide: https://support.zendesk.com/start?a=1&b=2\n"
                                              "javascript:alert(1)")
    login_as(business)
    html = client.get(f"/messages/{thread.id}").get_data(as_text=True)
    assert "<script>alert" not in html and "<b>bold</b>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &lt;b&gt;bold&lt;/b&gt;<br>" in html
    assert ('<a href="https://support.zendesk.com/start?a=1&amp;b=2" rel="nofollow noopener noreferrer" '
            'target="_blank">https://support.zendesk.com/start?a=1&amp;b=2</a>') in html
    assert 'href="javascript' not in html
    # The inbox preview is escaped too.
    inbox = client.get("/messages").get_data(as_text=True)
    assert "&lt;script&gt;" in inbox and "<script>alert" not in inbox


def test_unread_thread_and_notification_counts_go_up_and_down(client, business, freelancer, login_as):
    first = services.get_or_create_thread(factories.create_task(business), freelancer.id)
    second = services.get_or_create_thread(factories.create_task(business), freelancer.id)
    assert services.unread_thread_count(business) == 0 and notifications.unread_count(business) == 0

    services.post_message(freelancer, first, "One")
    services.post_message(freelancer, first, "Two")
    services.post_message(freelancer, second, "Three")
    assert services.unread_thread_count(business) == 2
    assert notifications.unread_count(business) == 3
    # Your own messages never count as unread.
    assert services.unread_thread_count(freelancer) == 0

    login_as(business)
    inbox = client.get("/messages").get_data(as_text=True)
    assert "2<span class=\"visually-hidden\"> unread messages</span>" in inbox
    assert "1<span class=\"visually-hidden\"> unread message</span>" in inbox
    assert client.get(f"/messages/{first.id}").status_code == 200   # opening a thread reads it
    db.session.expire_all()
    assert services.unread_thread_count(business) == 1
    # ...and its message notifications, but not the other thread's.
    assert notifications.unread_count(business) == 1

    services.post_message(business, first, "Thanks!")
    assert services.unread_thread_count(freelancer) == 1
    services.post_message(freelancer, first, "Four")
    assert services.unread_thread_count(business) == 2
    services.mark_thread_read(business, first)
    services.mark_thread_read(business, second)
    assert services.unread_thread_count(business) == 0 and notifications.unread_count(business) == 0
    # Anonymous visitors have nothing unread.
    assert services.unread_thread_count(AnonymousUserMixin()) == 0 and services.unread_thread_count(None) == 0


def test_read_receipts_show_seen_only_after_the_other_side_opened_the_thread(
        client, thread, business, freelancer, login_as):
    services.post_message(freelancer, thread, "Are weekends paid at the same rate?")
    login_as(freelancer)
    before = client.get(f"/messages/{thread.id}").get_data(as_text=True)
    assert ">Seen<" not in before and "<span>Sent</span>" in before
    client.post("/logout")

    login_as(business)
    business_view = client.get(f"/messages/{thread.id}").get_data(as_text=True)
    assert ">Seen<" not in business_view   # receipts are for your own messages
    client.post("/logout")

    login_as(freelancer)
    after = client.get(f"/messages/{thread.id}").get_data(as_text=True)
    message_id = db.session.scalar(select(Message.id).where(Message.thread_id == thread.id))
    bubble = after[after.index(f'id="m-{message_id}"'):]
    assert '<span class="text-success fw-semibold">Seen</span>' in bubble and "<span>Sent</span>" not in after

    # A newer message the business hasn't read yet: "Seen" stays on the older one, the new one is "Sent".
    newer = services.post_message(freelancer, thread, "Also: which time zone?")
    view = services.messages_in(freelancer, thread)
    assert view.seen_message_id == message_id and view.sent_unseen_message_id == newer.id
    assert services.messages_in(business, thread).seen_message_id is None


def test_older_messages_are_paged(thread, business, freelancer):
    sent = [services.post_message(freelancer if i % 2 else business, thread, f"message {i}") for i in range(5)]
    view = services.messages_in(business, thread, limit=2)
    assert [m.body for m in view.messages] == ["message 3", "message 4"] and view.has_earlier
    earlier = services.messages_in(business, thread, before=sent[3].id, limit=2)
    assert [m.body for m in earlier.messages] == ["message 1", "message 2"] and earlier.has_earlier
    first = services.messages_in(business, thread, before=sent[1].id, limit=2)
    assert [m.body for m in first.messages] == ["message 0"] and not first.has_earlier


def test_inbox_lists_own_threads_newest_activity_first_with_preview(client, business, freelancer, login_as):
    quiet = services.get_or_create_thread(factories.create_task(business, title="Quiet task"), freelancer.id)
    busy = services.get_or_create_thread(factories.create_task(business, title="Busy task"), freelancer.id)
    services.post_message(freelancer, busy, "Latest news on the busy task")
    quiet.last_message_at = None
    busy.last_message_at = busy.created_at + timedelta(minutes=5)
    # Someone else's conversation never shows up.
    services.get_or_create_thread(factories.create_task(), factories.create_freelancer().id)

    inbox = services.threads_for(business, 1)
    assert [row.thread.id for row in inbox.rows] == [busy.id, quiet.id]
    assert inbox.rows[0].unread == 1 and inbox.rows[0].last_message.body == "Latest news on the busy task"
    assert inbox.rows[1].unread == 0 and inbox.rows[1].last_message is None
    assert inbox.rows[0].other.id == freelancer.id

    mine = services.threads_for(freelancer, 1)
    assert mine.rows[0].other.id == business.id and mine.rows[0].other_company.startswith("Company ")
    assert mine.rows[0].unread == 0

    login_as(freelancer)
    html = client.get("/messages").get_data(as_text=True)
    assert html.index("Busy task") < html.index("Quiet task")
    assert "You: Latest news on the busy task" in html and "No messages yet" in html


def test_inbox_uses_a_constant_number_of_queries(business):
    def queries_for_inbox() -> int:
        statements = []

        def count(conn, cursor, statement, *args):
            if statement.lstrip().upper().startswith("SELECT"):
                statements.append(statement)

        db.session.expire_all()
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            inbox = services.threads_for(business, 1)
            for row in inbox.rows:  # what the template touches
                _ = (row.thread.task.title, row.other.full_name, row.unread, row.last_message and row.last_message.body,
                     row.thread.engagement_id, row.activity_at)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(statements)

    def add_conversation():
        thread = services.get_or_create_thread(factories.create_task(business), factories.create_freelancer().id)
        services.post_message(thread.freelancer, thread, "Hello there")
        services.post_message(business, thread, "Hi!")

    add_conversation()
    one = queries_for_inbox()
    for _ in range(4):
        add_conversation()
    five = queries_for_inbox()
    assert one == five and one <= 6


def test_empty_inbox_explains_how_conversations_start(client, freelancer, business, login_as):
    login_as(freelancer)
    assert "A conversation opens when you send a proposal" in client.get("/messages").get_data(as_text=True)
    client.post("/logout")
    login_as(business)
    page = client.get("/messages").get_data(as_text=True)
    assert "No conversations yet" in page and 'href="/tasks/new"' in page


def test_own_messages_never_count_as_unread_even_without_a_read_marker(thread, business, freelancer):
    # e.g. rows written by an import or the demo seeder, which do not move read markers
    db.session.add(Message(thread_id=thread.id, sender_id=freelancer.id, body="Imported"))
    db.session.flush()
    assert services.unread_thread_count(freelancer) == 0 and services.unread_thread_count(business) == 1
    assert services.threads_for(freelancer, 1).rows[0].unread == 0


def test_read_markers_never_move_backwards(thread, business, freelancer):
    # Two tabs marking the thread read at once may arrive out of order.
    first = services.post_message(freelancer, thread, "first")
    second = services.post_message(freelancer, thread, "second")
    services._advance_read_marker(thread.id, business.id, second.id)
    services._advance_read_marker(thread.id, business.id, first.id)
    assert services.messages_in(freelancer, thread).seen_message_id == second.id
    assert services.unread_thread_count(business) == 0
