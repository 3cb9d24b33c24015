"""Migrations: empty -> head -> base -> head on a fresh database, and no drift from the models."""
from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from config import TestingConfig
from marketplace import create_app
from marketplace.extensions import db, include_object


@pytest.fixture()
def fresh_database_url(tmp_path):
    url = make_url(TestingConfig.SQLALCHEMY_DATABASE_URI)
    if url.get_backend_name() != "postgresql":
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    name = f"{url.database}_migrations"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.no_db_transaction
def test_upgrade_downgrade_upgrade_and_no_drift(fresh_database_url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": fresh_database_url, "TESTING": True, "TRUSTED_HOSTS": None})
    with app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {"users", "freelancer_profiles", "skills", "outbox_messages"} <= tables
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(
                conn, opts={"compare_type": True, "include_object": include_object}), db.metadata)
        assert diff == [], f"models and migrations differ: {diff}"
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert "users" in inspect(db.engine).get_table_names()
        db.engine.dispose()


# --- 0013: contracts and milestones, with data --------------------------------------------------------

_NOW = "2026-11-20 10:00:00"


def _revision_before_contracts() -> str:
    """The revision 0013 applies on top of (read from the script, so re-chaining the revisions keeps this right)."""
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parent.parent / "migrations" / "versions" / "0013_contracts_and_milestones.py"
    spec = importlib.util.spec_from_file_location("migration_0013", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.down_revision


BEFORE_CONTRACTS = _revision_before_contracts()


def _seed_before_contracts(conn) -> None:
    """Rows as the schema before 0013 holds them: a fixed task with a completed engagement (charged, reviewed
    by both sides), an hourly task with an active one, a two-seat task with one cancelled engagement."""
    def run(sql, **params):
        conn.execute(text(sql), params)

    for uid, role in ((1, "business"), (2, "freelancer"), (3, "freelancer")):
        run("INSERT INTO users (id, email, password_hash, full_name, role, session_token, created_at) "
            "VALUES (:id, :email, 'x', :name, :role, :token, :now)",
            id=uid, email=f"u{uid}@example.com", name=f"User {uid}", role=role, token=f"t{uid}", now=_NOW)
    tasks = [(10, "Fixed inbox clean-up", "fixed", 50_000, None, None, 1, "in_progress", 1),
             (11, "Spanish chat coverage", "hourly", None, 3_000, 80, 1, "in_progress", 1),
             (12, "Two-seat phone task", "fixed", 20_000, None, None, 2, "open", 1)]
    for tid, title, pricing, budget, rate, hours, seats, status, filled in tasks:
        run("INSERT INTO tasks (id, business_id, title, description, channel, timezone, work_hours_start, "
            "work_hours_end, start_date, end_date, pricing, currency, budget, max_rate, estimated_hours, seats, "
            "filled_seats, hiring_mode, status, moderation_status, created_at, updated_at) VALUES (:id, 1, :title, "
            "'d', 'chat', 'UTC', 9, 17, '2026-12-01', '2026-12-31', :pricing, 'USD', :budget, :rate, :hours, "
            ":seats, :filled, 'open', :status, 'approved', :now, :now)",
            id=tid, title=title, pricing=pricing, budget=budget, rate=rate, hours=hours, seats=seats,
            filled=filled, status=status, now=_NOW)
    bids = [(20, 10, 2, 45_000, None), (21, 11, 3, 2_500, 80), (22, 12, 2, 18_000, None)]
    for bid_id, task_id, freelancer, amount, hours in bids:
        run("INSERT INTO bids (id, task_id, freelancer_id, amount, estimated_hours, cover_note, availability_note, "
            "status, shortlisted, moderation_status, created_at, updated_at) VALUES (:id, :task, :fl, :amount, "
            ":hours, 'hi', '', 'accepted', false, 'approved', :now, :now)",
            id=bid_id, task=task_id, fl=freelancer, amount=amount, hours=hours, now=_NOW)
    engagements = [(30, 10, 20, 2, 45_000, "completed", "2026-11-25 12:00:00"),
                   (31, 11, 21, 3, 200_000, "active", None),
                   (32, 12, 22, 2, 18_000, "cancelled", None)]
    for eid, task_id, bid_id, freelancer, amount, status, completed in engagements:
        fee = amount // 10
        run("INSERT INTO engagements (id, task_id, bid_id, business_id, freelancer_id, amount, currency, fee_bps, "
            "fee_amount, payout_amount, status, created_at, updated_at, completed_at) VALUES (:id, :task, :bid, 1, "
            ":fl, :amount, 'USD', 1000, :fee, :payout, :status, :now, '2026-11-26 09:00:00', :completed)",
            id=eid, task=task_id, bid=bid_id, fl=freelancer, amount=amount, fee=fee, payout=amount - fee,
            status=status, now=_NOW, completed=completed)
        run("INSERT INTO engagement_events (engagement_id, to_status, note, created_at) "
            "VALUES (:id, 'awaiting_funding', 'Proposal accepted', :now)", id=eid, now=_NOW)
    run("INSERT INTO payment_charges (engagement_id, provider, amount, currency, status, idempotency_key, "
        "failure_message, attempts, created_at, updated_at) VALUES (30, 'sandbox', 45000, 'USD', 'succeeded', "
        "'checkout:eng_30:1', '', 1, :now, :now)", now=_NOW)
    for author, subject, role in ((1, 2, "business"), (2, 1, "freelancer")):
        run("INSERT INTO reviews (engagement_id, author_id, subject_id, author_role, stars, public_comment, "
            "private_feedback, created_at, hidden_reason) VALUES (30, :a, :s, :role, 5, 'Great', '', :now, '')",
            a=author, s=subject, role=role, now=_NOW)


def _rows(conn, sql):
    return [tuple(row) for row in conn.execute(text(sql))]


@pytest.mark.no_db_transaction
def test_contracts_migration_moves_existing_engagements_up_and_back_down(fresh_database_url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": fresh_database_url, "TESTING": True, "TRUSTED_HOSTS": None})
    with app.app_context():
        upgrade(revision=BEFORE_CONTRACTS)
        with db.engine.begin() as conn:
            _seed_before_contracts(conn)
        upgrade(revision="0013")
        with db.engine.connect() as conn:
            contracts = _rows(conn, "SELECT id, task_id, bid_id, business_id, freelancer_id, kind, currency, fee_bps, "
                                    "status, ended_at IS NOT NULL, hourly_rate, weekly_limit_minutes, weekly_retainer "
                                    "FROM contracts ORDER BY id")
            assert contracts == [
                (30, 10, 20, 1, 2, "fixed", "USD", 1000, "ended", True, None, None, 0),
                (31, 11, 21, 1, 3, "hourly", "USD", 1000, "active", False, 2_500, 3_600, 0),  # 80 h capped at 60 h
                (32, 12, 22, 1, 2, "fixed", "USD", 1000, "ended", True, None, None, 0)]
            assert _rows(conn, "SELECT id, contract_id, payable_kind, title, position, amount, status "
                               "FROM engagements ORDER BY id") == [
                (30, 30, "milestone", "Fixed inbox clean-up", 1, 45_000, "completed"),
                (31, 31, "milestone", "Spanish chat coverage", 1, 200_000, "active"),
                (32, 32, "milestone", "Two-seat phone task", 1, 18_000, "cancelled")]
            assert _rows(conn, "SELECT contract_id, author_id FROM reviews ORDER BY author_id") == [(30, 1), (30, 2)]
            # Nothing referencing an engagement was lost while its table was rebuilt.
            assert _rows(conn, "SELECT engagement_id, amount FROM payment_charges") == [(30, 45_000)]
            assert _rows(conn, "SELECT COUNT(*) FROM engagement_events") == [(3,)]
            # Seats count contracts that haven't ended; a task whose only contract ended is completed.
            assert _rows(conn, "SELECT id, filled_seats, status FROM tasks ORDER BY id") == [
                (10, 0, "completed"), (11, 1, "in_progress"), (12, 0, "open")]
        # New contracts get fresh ids after the copied ones (the PostgreSQL sequence was moved).
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO bids (id, task_id, freelancer_id, amount, cover_note, availability_note, "
                              "status, shortlisted, moderation_status, created_at, updated_at) VALUES (23, 12, 3, "
                              "19000, 'hi', '', 'accepted', false, 'approved', :now, :now)"), {"now": _NOW})
            new_id = conn.execute(text(
                "INSERT INTO contracts (task_id, bid_id, business_id, freelancer_id, kind, currency, fee_bps, status, "
                "created_at, updated_at) VALUES (12, 23, 1, 3, 'fixed', 'USD', 1000, 'active', :now, :now) "
                "RETURNING id"), {"now": _NOW}).scalar()
            assert new_id > 32
            conn.execute(text("DELETE FROM contracts WHERE id = :id"), {"id": new_id})

        downgrade(revision=BEFORE_CONTRACTS)
        with db.engine.connect() as conn:
            assert "contracts" not in inspect(conn).get_table_names()
            assert _rows(conn, "SELECT id, bid_id, amount, status FROM engagements ORDER BY id") == [
                (30, 20, 45_000, "completed"), (31, 21, 200_000, "active"), (32, 22, 18_000, "cancelled")]
            assert _rows(conn, "SELECT engagement_id, author_id FROM reviews ORDER BY author_id") == [(30, 1), (30, 2)]
            assert _rows(conn, "SELECT engagement_id FROM payment_charges") == [(30,)]
            assert _rows(conn, "SELECT id, filled_seats FROM tasks ORDER BY id") == [(10, 1), (11, 1), (12, 1)]
            columns = {c["name"] for c in inspect(conn).get_columns("engagements")}
            assert not {"contract_id", "payable_kind", "title", "due_on", "position"} & columns
        upgrade()
        db.engine.dispose()


@pytest.mark.no_db_transaction
def test_contracts_migration_refuses_to_fold_a_contract_with_several_milestones(fresh_database_url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": fresh_database_url, "TESTING": True, "TRUSTED_HOSTS": None})
    with app.app_context():
        upgrade(revision=BEFORE_CONTRACTS)
        with db.engine.begin() as conn:
            _seed_before_contracts(conn)
        upgrade(revision="0013")
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO engagements (task_id, business_id, freelancer_id, amount, currency, fee_bps, fee_amount, "
                "payout_amount, status, created_at, updated_at, contract_id, payable_kind, title, position) VALUES "
                "(10, 1, 2, 5000, 'USD', 1000, 500, 4500, 'awaiting_funding', :now, :now, 30, 'milestone', "
                "'Extra', 2)"), {"now": _NOW})
        with pytest.raises(SystemExit):   # Flask-Migrate logs the RuntimeError and exits
            downgrade(revision=BEFORE_CONTRACTS)
        with db.engine.connect() as conn:
            assert _rows(conn, "SELECT COUNT(*) FROM contracts") == [(3,)]
        db.engine.dispose()


# --- 0019: faces, files and people search ---------------------------------------------------------------

def _revision_before_search_text() -> str:
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parent.parent / "migrations" / "versions" / "0019_faces_files_and_search.py"
    spec = importlib.util.spec_from_file_location("migration_0019", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.down_revision


@pytest.mark.no_db_transaction
def test_search_text_is_filled_for_existing_profiles_and_removed_on_downgrade(fresh_database_url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": fresh_database_url, "TESTING": True, "TRUSTED_HOSTS": None})
    with app.app_context():
        upgrade(revision=_revision_before_search_text())
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO users (id, email, password_hash, full_name, role, session_token, created_at) "
                              "VALUES (1, 'maria@example.com', 'x', 'Maria Fernandez', 'freelancer', 't', :now)"),
                         {"now": _NOW})
            conn.execute(text("INSERT INTO freelancer_profiles (user_id, headline, bio, currency, timezone, "
                              "hours_per_week, preferred_hours, payout_status, updated_at) VALUES "
                              "(1, 'Calm Chat Support', '', 'USD', 'UTC', 20, '', 'not_connected', :now)"), {"now": _NOW})
            conn.execute(text("INSERT INTO skills (id, slug, name, kind) VALUES (1, 'zendesk', 'Zendesk', 'tool')"))
            conn.execute(text("INSERT INTO freelancer_skills (freelancer_id, skill_id, level) VALUES (1, 1, 3)"))
            conn.execute(text("INSERT INTO freelancer_languages (freelancer_id, language, proficiency) "
                              "VALUES (1, 'es', 'native')"))
        upgrade(revision="0019")
        with db.engine.connect() as conn:
            search_text = conn.execute(text("SELECT search_text FROM freelancer_profiles")).scalar_one()
        assert all(word in search_text for word in ("maria fernandez", "calm chat support", "zendesk", "spanish"))
        downgrade(revision=_revision_before_search_text())
        columns = {c["name"] for c in inspect(db.engine).get_columns("freelancer_profiles")}
        assert "search_text" not in columns
        assert "avatar_token" not in {c["name"] for c in inspect(db.engine).get_columns("users")}
        assert "attachments" not in inspect(db.engine).get_table_names()
        db.engine.dispose()


# --- 0022: the bonus form's one-time key --------------------------------------------------------------------

def _insert_bonus(conn, eid: int, contract_id: int, task_id: int, freelancer: int, position: int, key):
    conn.execute(text(
        "INSERT INTO engagements (id, task_id, contract_id, payable_kind, title, position, business_id, freelancer_id, "
        "amount, currency, fee_bps, fee_amount, payout_amount, status, created_at, updated_at, form_key) VALUES "
        "(:id, :task, :contract, 'bonus', 'Bonus: thanks', :position, 1, :fl, 5000, 'USD', 1000, 500, 4500, "
        "'awaiting_funding', :now, :now, :key)"),
        {"id": eid, "task": task_id, "contract": contract_id, "position": position, "fl": freelancer, "now": _NOW,
         "key": key})


@pytest.mark.no_db_transaction
def test_bonus_form_keys_are_unique_per_contract_and_dropped_on_downgrade(fresh_database_url):
    from sqlalchemy.exc import IntegrityError
    app = create_app({"SQLALCHEMY_DATABASE_URI": fresh_database_url, "TESTING": True, "TRUSTED_HOSTS": None})
    with app.app_context():
        upgrade(revision=BEFORE_CONTRACTS)
        with db.engine.begin() as conn:
            _seed_before_contracts(conn)
        upgrade(revision="0021")
        upgrade(revision="0022")
        with db.engine.begin() as conn:
            # Existing payables have no key; keyless bonuses may repeat, a key only once per contract.
            assert _rows(conn, "SELECT COUNT(*) FROM engagements WHERE form_key IS NULL") == [(3,)]
            _insert_bonus(conn, 40, 31, 11, 3, 2, None)
            _insert_bonus(conn, 41, 31, 11, 3, 3, None)
            _insert_bonus(conn, 42, 31, 11, 3, 4, "k-1")
            _insert_bonus(conn, 43, 30, 10, 2, 2, "k-1")       # the same key on another contract
        with pytest.raises(IntegrityError):
            with db.engine.begin() as conn:
                _insert_bonus(conn, 44, 31, 11, 3, 5, "k-1")
        downgrade(revision="0021")
        with db.engine.connect() as conn:
            assert "form_key" not in {c["name"] for c in inspect(conn).get_columns("engagements")}
            assert _rows(conn, "SELECT id, payable_kind FROM engagements WHERE id >= 40 ORDER BY id") == [
                (40, "bonus"), (41, "bonus"), (42, "bonus"), (43, "bonus")]
            assert _rows(conn, "SELECT engagement_id FROM payment_charges") == [(30,)]
        upgrade()
        with db.engine.connect() as conn:
            assert _rows(conn, "SELECT COUNT(*) FROM engagements WHERE form_key IS NULL") == [(7,)]
        db.engine.dispose()


# --- 0023, 0024: indexes for matching and the listing -----------------------------------------------------

@pytest.mark.no_db_transaction
@pytest.mark.parametrize("revision, table, index, columns, where", [
    ("0023", "freelancer_profiles", "ix_freelancer_profiles_matchable", ["user_id", "language_mask", "channel_mask"],
     ("hours_per_week > 0", "hourly_rate IS NOT NULL")),
    ("0024", "tasks", "ix_tasks_listed_timezone", ["timezone", "published_at", "id"],
     ("status", "'open'", "moderation_status", "'approved'")),
])
def test_an_index_revision_adds_its_index_and_drops_it_on_downgrade(fresh_database_url, revision, table, index,
                                                                    columns, where):
    previous = f"{int(revision) - 1:04d}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": fresh_database_url, "TESTING": True, "TRUSTED_HOSTS": None})
    with app.app_context():
        upgrade(revision=previous)
        with db.engine.connect() as conn:
            assert index not in {ix["name"] for ix in inspect(conn).get_indexes(table)}
        upgrade(revision=revision)
        with db.engine.connect() as conn:
            indexes = {ix["name"]: ix for ix in inspect(conn).get_indexes(table)}
        assert indexes[index]["column_names"] == columns
        # Partial: only the rows the queries ask for (as the dialect reflects the predicate).
        options = indexes[index].get("dialect_options", {})
        reflected = options.get("postgresql_where", options.get("sqlite_where"))
        predicate = "" if reflected is None else str(reflected)
        if not predicate and db.engine.dialect.name == "sqlite":
            with db.engine.connect() as conn:
                predicate = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = :n"), {"n": index}).scalar()
        assert all(part.lower() in predicate.lower() for part in where), predicate
        downgrade(revision=previous)
        with db.engine.connect() as conn:
            assert index not in {ix["name"] for ix in inspect(conn).get_indexes(table)}
        db.engine.dispose()


@pytest.mark.no_db_transaction
def test_price_ceiling_statistics_on_postgresql_and_nothing_on_sqlite(fresh_database_url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": fresh_database_url, "TESTING": True, "TRUSTED_HOSTS": None})
    with app.app_context():
        upgrade(revision="0025")
        postgresql = db.engine.dialect.name == "postgresql"

        def statistics() -> list[str]:
            if not postgresql:
                return []
            with db.engine.connect() as conn:
                return list(conn.execute(text("SELECT stxname FROM pg_statistic_ext WHERE stxname LIKE 'st_tasks_%'"))
                            .scalars())
        assert statistics() == (["st_tasks_price_ceiling"] if postgresql else [])
        downgrade(revision="0024")
        assert statistics() == []
        upgrade(revision="0025")
        assert statistics() == (["st_tasks_price_ceiling"] if postgresql else [])
        db.engine.dispose()
