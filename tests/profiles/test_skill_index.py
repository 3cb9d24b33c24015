"""The skill taxonomy held in memory (profiles/skill_index.py): filters and menus without a query."""
from __future__ import annotations

from sqlalchemy import select

from marketplace.extensions import db
from marketplace.profiles.models import Skill
from marketplace.profiles.skill_index import forget_skill_index, skill_index
from marketplace.profiles.services import skill_options, skill_slug_exists
from tests import factories
from tests.tasks.helpers import counting_queries, queries_only


def test_the_index_holds_every_skill_of_the_database():
    rows = db.session.execute(select(Skill.id, Skill.slug, Skill.name).order_by(Skill.name)).all()
    index = skill_index()
    assert index.options == [(slug, name) for _, slug, name in rows]
    assert index.ids == {slug: id_ for id_, slug, _ in rows}
    assert skill_slug_exists("zendesk") and not skill_slug_exists("no-such-skill")


def test_a_skill_added_in_this_process_is_seen_once_the_index_is_forgotten():
    skill_index()
    db.session.add(Skill(slug="voice-of-customer", name="Voice of the customer", kind="soft"))
    db.session.flush()
    forget_skill_index()
    try:
        assert skill_slug_exists("voice-of-customer")
        assert ("voice-of-customer", "Voice of the customer") in skill_options()
    finally:
        forget_skill_index()   # the test's row is rolled back: do not keep it in memory


def test_browse_and_directory_read_no_skill_rows(client, login_as):
    """The skill filter is validated, offered and turned into an id from memory."""
    login_as(factories.create_freelancer())
    factories.create_task(skills={"zendesk": 2}, title="Zendesk queue")
    db.session.commit()
    skill_index()
    for path in ("/tasks?skill=zendesk", "/freelancers?skill=zendesk&sort=rating"):
        with counting_queries() as statements:
            response = client.get(path)
        assert response.status_code == 200
        assert not [sql for sql in queries_only(statements) if "FROM skills" in sql and "JOIN" not in sql]
    assert "Zendesk queue" in client.get("/tasks?skill=zendesk").get_data(as_text=True)
