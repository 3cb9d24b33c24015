import pytest
from sqlalchemy import select

from marketplace.accounts.models import AccountStatus
from marketplace.core.errors import Forbidden, ValidationFailed
from marketplace.extensions import db
from marketplace.profiles import services
from marketplace.profiles.models import BusinessProfile, FreelancerProfile, Skill
from tests import factories


def skill_ids(*slugs):
    return [db.session.scalar(select(Skill.id).where(Skill.slug == s)) for s in slugs]


def profile_form(**overrides):
    zendesk, deesc = skill_ids("zendesk", "de-escalation")
    data = {"headline": "Calm Tier-2 troubleshooter", "bio": "I listen first.", "hourly_rate": "35.50",
            "timezone": "Europe/Madrid", "hours_per_week": "25", "preferred_hours": "Mornings",
            "channels": ["chat", "phone"], "languages-0-language": "es", "languages-0-proficiency": "native",
            "languages-1-language": "en", "languages-1-proficiency": "C1",
            f"skill_{zendesk}": "4", f"skill_{deesc}": "5"}
    data.update(overrides)
    return data


def test_taxonomy_is_seeded_with_all_kinds():
    kinds = set(db.session.scalars(select(Skill.kind)))
    assert kinds == {"tool", "technical", "soft", "domain"}
    assert db.session.scalar(select(Skill).where(Skill.slug == "churn-save")).name == "Churn save"


def test_freelancer_fills_profile_and_it_shows_publicly(client, freelancer, login_as):
    login_as(freelancer)
    response = client.post("/profile/edit", data=profile_form())
    assert response.status_code == 302
    profile = db.session.get(FreelancerProfile, freelancer.id)
    db.session.refresh(profile)
    assert profile.hourly_rate == 3550 and profile.timezone == "Europe/Madrid"
    assert profile.channel_codes == ["chat", "phone"]
    assert {(l.language, l.proficiency) for l in profile.languages} == {("es", "native"), ("en", "C1")}
    assert sorted(s.level for s in profile.skills) == [4, 5]
    page = client.get(f"/freelancers/{freelancer.id}").get_data(as_text=True)
    assert "Calm Tier-2 troubleshooter" in page and "Zendesk" in page and "$35.50" in page

    # Editing again replaces the lists rather than adding to them.
    zendesk, = skill_ids("zendesk")
    client.post("/profile/edit", data=profile_form(**{"channels": ["email"], "languages-1-language": "",
                                                      "languages-1-proficiency": "",
                                                      f"skill_{zendesk}": "0"}))
    db.session.expire_all()
    profile = db.session.get(FreelancerProfile, freelancer.id)
    assert profile.channel_codes == ["email"] and [l.language for l in profile.languages] == ["es"]
    assert len(profile.skills) == 1


@pytest.mark.parametrize("overrides, message", [
    ({"hourly_rate": "-5"}, "Between 5.00 and 1,000.00."),
    ({"hourly_rate": "100000"}, "Between 5.00 and 1,000.00."),
    ({"hourly_rate": "abc"}, "Not a valid decimal value."),
    ({"hours_per_week": "200"}, "Between 0 and 80."),
    ({"timezone": "Mars/Olympus"}, "Not a valid choice."),
    ({"channels": ["carrier-pigeon"]}, "is not a valid choice"),
    ({"languages-0-language": "xx"}, "Not a valid choice."),
    ({"languages-1-language": "es"}, "Each language once"),
    ({"languages-1-proficiency": ""}, "Choose your level"),
    ({"headline": ""}, "Add a one-line headline."),
    ({"headline": "h" * 121}, "Field cannot be longer than 120 characters."),
])
def test_bad_profile_input_is_refused_and_changes_nothing(client, freelancer, login_as, overrides, message):
    login_as(freelancer)
    response = client.post("/profile/edit", data=profile_form(**overrides))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    profile = db.session.get(FreelancerProfile, freelancer.id)
    db.session.refresh(profile)
    assert profile.headline == "" and profile.hourly_rate is None and profile.skills == []


def test_tampered_skill_level_is_refused(client, freelancer, login_as):
    login_as(freelancer)
    zendesk, = skill_ids("zendesk")
    response = client.post("/profile/edit", data=profile_form(**{f"skill_{zendesk}": "9"}))
    assert response.status_code == 400 and "Not a valid choice" in response.get_data(as_text=True)


def test_service_refuses_unknown_skill_ids_and_other_peoples_profiles(freelancer):
    profile = db.session.get(FreelancerProfile, freelancer.id)
    data = services.FreelancerProfileData(headline="x", bio="", hourly_rate=2000, timezone="UTC",
                                          hours_per_week=10, skills={999_999: 3})
    with pytest.raises(ValidationFailed, match="not in our list"):
        services.update_freelancer_profile(freelancer, profile, data)
    intruder = factories.create_freelancer()
    data.skills = {}
    with pytest.raises(Forbidden):
        services.update_freelancer_profile(intruder, profile, data)
    business = factories.create_business()
    with pytest.raises(Forbidden):
        services.get_own_freelancer_profile(business)


def test_business_edits_company_profile(client, business, login_as):
    login_as(business)
    response = client.post("/profile/edit", data={"company_name": "Parcelwise", "website": "parcelwise.example.com",
                                                  "industry": "Logistics", "size": "51-200",
                                                  "timezone": "America/Chicago"})
    assert response.status_code == 302
    profile = db.session.get(BusinessProfile, business.id)
    db.session.refresh(profile)
    assert profile.company_name == "Parcelwise" and profile.website == "https://parcelwise.example.com"
    bad = client.post("/profile/edit", data={"company_name": "", "industry": "Piracy", "size": "1-10",
                                             "timezone": "UTC"})
    assert bad.status_code == 400
    assert "Enter your company" in bad.get_data(as_text=True)


def test_public_profile_of_suspended_or_missing_specialist_is_404(client):
    suspended = factories.create_freelancer(status=AccountStatus.SUSPENDED)
    assert client.get(f"/freelancers/{suspended.id}").status_code == 404
    assert client.get("/freelancers/987654").status_code == 404
    business = factories.create_business()
    assert client.get(f"/freelancers/{business.id}").status_code == 404


def test_profile_edit_needs_login(client):
    response = client.get("/profile/edit")
    assert response.status_code == 302 and "/login?next=" in response.headers["Location"]
