"""The outbox migration redacts the secret links of mail stored before it (they may still be live)."""
from __future__ import annotations

import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from marketplace import create_app
from marketplace.extensions import db
from tests.test_migrations import fresh_database_url  # noqa: F401  (fixture)

RESET = "http://127.0.0.1:5000/password/reset/eyJ1aWQiOjF9.Z0abc_d-E"
VERIFY = "http://localhost:6666/verify/eyJ1aWQiOjJ9.Z0xyz"


@pytest.mark.no_db_transaction
def test_stored_reset_and_confirmation_links_are_redacted_on_upgrade(fresh_database_url):  # noqa: F811
    app = create_app({"SQLALCHEMY_DATABASE_URI": fresh_database_url, "TESTING": True, "TRUSTED_HOSTS": None})
    with app.app_context():
        upgrade(revision="0007")
        with db.engine.begin() as conn:
            for to, body in (("a@example.com", f"Open this link:\n\n{RESET}\n\nIt expires in one hour."),
                             ("b@example.com", f"Confirm:\n\n{VERIFY}\n"),
                             ("c@example.com", "Open it here: http://127.0.0.1:5000/tasks/3")):
                conn.execute(text("INSERT INTO outbox_messages (to_address, subject, body, status, created_at) "
                                  "VALUES (:to, 'Mail', :body, 'stored', CURRENT_TIMESTAMP)"), {"to": to, "body": body})
        upgrade()
        with db.engine.connect() as conn:
            bodies = dict(conn.execute(text("SELECT to_address, body FROM outbox_messages")).all())
            attempts = set(conn.execute(text("SELECT attempts FROM outbox_messages")).scalars())
        db.engine.dispose()
    assert bodies["a@example.com"] == "Open this link:\n\n[link sent to the recipient]\n\nIt expires in one hour."
    assert bodies["b@example.com"] == "Confirm:\n\n[link sent to the recipient]\n"
    assert bodies["c@example.com"] == "Open it here: http://127.0.0.1:5000/tasks/3"
    assert attempts == {0}
