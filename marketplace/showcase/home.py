"""The home page's live parts: categories from the skill taxonomy and a few featured specialists."""
from __future__ import annotations

from sqlalchemy import exists, literal_column, select

from marketplace.accounts.models import AccountStatus, User
from marketplace.extensions import db
from marketplace.profiles.cards import ProfileCard, load_cards
from marketplace.profiles.directory import rating_sort_key
from marketplace.profiles.models import FreelancerProfile, Skill

FEATURED = 4
KIND_TITLES = {"domain": "Support for your industry", "soft": "The human touch", "technical": "Technical support",
               "tool": "Your help-desk tools"}
KIND_ORDER = ("domain", "soft", "technical", "tool")


def categories() -> list[tuple[str, list[tuple[str, str]]]]:
    """(section title, [(slug, name), ...]) in the order the home page shows them; one query."""
    grouped: dict[str, list[tuple[str, str]]] = {}
    for slug, name, kind in db.session.execute(select(Skill.slug, Skill.name, Skill.kind).order_by(Skill.name)):
        grouped.setdefault(kind, []).append((slug, name))
    return [(KIND_TITLES.get(kind, kind.title()), grouped[kind]) for kind in KIND_ORDER if kind in grouped]


def featured_specialists(limit: int = FEATURED) -> list[ProfileCard]:
    """The best-rated listed specialists with at least one review (walking the directory's rating index),
    topped up with recently updated listed profiles while the platform has few reviews."""
    active = select(User.id).where(User.id == FreelancerProfile.user_id, User.status == AccountStatus.ACTIVE)
    listed = (exists(active), FreelancerProfile.hourly_rate.is_not(None),
              FreelancerProfile.headline != literal_column("''"))
    ids = list(db.session.scalars(
        select(FreelancerProfile.user_id).where(*listed, FreelancerProfile.rating_count > 0)
        .order_by(rating_sort_key().desc(), FreelancerProfile.rating_count.desc(), FreelancerProfile.user_id.desc())
        .limit(limit)))
    if len(ids) < limit:
        ids += [i for i in db.session.scalars(
            select(FreelancerProfile.user_id).where(*listed, FreelancerProfile.rating_count == 0)
            .order_by(FreelancerProfile.updated_at.desc(), FreelancerProfile.user_id.desc())
            .limit(limit - len(ids)))]
    cards = {card.user_id: card for card in load_cards(ids)}
    return [cards[i] for i in ids if i in cards]
