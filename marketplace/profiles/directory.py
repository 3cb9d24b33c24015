"""The public specialist directory: filters on skill, language, channel, rate and rating; sorts."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import Float, exists, literal_column, select

from marketplace.accounts.models import AccountStatus, User
from marketplace.core.forms import bounded_int
from marketplace.core.paging import bounded_page
from marketplace.profiles.cards import load_cards
from marketplace.profiles.skill_index import skill_index
from marketplace.core.query_args import QueryArgs
from marketplace.core.reference import CHANNELS, LANGUAGES, PROFICIENCY_RANK
from marketplace.extensions import db
from marketplace.reviews.services import bayesian_rating_sql
from marketplace.profiles.models import FreelancerChannel, FreelancerLanguage, FreelancerProfile, FreelancerSkill


# The rating filter counts only specialists with at least one revealed review: without one, the
# Bayesian rating is just the platform prior, not a reputation.
MIN_RATINGS = {"3": "3.0 and up", "3.5": "3.5 and up", "4": "4.0 and up", "4.5": "4.5 and up"}
SORTS = {"recent": "Recently updated", "rating": "Best rated"}
# Hours a week the specialist says they are available, at least.
AVAILABILITY = {"10": "10+ hours a week", "20": "20+ hours a week", "30": "30+ hours a week",
                "40": "Full time (40+ h)"}
# Keyword search: each word (up to MAX_WORDS) must appear in the name, headline, skills or languages
# (profiles/search_text.py). On PostgreSQL the trigram index of migration 0019 answers LIKE '%word%'
# for words of 3+ characters.
MIN_WORD = 3
MAX_WORDS = 4


@dataclass
class DirectoryQuery:
    skill: str = ""
    min_level: int = 1
    language: str = ""
    channel: str = ""
    rate_max: int | None = None
    min_rating: str = ""         # one of MIN_RATINGS: the Bayesian rating shown on profiles, at least
    sort: str = "recent"
    q: str = ""                  # name or keywords, as typed
    words: list[str] = field(default_factory=list)   # the words searched (MIN_WORD+ characters)
    available: str = ""          # one of AVAILABILITY
    errors: list[str] = field(default_factory=list)


def parse_query(args) -> DirectoryQuery:
    from marketplace.profiles.services import skill_slug_exists

    read = QueryArgs(args)
    params = DirectoryQuery(
        skill=read.choice("skill", skill_slug_exists),
        min_level=bounded_int(args, "min_level", 1, low=1, high=5),
        language=read.choice("language", LANGUAGES), channel=read.choice("channel", CHANNELS),
        rate_max=read.amount("rate_max", 1, 100_000_000,
                             "Maximum rate must be a positive amount up to 1,000,000; it was ignored."),
        min_rating=read.choice("min_rating", MIN_RATINGS, "minimum rating"),
        sort=read.choice("sort", SORTS) or "recent",
        q=" ".join(read.text("q", 100).split()), available=read.choice("available", AVAILABILITY, "availability"))
    # Words as typed, without the punctuation around them ("Spanish, Zendesk" is two words).
    words = [w.strip(".-") for w in re.findall(r"[^\s,;:!?()\"'/]+", params.q)]
    words = [w for w in words if w]
    params.words = [w for w in words if len(w) >= MIN_WORD][:MAX_WORDS]
    if words and not params.words:
        read.errors.append(f"Type at least {MIN_WORD} letters of a name or keyword to search; it was ignored.")
    params.errors = read.errors
    return params


def _escape_like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _matches_word(word: str):
    """The profile's search text (name, headline, skills, languages) contains the word, any case."""
    return FreelancerProfile.search_text.like(f"%{_escape_like(word.lower())}%", escape="\\")


def rating_sort_key():
    """The displayed (Bayesian) rating as an SQL expression with its constants written inline,
    exactly as the index ix_freelancer_profiles_listed_rating of migration 0012 spells it, so the
    directory walks that index instead of sorting every match (with other prior settings the
    order is still right, only unindexed)."""
    config = current_app.config
    prior, weight = float(config["MATCH_RATING_PRIOR"]), float(config["MATCH_RATING_PRIOR_WEIGHT"])
    # Written out as text: SQLAlchemy's SQLite dialect would add "+ 0.0" to a divisor, which the
    # index's expression does not have.
    return literal_column(f"(({prior * weight!r} + freelancer_profiles.rating_sum * 1.0) / "
                          f"({weight!r} + freelancer_profiles.rating_count))", Float)


def search_freelancers(params: DirectoryQuery, page: int = 1, per_page: int = 20):
    """A page of listed profiles (a rate and a headline, active account), with a bounded count."""
    # The account check as EXISTS, not a join, so the planners start from the profiles' indexes
    # (in the sort order) rather than from users; LISTED_PROFILE_SQL with a literal '' so they can
    # use the partial indexes.
    active = select(User.id).where(User.id == FreelancerProfile.user_id, User.status == AccountStatus.ACTIVE)
    stmt = (select(FreelancerProfile.user_id)
            .where(exists(active), FreelancerProfile.hourly_rate.is_not(None),
                   FreelancerProfile.headline != literal_column("''")))
    if params.skill:
        # The skill's id from the taxonomy in memory (an unknown slug matches nothing).
        skill_id = skill_index().ids.get(params.skill, 0)
        stmt = stmt.where(exists().where(FreelancerSkill.freelancer_id == FreelancerProfile.user_id,
                                         FreelancerSkill.skill_id == skill_id,
                                         FreelancerSkill.level >= params.min_level))
    if params.language:
        stmt = stmt.where(exists().where(FreelancerLanguage.freelancer_id == FreelancerProfile.user_id,
                                         FreelancerLanguage.language == params.language,
                                         FreelancerLanguage.proficiency.in_(
                                             [c for c, r in PROFICIENCY_RANK.items() if r >= PROFICIENCY_RANK["B2"]])))
    if params.channel:
        stmt = stmt.where(exists().where(FreelancerChannel.freelancer_id == FreelancerProfile.user_id,
                                         FreelancerChannel.channel == params.channel))
    if params.rate_max is not None:
        stmt = stmt.where(FreelancerProfile.hourly_rate <= params.rate_max)
    if params.available:
        stmt = stmt.where(FreelancerProfile.hours_per_week >= int(params.available))
    for word in params.words:
        stmt = stmt.where(_matches_word(word))
    if params.min_rating:
        # As displayed: a 3.96 reads "4.0" on the profile, so it passes "4.0 and up".
        stmt = stmt.where(FreelancerProfile.rating_count > 0,
                          bayesian_rating_sql() >= float(params.min_rating) - 0.05)
    if params.sort == "rating":
        # Unreviewed specialists sit at the prior; reviewed ones at the same figure rank first.
        stmt = stmt.order_by(rating_sort_key().desc(), FreelancerProfile.rating_count.desc(),
                             FreelancerProfile.user_id.desc())
    else:
        stmt = stmt.order_by(FreelancerProfile.updated_at.desc(), FreelancerProfile.user_id.desc())
    return bounded_page(stmt, load_cards, page, per_page, key=lambda card: card.user_id,
                        count_limit=current_app.config["DIRECTORY_COUNT_LIMIT"])
