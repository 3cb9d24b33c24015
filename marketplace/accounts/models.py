"""User accounts."""
from __future__ import annotations

import enum
import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, DateTime, Enum, Integer, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.core.time import utcnow
from marketplace.extensions import db


class Role(str, enum.Enum):
    BUSINESS = "business"
    FREELANCER = "freelancer"
    OPERATOR = "operator"


class AccountStatus(str, enum.Enum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        # Emails are stored lower-cased, so the unique constraint is case-insensitive.
        CheckConstraint("email = lower(email)", name="email_lowercase"),
        CheckConstraint("failed_logins >= 0", name="failed_logins_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=20,
                                            values_callable=lambda e: [m.value for m in e]), index=True)
    status: Mapped[AccountStatus] = mapped_column(
        Enum(AccountStatus, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
        default=AccountStatus.ACTIVE, server_default=AccountStatus.ACTIVE.value)
    email_verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Rotated on logout and password change: every earlier session and remember
    # cookie carries the old token and stops working.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    # Wrong second-factor codes (operators) and the lock they lead to. Wrong passwords are
    # counted per email and client instead (LoginThrottle), so they cannot lock the account.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Operators' second factor (TOTP): the base32 secret, when it was confirmed,
    # and the last time step accepted (a code is never accepted twice).
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    # Why and when an operator suspended the account (kept after reinstatement for the record).
    suspended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    suspension_reason: Mapped[str] = mapped_column(String(500), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow,
                                                 server_default=func.current_timestamp())
    # A specialist's photo or a business's logo: the random token naming its stored renditions
    # (marketplace/files/avatars.py); empty until one is uploaded, when initials are shown.
    avatar_token: Mapped[str | None] = mapped_column(String(32))

    # A business's company profile (profiles/models.py), for the name it is known by on the marketplace.
    business_profile = relationship("BusinessProfile", uselist=False, viewonly=True, lazy="select")

    @property
    def public_name(self) -> str:
        """The name others see: a business's company name (from its profile), else the person's name."""
        if self.role == Role.BUSINESS and self.business_profile is not None and self.business_profile.company_name:
            return self.business_profile.company_name
        return self.full_name

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.status == AccountStatus.ACTIVE

    @property
    def has_second_factor(self) -> bool:
        return self.totp_enabled_at is not None and bool(self.totp_secret)

    @property
    def is_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def is_business(self) -> bool:
        return self.role == Role.BUSINESS

    @property
    def is_freelancer(self) -> bool:
        return self.role == Role.FREELANCER

    @property
    def is_operator(self) -> bool:
        return self.role == Role.OPERATOR

    @property
    def first_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else ""

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role.value}>"


class LoginThrottle(db.Model):
    """Wrong passwords typed for one email address from one client (see accounts/lockout.py).

    Keyed by the address as typed, whether or not an account uses it, and stored as an HMAC:
    the table holds neither addresses nor whatever was typed into the email field.
    """

    __tablename__ = "login_throttles"
    __table_args__ = (
        UniqueConstraint("email_digest", "client"),
        CheckConstraint("failures >= 0", name="failures_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email_digest: Mapped[str] = mapped_column(String(64))
    client: Mapped[str] = mapped_column(String(64))   # the client's address (an IPv6 /64)
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_failed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
