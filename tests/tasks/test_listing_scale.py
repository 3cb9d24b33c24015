"""Listings at scale: bounded counts, filter copies kept by the database, and indexes the
queries can use (migration 0012)."""
from __future__ import annotations

import pytest
from sqlalchemy import text as sql

from marketplace.extensions import db
from marketplace.profiles.directory import DirectoryQuery, search_freelancers
from marketplace.tasks.search import TaskQuery, search_tasks
from tests import factories
from tests.tasks.helpers import make_profile, text


@pytest.fixture()
def count_limit(app):
    keys = ("LISTING_COUNT_LIMIT", "DIRECTORY_COUNT_LIMIT", "TASKS_PER_PAGE")
    old = {key: app.config[key] for key in keys}
    app.config.update(LISTING_COUNT_LIMIT=3, DIRECTORY_COUNT_LIMIT=3, TASKS_PER_PAGE=2)
    yield 3
    app.config.update(old)


def postgresql() -> bool:
    return db.engine.dialect.name == "postgresql"


# --- bounded counts ------------------------------------------------------------------------

def test_count_stops_at_the_limit_and_says_so(client, business, count_limit):
    for n in range(5):
        factories.create_task(business, title=f"Counted task {n}")
    db.session.flush()

    first = text(client.get("/tasks"))
    assert "3+ open tasks" in first and "Page 1 of 2+" in first
    # A page past the limit counts as far as it needs to (one row past itself).
    second = text(client.get("/tasks?page=2"))
    assert "4+ open tasks" in second and "Page 2 of 2+" in second
    third = text(client.get("/tasks?page=3"))
    assert "5 open tasks" in third and "Page 3 of 3" in third and "Counted task 0" in third


def test_count_below_the_limit_is_exact(client, business, count_limit):
    for n in range(3):
        factories.create_task(business, title=f"Counted task {n}")
    db.session.flush()
    page = text(client.get("/tasks"))
    assert "3 open tasks" in page and "3+" not in page and "Page 1 of 2" in page


def test_directory_count_stops_at_the_limit(client, count_limit):
    for n in range(5):
        make_profile(factories.create_freelancer(full_name=f"Counted Person {n}"), rate=2_000 + n,
                     skills={"zendesk": 3}, languages={"en": "native"}, channels=["chat"])
    db.session.flush()
    page = search_freelancers(DirectoryQuery(), page=1, per_page=2)
    assert (page.total_label, page.capped, len(page.items), page.has_next) == ("3+", True, 2, True)
    assert "5 specialists" in text(client.get("/freelancers"))   # 20 a page: counted up to 20


def test_the_directory_has_its_own_count_limit(app, count_limit):
    for n in range(5):
        make_profile(factories.create_freelancer(full_name=f"Counted Person {n}"), rate=2_000 + n,
                     skills={"zendesk": 3}, languages={"en": "native"}, channels=["chat"])
    db.session.flush()
    app.config["LISTING_COUNT_LIMIT"] = 100      # the task listings' bound does not apply here
    page = search_freelancers(DirectoryQuery(), page=1, per_page=2)
    assert (page.total_label, page.capped) == ("3+", True)
    app.config["DIRECTORY_COUNT_LIMIT"] = 10
    assert search_freelancers(DirectoryQuery(), page=1, per_page=2).total_label == "5"


def test_postgresql_connections_run_without_parallel_query(app):
    if not postgresql():
        pytest.skip("a PostgreSQL setting")
    assert db.session.execute(sql("SHOW max_parallel_workers_per_gather")).scalar() == "0"


def test_a_page_number_far_past_the_end_is_empty_and_cheap(client, business):
    factories.create_task(business, title="The only task")
    db.session.flush()
    page = search_tasks(TaskQuery(), page=10_000, per_page=100)
    assert page.items == [] and page.has_prev and not page.has_next


# --- what the search index sees stays true -------------------------------------------------

def _found(**query) -> list[str]:
    return [card.title for card in search_tasks(TaskQuery(**query)).items]


def test_skill_and_language_filters_follow_edits_of_the_task(business):
    from marketplace.tasks.models import TaskLanguage, TaskSkill

    task = factories.create_task(business, title="Router help in Spanish", skills={"zendesk": 2},
                                 languages=["es"])
    db.session.flush()
    assert _found(skill="zendesk", language="es") == ["Router help in Spanish"]

    # Replace the skill and the language rows, as editing the task does.
    db.session.execute(TaskSkill.__table__.delete().where(TaskSkill.task_id == task.id))
    db.session.execute(TaskLanguage.__table__.update().where(TaskLanguage.task_id == task.id)
                       .values(language="de"))
    factories_skill = db.session.execute(sql("SELECT id FROM skills WHERE slug = 'intercom'")).scalar()
    db.session.add(TaskSkill(task_id=task.id, skill_id=factories_skill, min_level=2, required=True))
    db.session.flush()

    assert _found(skill="zendesk") == [] and _found(language="es") == []
    assert _found(skill="intercom", language="de") == ["Router help in Spanish"]


def test_text_search_follows_an_edited_title(business):
    task = factories.create_task(business, title="Chat queue for a launch", description="Be kind.")
    db.session.flush()
    assert _found(q="router") == []
    task.title = "Router troubleshooting queue"
    db.session.flush()
    assert _found(q="router") == ["Router troubleshooting queue"]


def test_filter_copies_match_the_rows_on_postgresql(business):
    if not postgresql():
        pytest.skip("PostgreSQL keeps copies of the filters on the task row; SQLite filters with EXISTS")
    task = factories.create_task(business, skills={"zendesk": 2, "intercom": 1}, languages=["fr", "en"])
    db.session.flush()
    row = db.session.execute(sql("SELECT skill_ids, language_codes FROM tasks WHERE id = :id"), {"id": task.id}).one()
    skills = sorted(db.session.execute(sql("SELECT skill_id FROM task_skills WHERE task_id = :id"),
                                       {"id": task.id}).scalars())
    assert (list(row.skill_ids), list(row.language_codes)) == (skills, ["en", "fr"])


# --- the indexes fit the queries -----------------------------------------------------------

def _plan(statement, *, ordered: bool = True) -> str:
    compiled = statement.compile(db.engine, compile_kwargs={"render_postcompile": True})
    conn = db.session.connection()
    if postgresql():
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        # An ordered walk is what a listing needs; a search is found by its index, then sorted.
        conn.exec_driver_sql(f"SET LOCAL enable_sort = {'off' if ordered else 'on'}")
        conn.exec_driver_sql(f"SET LOCAL enable_indexscan = {'on' if ordered else 'off'}")
        rows = conn.exec_driver_sql("EXPLAIN " + str(compiled), compiled.params)
    else:
        params = tuple(compiled.params[name] for name in compiled.positiontup)
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled), params)
    return "\n".join(str(row) for row in rows)


def test_listing_queries_can_use_their_indexes(app):
    """With sequential scans and sorts priced out (tiny test tables would not need the indexes),
    the planners must still find them: the literals in the queries match the index definitions."""
    from sqlalchemy import select

    from marketplace.profiles.directory import rating_sort_key
    from marketplace.profiles.models import FreelancerProfile
    from marketplace.tasks.models import Task
    from marketplace.tasks.search import build_statement

    newest = build_statement(TaskQuery(), eager=False).with_only_columns(Task.id).limit(5)
    plan = _plan(newest)
    # SQLite may walk the older ix_tasks_listing (status, moderation, published_at) just as well.
    assert "ix_tasks_listed" in plan or (not postgresql() and "ix_tasks_listing" in plan)
    assert "TEMP B-TREE" not in plan
    by_budget = build_statement(TaskQuery(sort="budget"), eager=False).with_only_columns(Task.id).limit(5)
    if postgresql():   # SQLite prefers its equality index on empty tables; the expression is the same
        assert "ix_tasks_listed_price" in _plan(by_budget)
    by_rating = (select(FreelancerProfile.user_id)
                 .where(FreelancerProfile.hourly_rate.is_not(None), FreelancerProfile.headline != sql("''"))
                 .order_by(rating_sort_key().desc(), FreelancerProfile.rating_count.desc(),
                           FreelancerProfile.user_id.desc()).limit(5))
    if postgresql():   # as above: SQLite's choice on empty tables says nothing
        assert "ix_freelancer_profiles_listed_rating" in _plan(by_rating)
    by_zone = build_statement(TaskQuery(timezone="Europe/Madrid"), eager=False).with_only_columns(Task.id).limit(5)
    if postgresql():   # as above
        assert "ix_tasks_listed_timezone" in _plan(by_zone)
    if postgresql():
        # Only the GIN index can answer these conditions once the other indexes over listed tasks
        # are gone (dropped inside the test's transaction, which is rolled back).
        for index in ("ix_tasks_listing", "ix_tasks_status", "ix_tasks_listed", "ix_tasks_listed_price",
                      "ix_tasks_listed_timezone"):
            db.session.connection().exec_driver_sql(f"DROP INDEX {index}")
        searched = build_statement(TaskQuery(q="router", skill="zendesk", language="es"),
                                   eager=False).with_only_columns(Task.id).limit(5)
        plan = _plan(searched, ordered=False)
        assert "ix_tasks_search" in plan, plan
