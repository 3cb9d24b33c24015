"""Matching quality on a data set where the right answer is known."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from marketplace.accounts.models import AccountStatus
from marketplace.bidding.models import Bid, Invitation
from marketplace.core.errors import Conflict, Forbidden
from marketplace.core.time import utcnow
from marketplace.core import queue
from marketplace.extensions import db
from marketplace.matching.service import match_for_owner, rank_specialists, recommended_for
from marketplace.notifications.models import Notification
from marketplace.profiles.models import (FreelancerChannel, FreelancerLanguage, FreelancerProfile, FreelancerSkill,
                                         Skill)
from marketplace.profiles.services import refresh_masks
from marketplace.tasks import services as tasks
from tests import factories

TASK_SKILLS = {"tier-2-troubleshooting": 4, "network-troubleshooting": 3}


def specialist(name: str, *, skills=None, languages=None, channels=("phone",), rate=3500, tz="Europe/Madrid",
               hours=30, rating=(0, 0), empathy=(0, 0), status=AccountStatus.ACTIVE):
    user = factories.create_freelancer(full_name=name, status=status)
    profile = db.session.get(FreelancerProfile, user.id)
    profile.headline, profile.hourly_rate, profile.timezone, profile.hours_per_week = name, rate, tz, hours
    profile.rating_sum, profile.rating_count = rating
    profile.empathy_sum, profile.empathy_count = empathy
    by_slug = {s.slug: s.id for s in db.session.scalars(select(Skill))}
    for slug, level in (skills if skills is not None else {"tier-2-troubleshooting": 5,
                                                          "network-troubleshooting": 4}).items():
        db.session.add(FreelancerSkill(freelancer_id=user.id, skill_id=by_slug[slug], level=level))
    for code, level in (languages if languages is not None else {"es": "native", "en": "C1"}).items():
        db.session.add(FreelancerLanguage(freelancer_id=user.id, language=code, proficiency=level))
    for channel in channels:
        db.session.add(FreelancerChannel(freelancer_id=user.id, channel=channel))
    db.session.flush()
    db.session.refresh(profile)
    refresh_masks(profile)  # rows were added directly, as the profile editor would keep them in step
    db.session.flush()
    return user


@pytest.fixture()
def task():
    return factories.create_task(skills=TASK_SKILLS, languages=["es", "en"], channel="phone", pricing="hourly",
                                 budget=None, max_rate=4000, estimated_hours=40, timezone="Europe/Madrid",
                                 work_hours_start=9, work_hours_end=17)


def names(matches):
    return [m.profile.user.full_name for m in matches]


def test_the_complete_specialist_ranks_first_and_each_missing_property_costs_rank(task):
    specialist("Ideal")
    specialist("Missing a required skill", skills={"tier-2-troubleshooting": 5})
    specialist("Below the minimum level", skills={"tier-2-troubleshooting": 2, "network-troubleshooting": 2})
    specialist("Too expensive", rate=9000)
    specialist("Far time zone", tz="Asia/Tokyo")
    ranked = names(rank_specialists(task))
    assert ranked[0] == "Ideal"
    assert set(ranked) == {"Ideal", "Missing a required skill", "Below the minimum level", "Too expensive",
                           "Far time zone"}


def test_hard_filters_are_never_violated(task):
    specialist("Ideal")
    specialist("No Spanish", languages={"en": "native"})
    specialist("Weak Spanish", languages={"es": "A2", "en": "native"})
    specialist("Chat only", channels=("chat",))
    specialist("No hours", hours=0)
    specialist("Suspended", status=AccountStatus.SUSPENDED)
    bidder = specialist("Already bidding")
    db.session.add(Bid(task_id=task.id, freelancer_id=bidder.id, amount=3000, estimated_hours=40, cover_note="hi"))
    db.session.flush()
    assert names(rank_specialists(task)) == ["Ideal"]


def test_bayesian_rating_prefers_many_good_reviews_over_one_perfect(task):
    specialist("One perfect review", rating=(5, 1))
    specialist("Sixty reviews at 4.8", rating=(288, 60))
    specialist("Twenty reviews at 3.0", rating=(60, 20))
    assert names(rank_specialists(task)) == ["Sixty reviews at 4.8", "One perfect review", "Twenty reviews at 3.0"]


def test_empathy_scores_lift_an_otherwise_equal_specialist(task):
    specialist("Plain")
    specialist("Empathetic", empathy=(5 * 5 * 10, 5 * 10))
    specialist("Cold", empathy=(2 * 5 * 10, 5 * 10))
    assert names(rank_specialists(task)) == ["Empathetic", "Plain", "Cold"]


def test_each_result_explains_itself(task):
    specialist("Ideal", rating=(288, 60))
    match, = rank_specialists(task)
    text = match.explanation
    for part in ("covers 2/2 required skills at the levels asked", "native Spanish", "C1 English", "phone",
                 "4.8 stars over 60 reviews", "rate within budget", "8 h time-zone overlap"):
        assert part in text, (part, text)


def test_only_the_owner_of_a_published_task_sees_matches(task):
    other = factories.create_business()
    with pytest.raises(Forbidden):
        match_for_owner(other, task)
    draft = factories.create_task(task.business, status="draft")
    with pytest.raises(Conflict):
        match_for_owner(task.business, draft)


def test_find_specialists_page_explains_and_invites(client, login_as, task):
    ideal = specialist("Ideal Person")
    login_as(task.business)
    page = client.get(f"/tasks/{task.id}/matches").get_data(as_text=True)
    assert "Ideal Person" in page and "Covers 2/2 required skills" in page
    response = client.post(f"/freelancers/{ideal.id}/invite",
                           data={"task_id": task.id, "message": "Hello", "next": f"/tasks/{task.id}/matches"})
    assert response.status_code == 302 and response.headers["Location"] == f"/tasks/{task.id}/matches"
    assert db.session.scalar(select(Invitation).where(Invitation.task_id == task.id,
                                                      Invitation.freelancer_id == ideal.id)) is not None
    assert "Invited" in client.get(f"/tasks/{task.id}/matches").get_data(as_text=True)


def test_strangers_cannot_open_the_matches_page(client, login_as, task):
    login_as(factories.create_business())
    assert client.get(f"/tasks/{task.id}/matches").status_code == 403
    login_as(factories.create_freelancer())
    assert client.get(f"/tasks/{task.id}/matches").status_code in (403, 302)


def test_empty_state_names_the_most_excluding_requirement(client, login_as):
    specialist("Spanish but chat", channels=("chat",))
    task = factories.create_task(skills=TASK_SKILLS, languages=["es"], channel="video")
    login_as(task.business)
    page = client.get(f"/tasks/{task.id}/matches").get_data(as_text=True)
    assert "No specialists match every requirement yet" in page
    assert "0 specialists work on video" in page


def test_publishing_a_match_task_invites_the_top_specialists(app, task):
    for i in range(7):
        specialist(f"Candidate {i}")
    draft = factories.create_task(task.business, status="draft", skills=TASK_SKILLS, languages=["es", "en"],
                                  channel="phone", hiring_mode="match")
    tasks.publish_task(task.business, draft)
    assert db.session.scalar(select(func.count()).select_from(Invitation)) == 0   # not before the commit
    db.session.commit()
    assert queue.run_ready() == 1
    invited = db.session.scalars(select(Invitation).where(Invitation.task_id == draft.id)).all()
    assert len(invited) == app.config["MATCH_AUTO_INVITE"]
    assert all(inv.automatic for inv in invited)
    assert db.session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.kind == "invitation")) >= len(invited)


def test_recommended_tasks_for_a_specialist(client, login_as, task):
    me = specialist("Lucía")
    other = factories.create_task(skills={"zendesk": 3}, languages=["en"], channel="chat", title="Zendesk chat")
    recommended = [t.id for t, _ in recommended_for(me)]
    assert recommended == [task.id] and other.id not in recommended
    login_as(me)
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Recommended for you" in page and task.title in page
    best = client.get("/tasks?sort=best").get_data(as_text=True)
    assert task.title in best


def test_ranking_costs_the_same_queries_for_5_or_50_candidates(task):
    def count(n):
        for i in range(n):
            specialist(f"S{n}-{i}")
        statements = []
        listener = lambda *args: statements.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            db.session.expire_all()
            assert len(rank_specialists(task, limit=100)) >= n
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)
    small = count(5)
    large = count(45)
    assert small == large and small <= 12, (small, large)


def test_editing_a_profile_keeps_the_matching_masks_in_step():
    from marketplace.core.reference import channel_mask, language_mask
    from marketplace.profiles.services import FreelancerProfileData, update_freelancer_profile
    user = factories.create_freelancer()
    profile = db.session.get(FreelancerProfile, user.id)
    update_freelancer_profile(user, profile, FreelancerProfileData(
        headline="x", bio="", hourly_rate=2000, timezone="UTC", hours_per_week=10, channels=["phone", "chat"],
        languages={"es": "native", "fr": "A2"}))
    assert profile.language_mask == language_mask({"es": "native"}) != 0
    assert profile.channel_mask == channel_mask(["chat", "phone"])


def test_recommended_tasks_widen_the_window_until_enough_pass_the_filters(monkeypatch, task):
    """Tasks are ordered by shared required skills a window at a time and checked against the other
    filters a chunk at a time; tasks the filters drop (another channel, here) must not hide ones
    further down."""
    from marketplace.matching import service

    me = specialist("Windowed", skills={"tier-2-troubleshooting": 5, "network-troubleshooting": 4})
    wrong_channel = [factories.create_task(skills=TASK_SKILLS, languages=["es"], channel="video",
                                           title=f"Video {i}") for i in range(4)]
    one_skill = factories.create_task(skills={"network-troubleshooting": 2}, languages=["en"], channel="phone",
                                      title="One shared skill")
    profile = db.session.get(FreelancerProfile, me.id)
    exact = service.candidate_task_ids(profile, 10)
    monkeypatch.setattr(service, "TASK_WINDOW", 3)
    monkeypatch.setattr(service, "TASK_CHUNK", 2)
    assert service.candidate_task_ids(profile, 1) == exact[:1] == [task.id]
    assert service.candidate_task_ids(profile, 2) == exact[:2] == [task.id, one_skill.id]
    assert service.candidate_task_ids(profile, 10) == exact
    assert not {t.id for t in wrong_channel} & set(exact)


def test_recommended_tasks_cost_the_same_queries_for_3_or_30_candidate_tasks(task):
    """Tasks are scored from plain rows; only the ones shown are loaded as tasks, with their
    business's company name (no query per task)."""
    me = specialist("Counted")

    def count(n):
        for i in range(n):
            factories.create_task(skills=TASK_SKILLS, languages=["es"], channel="phone", title=f"Phone {n}-{i}")
        statements = []
        listener = lambda *args: statements.append(1)  # noqa: E731
        db.session.expire_all()
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            recommended = recommended_for(me, limit=3)
            assert len(recommended) == 3
            assert all(t.business.public_name for t, _ in recommended)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements), recommended
    (small, _), (large, recommended) = count(3), count(27)
    # 18 today, whatever the number of candidates; a query per task shown would add three.
    assert small == large <= 18, (small, large)
    scores = [match.score for _, match in recommended]
    assert scores == sorted(scores, reverse=True)


def test_best_match_page_lists_the_ranked_tasks_in_order_as_cards(client, login_as, task):
    from marketplace.matching.service import ranked_task_ids
    me = specialist("Paged")
    for i in range(3):
        factories.create_task(skills={"network-troubleshooting": 2}, languages=["en"], channel="phone",
                              title=f"Partial fit {i}")
    profile = db.session.get(FreelancerProfile, me.id)
    order = [task_id for task_id, _ in ranked_task_ids(profile)]
    assert order[0] == task.id and len(order) == 4
    login_as(me)
    page = client.get("/tasks?sort=best").get_data(as_text=True)
    positions = [page.index(f'/tasks/{task_id}"') for task_id in order]
    assert positions == sorted(positions)
