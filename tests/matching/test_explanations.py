"""Match explanations say what is true: rate against the hours a fixed task needs, partial matches,
the level actually asked, and the same rating the profile and the directory show."""
from __future__ import annotations

from datetime import timedelta

from marketplace.core.time import utcnow
from marketplace.matching.service import rank_specialists
from marketplace.reviews.services import bayesian_rating
from tests import factories
from tests.matching.test_ranking import specialist
from tests.tasks.helpers import plain, sign_in


def _fixed_task(budget: int, days: int, hours_a_day: int, skills=None):
    start = utcnow().date() + timedelta(days=7)
    return factories.create_task(skills=skills or {"tier-2-troubleshooting": 4}, languages=["es"], channel="phone",
                                 pricing="fixed", budget=budget, timezone="Europe/Madrid", work_hours_start=9,
                                 work_hours_end=9 + hours_a_day, start_date=start,
                                 end_date=start + timedelta(days=days - 1))


def test_a_fixed_budget_is_checked_against_the_hours_the_task_needs():
    # $900 for 9 days of 4 h (36 h) at $42/h: the budget pays for 21 h, not "within budget".
    task = _fixed_task(90_000, days=9, hours_a_day=4)
    assert task.needed_hours == 36
    specialist("Costly", rate=4_200)
    [match] = rank_specialists(task)
    assert "rate within budget" not in match.explanation
    assert "budget covers 21 of 36 h at their rate" in match.explanation
    assert match.parts["rate_fit"] < 1

    cheap_task = _fixed_task(200_000, days=9, hours_a_day=4)   # $2,000 covers 36 h at $42
    [match] = rank_specialists(cheap_task)
    assert "rate within budget" in match.explanation and match.parts["rate_fit"] == 1.0


def test_a_specialist_missing_required_skills_is_labelled_a_partial_match():
    task = _fixed_task(500_000, days=2, hours_a_day=8,
                       skills={"tier-2-troubleshooting": 4, "network-troubleshooting": 4})
    specialist("Partial", skills={"tier-2-troubleshooting": 2})   # holds one, below the level asked
    [match] = rank_specialists(task)
    assert match.partial
    assert match.explanation.startswith("partial match: covers 0/2 required skills at level 4+")


def test_the_level_in_the_explanation_is_the_level_asked():
    task = _fixed_task(500_000, days=2, hours_a_day=8, skills={"tier-2-troubleshooting": 4})
    specialist("Exact", skills={"tier-2-troubleshooting": 4})
    [match] = rank_specialists(task)
    assert not match.partial
    assert "covers 1/1 required skill at level 4+" in match.explanation
    assert "level 3+" not in match.explanation


def test_matches_profile_and_directory_show_one_rating(client):
    task = _fixed_task(500_000, days=2, hours_a_day=8)
    user = specialist("Rated", rating=(5, 1))        # one 5-star review
    shown = f"{bayesian_rating(5, 1):.1f}"
    assert shown != "5.0"
    [match] = rank_specialists(task)
    assert f"{shown} stars over 1 review" in match.explanation
    sign_in(client, factories.create_business())
    assert shown in plain(client.get(f"/freelancers/{user.id}"))
    assert shown in plain(client.get("/freelancers"))
