from sqlalchemy import func, select

from marketplace.accounts.models import User
from marketplace.extensions import db


def test_healthz_reports_database_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_rows_from_one_test_are_gone_in_the_next_part_one(freelancer):
    assert db.session.scalar(select(func.count()).select_from(User).where(User.email == freelancer.email)) == 1


def test_rows_from_one_test_are_gone_in_the_next_part_two():
    assert db.session.scalar(select(func.count()).select_from(User)) == 0
