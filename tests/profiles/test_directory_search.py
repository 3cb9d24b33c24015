"""Name and keyword search, the availability filter and result counts on /freelancers."""
from __future__ import annotations

from marketplace.extensions import db
from tests import factories
from tests.tasks.helpers import make_profile, refresh_search_text, text


def _profile(name: str, headline: str, hours: int = 20):
    user = factories.create_freelancer(full_name=name)
    profile = make_profile(user, rate=3_000, skills={"zendesk": 3}, languages={"en": "native"}, channels=["chat"])
    profile.headline, profile.hours_per_week = headline, hours
    refresh_search_text(profile)
    return user


def test_search_by_name_or_headline_words_with_counts(client):
    _profile("Maria Fernández", "Bilingual chat support, Spanish and English")
    _profile("Tom Becker", "Tier-2 troubleshooting for SaaS", hours=40)
    _profile("Ana Lopez", "Phone support with patience", hours=10)
    page = text(client.get("/freelancers?q=maria"))
    assert "1 specialist matching “maria”" in page and "Maria Fernández" in page and "Tom Becker" not in page
    page = text(client.get("/freelancers?q=SUPPORT"))
    assert "2 specialists" in page and "Ana Lopez" in page and "Maria Fernández" in page
    page = text(client.get("/freelancers?q=support+spanish"))
    assert "1 specialist" in page and "Maria Fernández" in page
    page = text(client.get("/freelancers?q=troubleshooting&available=30"))
    assert "1 specialist" in page and "Tom Becker" in page
    page = text(client.get("/freelancers?available=20"))
    assert "2 specialists" in page and "Ana Lopez" not in page


def test_skills_and_languages_are_keywords_and_punctuation_is_ignored(client):
    _profile("Maria Fernández", "Bilingual chat support")       # Zendesk 3, English native (see _profile)
    other = factories.create_freelancer(full_name="Tom Becker")
    make_profile(other, rate=3_000, skills={"intercom": 3}, languages={"de": "native"}, channels=["chat"])
    page = text(client.get("/freelancers?q=Zendesk,+English"))
    assert "1 specialist" in page and "Maria Fernández" in page
    assert "Tom Becker" in text(client.get("/freelancers?q=german"))
    assert "Maria Fernández" in text(client.get("/freelancers?q=FERNÁNDEZ"))


def test_like_wildcards_are_searched_literally_and_short_words_explained(client):
    _profile("Percy Hundred", "100% satisfaction on email")
    _profile("Other Person", "Email support")
    assert "1 specialist" in text(client.get("/freelancers?q=100%25"))
    assert "0 specialists" in text(client.get("/freelancers?q=%25%25%25"))
    page = text(client.get("/freelancers?q=ab"))
    assert "at least 3 letters" in page and "2 specialists" in page
    assert "availability" in text(client.get("/freelancers?available=99"))
