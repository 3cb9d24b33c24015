import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from marketplace.accounts.models import Role, User
from marketplace.extensions import db
from marketplace.outbox.models import OutboxMessage
from marketplace.profiles.models import BusinessProfile, FreelancerProfile
from tests import factories

GOOD_PASSWORD = "amber-canyon-ferry-71"


def signup(client, **overrides):
    data = {"role": "freelancer", "full_name": "Ada Quinn", "email": "ada@example.com", "password": GOOD_PASSWORD}
    data.update(overrides)
    return client.post("/signup", data=data)


def user_count() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def test_freelancer_signup_creates_account_profile_and_verification_mail(client):
    response = signup(client, email="Ada@Example.COM")
    assert response.status_code == 302 and response.headers["Location"].endswith("/profile/edit")
    user = db.session.scalar(select(User).where(User.email == "ada@example.com"))
    assert user is not None and user.role == Role.FREELANCER and not user.is_verified
    assert user.password_hash.startswith("$argon2id$")
    assert db.session.get(FreelancerProfile, user.id) is not None
    mail = db.session.scalar(select(OutboxMessage).where(OutboxMessage.to_address == "ada@example.com"))
    # The link reaches the recipient only: the copy operators can read has it redacted.
    assert mail.subject == "Confirm your email address" and "/verify/" not in mail.body
    assert "[link sent to the recipient]" in mail.body
    # The new account is logged in.
    assert client.get("/dashboard").status_code == 200


def test_business_signup_creates_business_profile(client):
    assert signup(client, role="business", email="boss@example.com").status_code == 302
    user = db.session.scalar(select(User).where(User.email == "boss@example.com"))
    assert user.role == Role.BUSINESS and db.session.get(BusinessProfile, user.id) is not None


@pytest.mark.parametrize("overrides, message", [
    ({"password": "short-pass"}, "Use 12 to 128 characters."),
    ({"password": "qwerty123456"}, "too common"),
    ({"password": "aaaaaaaaaaaaaaaa"}, "too common"),
    ({"password": "ada@example.com"}, "can&#39;t be your email"),
    ({"password": "x" * 129}, "Use 12 to 128 characters."),
    ({"email": "not-an-email"}, "Enter a valid email address"),
    ({"email": ""}, "Enter your email address."),
    ({"full_name": ""}, "Tell us your name."),
    ({"full_name": "N" * 121}, "Field cannot be longer than 120 characters."),
    ({"role": "operator"}, "Not a valid choice"),
    ({"role": ""}, "Choose whether you are hiring or offering support."),
])
def test_bad_signup_input_is_refused_next_to_the_field(client, overrides, message):
    before = user_count()
    response = signup(client, **overrides)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert user_count() == before


def test_duplicate_email_is_refused_case_insensitively(client):
    factories.create_freelancer(email="taken@example.com")
    before = user_count()
    response = signup(client, email="TAKEN@example.com")
    assert response.status_code == 400
    assert "already exists" in response.get_data(as_text=True)
    assert user_count() == before


def test_database_enforces_lowercase_unique_email():
    factories.create_freelancer(email="dup@example.com")
    row = {"password_hash": "x", "full_name": "X", "role": Role.BUSINESS, "session_token": "t"}
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            db.session.execute(insert(User), [{**row, "email": "dup@example.com"}])
    with pytest.raises(IntegrityError):  # the check constraint refuses mixed case outright
        with db.session.begin_nested():
            db.session.execute(insert(User), [{**row, "email": "Other@example.com"}])


def test_logged_in_user_is_sent_from_signup_to_dashboard(client, freelancer, login_as):
    login_as(freelancer)
    assert client.get("/signup").headers["Location"].endswith("/dashboard")
