"""Profile models and the skill taxonomy."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, false, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.accounts.models import User
from marketplace.core.time import utcnow
from marketplace.extensions import db


class Skill(db.Model):
    __tablename__ = "skills"
    __table_args__ = (CheckConstraint("kind IN ('technical', 'soft', 'tool', 'domain')", name="kind_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(20), index=True)

    def __repr__(self) -> str:
        return f"<Skill {self.slug}>"


LISTED_PROFILE_SQL = "hourly_rate IS NOT NULL AND headline <> ''"
# Who matching may rank at all (matching/service.py writes the same two conditions as literals).
MATCHABLE_PROFILE_SQL = "hours_per_week > 0 AND hourly_rate IS NOT NULL"


class FreelancerProfile(db.Model):
    __tablename__ = "freelancer_profiles"
    __table_args__ = (
        CheckConstraint("hourly_rate IS NULL OR hourly_rate > 0", name="rate_positive"),
        CheckConstraint("hours_per_week BETWEEN 0 AND 80", name="hours_range"),
        # The directory (profiles/directory.py) lists profiles with a rate and a headline, recently
        # updated first; migration 0012 also indexes them by displayed rating
        # (ix_freelancer_profiles_listed_rating, an expression index written by hand).
        Index("ix_freelancer_profiles_listed", "updated_at", "user_id", postgresql_where=text(LISTED_PROFILE_SQL),
              sqlite_where=text(LISTED_PROFILE_SQL)),
        # Matching's hard filters on the profile (language and channel bit masks) as an index-only
        # scan of the profiles it may rank: a tenth of the pages of a scan of the whole table.
        Index("ix_freelancer_profiles_matchable", "user_id", "language_mask", "channel_mask",
              postgresql_where=text(MATCHABLE_PROFILE_SQL), sqlite_where=text(MATCHABLE_PROFILE_SQL)),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    headline: Mapped[str] = mapped_column(String(120), default="")
    bio: Mapped[str] = mapped_column(Text, default="")
    hourly_rate: Mapped[int | None] = mapped_column(Integer, index=True)  # minor units
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    hours_per_week: Mapped[int] = mapped_column(Integer, default=20)
    preferred_hours: Mapped[str] = mapped_column(String(120), default="")
    payout_status: Mapped[str] = mapped_column(String(20), default="not_connected")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    # Derived reputation figures, kept up to date by reviews and completed engagements;
    # matching reads them (see marketplace/matching/scoring.py).
    # (rating_count etc. are plain counters: the average is derived, never stored)
    rating_sum: Mapped[int] = mapped_column(Integer, default=0, server_default="0")      # sum of 1-5 stars
    rating_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    empathy_sum: Mapped[int] = mapped_column(Integer, default=0, server_default="0")     # sum of 1-5 dimension scores
    empathy_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")   # number of dimension scores
    completed_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    on_time_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_active_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Denormalised for matching's hard filters (core/reference.py language_mask / channel_mask);
    # kept in step by profiles.services.refresh_masks and seed-demo.
    language_mask: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    channel_mask: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Name, headline, skill and language names, lower-cased, for the directory's keyword search
    # (profiles/search_text.py; a trigram index on PostgreSQL, migration 0019).
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)
    skills: Mapped[list[FreelancerSkill]] = relationship(back_populates="profile", cascade="all, delete-orphan",
                                                         order_by="FreelancerSkill.level.desc()")
    languages: Mapped[list[FreelancerLanguage]] = relationship(back_populates="profile",
                                                               cascade="all, delete-orphan")
    channels: Mapped[list[FreelancerChannel]] = relationship(back_populates="profile",
                                                             cascade="all, delete-orphan")

    @property
    def channel_codes(self) -> list[str]:
        return sorted(c.channel for c in self.channels)

    @property
    def rating(self) -> float | None:
        return self.rating_sum / self.rating_count if self.rating_count else None

    @property
    def empathy(self) -> float | None:
        return self.empathy_sum / self.empathy_count if self.empathy_count else None

    @property
    def is_complete(self) -> bool:
        return bool(self.headline and self.hourly_rate and self.skills and self.languages and self.channels)


class FreelancerSkill(db.Model):
    __tablename__ = "freelancer_skills"
    __table_args__ = (
        CheckConstraint("level BETWEEN 1 AND 5", name="level_range"),
        # Matching starts from "who has these skills": an index-only scan by skill.
        Index("ix_freelancer_skills_skill_level", "skill_id", "level", "freelancer_id"),
    )

    freelancer_id: Mapped[int] = mapped_column(ForeignKey("freelancer_profiles.user_id", ondelete="CASCADE"),
                                               primary_key=True)
    skill_id: Mapped[int] = mapped_column(ForeignKey("skills.id"), primary_key=True, index=True)
    level: Mapped[int] = mapped_column(Integer)

    profile: Mapped[FreelancerProfile] = relationship(back_populates="skills")
    skill: Mapped[Skill] = relationship(lazy="joined", innerjoin=True)


class FreelancerLanguage(db.Model):
    __tablename__ = "freelancer_languages"
    __table_args__ = (
        CheckConstraint("proficiency IN ('A1', 'A2', 'B1', 'B2', 'C1', 'C2', 'native')", name="proficiency_known"),
        # Matching a task in several languages starts from the speakers of its rarest language
        # at a working level (matching/service.py): an index-only scan.
        Index("ix_freelancer_languages_speakers", "language", "proficiency", "freelancer_id"),
    )

    freelancer_id: Mapped[int] = mapped_column(ForeignKey("freelancer_profiles.user_id", ondelete="CASCADE"),
                                               primary_key=True)
    language: Mapped[str] = mapped_column(String(8), primary_key=True, index=True)  # ISO 639-1
    proficiency: Mapped[str] = mapped_column(String(8))

    profile: Mapped[FreelancerProfile] = relationship(back_populates="languages")


class FreelancerChannel(db.Model):
    __tablename__ = "freelancer_channels"
    __table_args__ = (
        CheckConstraint("channel IN ('chat', 'email', 'phone', 'video', 'social')", name="channel_known"),
    )

    freelancer_id: Mapped[int] = mapped_column(ForeignKey("freelancer_profiles.user_id", ondelete="CASCADE"),
                                               primary_key=True)
    channel: Mapped[str] = mapped_column(String(10), primary_key=True, index=True)

    profile: Mapped[FreelancerProfile] = relationship(back_populates="channels")


class BusinessProfile(db.Model):
    __tablename__ = "business_profiles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    company_name: Mapped[str] = mapped_column(String(120), default="")
    website: Mapped[str] = mapped_column(String(200), default="")
    industry: Mapped[str] = mapped_column(String(60), default="")
    size: Mapped[str] = mapped_column(String(20), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    description: Mapped[str] = mapped_column(Text, default="", server_default="")   # shown on its tasks
    payment_method_status: Mapped[str] = mapped_column(String(20), default="none")
    # Whether specialists may list engagements with this business (task title, date, rating) in the
    # work history on their public profiles.
    show_work_history: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)
