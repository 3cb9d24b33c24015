"""Reviews: each side of an engagement reviews the other once."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.accounts.models import User
from marketplace.core.time import utcnow
from marketplace.extensions import db

# The five empathy dimensions a business scores a specialist, in display order.
EMPATHY_DIMENSIONS: tuple[tuple[str, str], ...] = (
    ("listening", "Active listening"),
    ("acknowledging", "Acknowledging emotions"),
    ("patience", "Patience"),
    ("positive_language", "Positive language"),
    ("follow_through", "Follow-through"),
)


def _score_check(column: str) -> CheckConstraint:
    return CheckConstraint(f"{column} IS NULL OR {column} BETWEEN 1 AND 5", name=f"{column}_range")


class Review(db.Model):
    """One side's review of the other on one contract, written once the contract has ended.

    `engagement_id` is the contract's last finished milestone: the page the review was written
    from, kept so existing links and the operator views still have a payable to point at.

    Double-blind: `revealed_at` stays empty until both sides have reviewed or
    the reveal window has passed; until then only the author sees it. The
    subject's reputation counters change only when a review is revealed (and
    back when an operator hides it).
    """

    __tablename__ = "reviews"
    __table_args__ = (
        UniqueConstraint("contract_id", "author_id", name="uq_reviews_contract_author"),
        CheckConstraint("stars BETWEEN 1 AND 5", name="stars_range"),
        CheckConstraint("author_role IN ('business', 'freelancer')", name="author_role_known"),
        _score_check("listening"), _score_check("acknowledging"), _score_check("patience"),
        _score_check("positive_language"), _score_check("follow_through"),
        Index("ix_reviews_subject_revealed", "subject_id", "revealed_at"),
        Index("ix_reviews_reveal_due", "revealed_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    engagement_id: Mapped[int] = mapped_column(ForeignKey("engagements.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    subject_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    author_role: Mapped[str] = mapped_column(String(20))        # business | freelancer
    stars: Mapped[int] = mapped_column(Integer)
    # Empathy dimensions, 1-5 each; only on a business's review of a specialist.
    listening: Mapped[int | None] = mapped_column(Integer)
    acknowledging: Mapped[int | None] = mapped_column(Integer)
    patience: Mapped[int | None] = mapped_column(Integer)
    positive_language: Mapped[int | None] = mapped_column(Integer)
    follow_through: Mapped[int | None] = mapped_column(Integer)
    public_comment: Mapped[str] = mapped_column(Text, default="")
    private_feedback: Mapped[str] = mapped_column(Text, default="")   # to the platform only
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revealed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    hidden_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    hidden_reason: Mapped[str] = mapped_column(String(500), default="", server_default="")
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    author: Mapped[User] = relationship(foreign_keys=[author_id])
    subject: Mapped[User] = relationship(foreign_keys=[subject_id])

    def empathy_scores(self) -> list[tuple[str, str, int]]:
        return [(key, label, getattr(self, key)) for key, label in EMPATHY_DIMENSIONS
                if getattr(self, key) is not None]
