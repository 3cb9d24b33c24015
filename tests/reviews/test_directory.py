"""The specialist directory's minimum-rating filter and "best rated" sort, fed by revealed reviews."""
from __future__ import annotations

import re

from sqlalchemy import update

from marketplace.extensions import db
from marketplace.profiles.models import FreelancerProfile
from tests import factories
from tests.reviews.helpers import business_review, ended_engagement, specialist_review
from tests.tasks.helpers import make_profile, plain


def _specialist(name: str, stars: list[int]):
    user = factories.create_freelancer(full_name=name)
    make_profile(user, skills={"zendesk": 3}, languages={"en": "native"}, channels=["chat"])
    for value in stars:
        engagement = ended_engagement(freelancer=user)
        business_review(engagement, stars=value)
        specialist_review(engagement)
    return user


def _names(response) -> list[str]:
    return re.findall(r"(Rated \w+)</a>", response.get_data(as_text=True))


def test_min_rating_filter_and_best_rated_sort(client):
    _specialist("Rated Unreviewed", [])
    _specialist("Rated Low", [1, 2])            # (36 + 3) / 10 = 3.9
    _specialist("Rated High", [5, 5, 5, 5])     # (36 + 20) / 12 = 4.67
    _specialist("Rated Single", [5])            # (36 + 5) / 9 = 4.56

    assert sorted(_names(client.get("/freelancers"))) == ["Rated High", "Rated Low", "Rated Single",
                                                          "Rated Unreviewed"]
    assert _names(client.get("/freelancers?sort=rating")) == ["Rated High", "Rated Single", "Rated Unreviewed",
                                                               "Rated Low"]
    assert sorted(_names(client.get("/freelancers?min_rating=4.5"))) == ["Rated High", "Rated Single"]
    # Unreviewed specialists never pass a rating filter: the prior alone is not a reputation.
    assert sorted(_names(client.get("/freelancers?min_rating=3.5"))) == ["Rated High", "Rated Low", "Rated Single"]
    # 3.9 shows as "3.9"; 4.0 and up leaves it out.
    assert "Rated Low" not in _names(client.get("/freelancers?min_rating=4"))
    page = plain(client.get("/freelancers?sort=rating"))
    assert "4.7 (4 reviews)" in page and "No reviews yet" in page


def test_rating_filter_matches_the_rating_as_displayed(client):
    user = _specialist("Rated Borderline", [])
    # 3.96 is displayed as "4.0", so it belongs under "4.0 and up".
    db.session.execute(update(FreelancerProfile).where(FreelancerProfile.user_id == user.id)
                       .values(rating_sum=91, rating_count=25))  # (36 + 91) / 33 = 3.848
    assert _names(client.get("/freelancers?min_rating=4")) == []
    db.session.execute(update(FreelancerProfile).where(FreelancerProfile.user_id == user.id)
                       .values(rating_sum=94, rating_count=25))  # (36 + 94) / 33 = 3.939 -> "3.9"
    assert _names(client.get("/freelancers?min_rating=4")) == []
    db.session.execute(update(FreelancerProfile).where(FreelancerProfile.user_id == user.id)
                       .values(rating_sum=95, rating_count=25))  # (36 + 95) / 33 = 3.970 -> "4.0"
    assert _names(client.get("/freelancers?min_rating=4")) == ["Rated Borderline"]
    assert "4.0 (25 reviews)" in plain(client.get("/freelancers?min_rating=4"))


def test_bad_rating_and_sort_values_are_ignored_with_a_message(client):
    _specialist("Rated Someone", [4])
    response = client.get("/freelancers?min_rating=9&sort=cheapest")
    assert response.status_code == 200
    page = plain(response)
    assert "Unknown minimum rating ignored." in page and "Unknown sort ignored." in page
    assert _names(response) == ["Rated Someone"]
