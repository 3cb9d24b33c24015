from sqlalchemy import func, select

from marketplace.accounts.models import User
from marketplace.extensions import db


def test_healthz_reports_database_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "queue": "in-process"}


def test_healthz_reports_an_unreachable_queue_but_stays_in_rotation(app, client):
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"   # nothing listens there
    try:
        response = client.get("/healthz")
    finally:
        app.config["REDIS_URL"] = None
    assert response.status_code == 200 and response.get_json()["queue"] == "unreachable"


def test_rows_from_one_test_are_gone_in_the_next_part_one(freelancer):
    assert db.session.scalar(select(func.count()).select_from(User).where(User.email == freelancer.email)) == 1


def test_rows_from_one_test_are_gone_in_the_next_part_two():
    assert db.session.scalar(select(func.count()).select_from(User)) == 0
