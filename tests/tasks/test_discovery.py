"""Finding work (/tasks) and finding people (/freelancers): what is listed, filters, sorting, paging."""
from __future__ import annotations

from datetime import timedelta

import pytest

from marketplace.accounts.models import AccountStatus
from marketplace.core.time import utcnow
from marketplace.extensions import db
from marketplace.tasks.search import TaskQuery, search_tasks
from tests import factories
from tests.tasks.helpers import make_profile, text


def titles_in(page: str, titles) -> list[str]:
    """The given titles that appear on the page, in the order they appear."""
    found = [(page.index(t), t) for t in titles if t in page]
    return [t for _, t in sorted(found)]


@pytest.fixture()
def per_page(app):
    old = app.config["TASKS_PER_PAGE"]

    def _set(n: int):
        app.config["TASKS_PER_PAGE"] = n
    yield _set
    app.config["TASKS_PER_PAGE"] = old


# --- what is listed ------------------------------------------------------------------------

def test_only_open_approved_tasks_of_active_businesses_are_listed(client, business):
    factories.create_task(business, title="Listed open task")
    factories.create_task(business, status="draft", title="Hidden draft task")
    factories.create_task(business, status="cancelled", title="Hidden cancelled task")
    factories.create_task(business, status="in_progress", filled_seats=1, title="Hidden in progress task")
    factories.create_task(business, status="completed", filled_seats=1, title="Hidden completed task")
    factories.create_task(business, status="removed", title="Hidden removed task")
    factories.create_task(business, moderation_status="pending_review", title="Hidden pending review task")
    factories.create_task(business, moderation_status="rejected", title="Hidden rejected task")
    suspended = factories.create_business(status=AccountStatus.SUSPENDED)
    factories.create_task(suspended, title="Hidden task of a suspended business")

    page = text(client.get("/tasks"))
    assert "Listed open task" in page
    assert "Hidden" not in page
    assert "1 open task" in page


def test_empty_listing_says_so(client):
    response = client.get("/tasks")
    assert response.status_code == 200
    assert "No open tasks match these filters" in text(response)


# --- text search ---------------------------------------------------------------------------

@pytest.fixture()
def searchable(business):
    factories.create_task(business, title="Home routers onboarding",
                          description="Walk customers through firmware updates on the phone.")
    factories.create_task(business, title="Office Wi-Fi help desk",
                          description="Troubleshoot routers and cabling for small offices.")
    factories.create_task(business, title="Billing disputes queue",
                          description="Handle refunds and chargebacks with empathy.")


ALL = ["Home routers onboarding", "Office Wi-Fi help desk", "Billing disputes queue"]


@pytest.mark.parametrize("q, expected", [
    ("router", ["Home routers onboarding", "Office Wi-Fi help desk"]),        # title and description, stemmed
    ("ROUTER", ["Home routers onboarding", "Office Wi-Fi help desk"]),        # case does not matter
    ("router firmware", ["Home routers onboarding"]),                          # every word must match
    ("chargebacks", ["Billing disputes queue"]),                               # a description-only word
    ("spaceship", []),
])
def test_q_matches_title_and_description_words(client, searchable, q, expected):
    page = text(client.get("/tasks", query_string={"q": q}))
    assert sorted(titles_in(page, ALL)) == sorted(expected)
    assert f"{len(expected)} open task" in page


@pytest.mark.parametrize("q", ["50% off_", "\\ ' \" : & | ! ( ) <script>", "-router", "or or or", "a" * 300])
def test_odd_search_text_never_fails(client, searchable, q):
    response = client.get("/tasks", query_string={"q": q})
    assert response.status_code == 200
    assert "<script>" not in response.get_data(as_text=True).split("</form>")[-1]


def test_search_ignores_the_case_of_letters_in_words_with_accents_too(business):
    """Both databases fold A-Z; SQLite (without ICU) leaves the case of accented letters as typed."""
    factories.create_task(business, title="Soporte de atención al cliente", description="Chat en español.")
    factories.create_task(business, title="Billing disputes queue", description="Refunds.")
    for q in ("SOPORTE atención", "ATENCIóN", "Atención ESPAñOL", "soporte"):
        page = search_tasks(TaskQuery(q=q))
        assert [t.title for t in page.items] == ["Soporte de atención al cliente"], q


def test_search_service_applies_the_same_text_filter(searchable):
    page = search_tasks(TaskQuery(q="firmware"))
    assert [t.title for t in page.items] == ["Home routers onboarding"]


# --- filters ------------------------------------------------------------------------------

@pytest.fixture()
def catalogue(business):
    factories.create_task(business, title="Zendesk chat in English", skills={"zendesk": 3}, languages=["en"],
                          channel="chat", budget=30_000)
    factories.create_task(business, title="Intercom email in Spanish", skills={"intercom": 2}, languages=["es"],
                          channel="email", budget=90_000)
    factories.create_task(business, title="Hourly phone support", skills={"zendesk": 1, "de-escalation": 4},
                          languages=["en", "es"], channel="phone", pricing="hourly", budget=None, max_rate=3_000,
                          estimated_hours=40)   # ceiling 1,200.00


CATALOGUE = ["Zendesk chat in English", "Intercom email in Spanish", "Hourly phone support"]


@pytest.mark.parametrize("args, expected", [
    ({"skill": "zendesk"}, ["Zendesk chat in English", "Hourly phone support"]),
    ({"skill": "de-escalation"}, ["Hourly phone support"]),
    ({"language": "es"}, ["Intercom email in Spanish", "Hourly phone support"]),
    ({"language": "fr"}, []),
    ({"channel": "email"}, ["Intercom email in Spanish"]),
    ({"pricing": "hourly"}, ["Hourly phone support"]),
    ({"pricing": "fixed"}, ["Zendesk chat in English", "Intercom email in Spanish"]),
    ({"budget_min": "800"}, ["Intercom email in Spanish", "Hourly phone support"]),
    ({"budget_max": "1000"}, ["Zendesk chat in English", "Intercom email in Spanish"]),
    ({"budget_min": "800", "budget_max": "1000"}, ["Intercom email in Spanish"]),
    ({"budget_min": "1200", "budget_max": "1200"}, ["Hourly phone support"]),   # hourly: rate x hours
    ({"budget_min": "300.01"}, ["Intercom email in Spanish", "Hourly phone support"]),
    ({"skill": "zendesk", "language": "es", "pricing": "hourly"}, ["Hourly phone support"]),
    ({"skill": "zendesk", "channel": "email"}, []),
])
def test_filters(client, catalogue, args, expected):
    response = client.get("/tasks", query_string=args)
    assert response.status_code == 200
    page = text(response)
    assert sorted(titles_in(page, CATALOGUE)) == sorted(expected)
    assert "ignored" not in page


def test_sort_by_budget_uses_the_total_ceiling(client, catalogue):
    page = text(client.get("/tasks?sort=budget"))
    assert titles_in(page, CATALOGUE) == ["Hourly phone support", "Intercom email in Spanish",
                                          "Zendesk chat in English"]


def test_default_sort_is_newest_first(client, business):
    now = utcnow()
    for days, title in ((3, "Oldest post"), (1, "Newest post"), (2, "Middle post")):
        factories.create_task(business, title=title).published_at = now - timedelta(days=days)
    db.session.flush()
    assert titles_in(text(client.get("/tasks")), ["Oldest post", "Newest post", "Middle post"]) == \
        ["Newest post", "Middle post", "Oldest post"]


# --- paging -------------------------------------------------------------------------------

def test_pagination(client, business, per_page):
    per_page(2)
    now = utcnow()
    titles = [f"Paged task number {n:02d}" for n in range(5)]
    for n, title in enumerate(titles):
        factories.create_task(business, title=title).published_at = now - timedelta(minutes=n)
    db.session.flush()

    first = text(client.get("/tasks"))
    assert titles_in(first, titles) == titles[:2] and "Page 1 of 3" in first and "5 open tasks" in first
    assert titles_in(text(client.get("/tasks?page=2")), titles) == titles[2:4]
    assert titles_in(text(client.get("/tasks?page=3")), titles) == titles[4:]
    # Past the last page: the last page there is, never "Page 99 of 3" over an empty list.
    beyond = client.get("/tasks?page=99&q=Paged")
    assert beyond.status_code == 302 and beyond.headers["Location"].endswith("/tasks?page=3&q=Paged")
    last = text(client.get(beyond.headers["Location"]))
    assert titles_in(last, titles) == titles[4:] and "No open tasks match" not in last
    for odd in ("abc", "-3", "0", ""):
        response = client.get(f"/tasks?page={odd}")
        assert response.status_code == 200 and titles_in(text(response), titles) == titles[:2], odd


def test_pager_links_keep_the_filters(client, business, per_page):
    per_page(1)
    for n in range(2):
        factories.create_task(business, title=f"Chat task {n}", channel="chat")
    page = text(client.get("/tasks?channel=chat"))
    assert "channel=chat" in page and "page=2" in page


# --- bad filter values are dropped with a message, never a 500 ------------------------------------

BUDGET_MIN_IGNORED = "Minimum budget must be an amount between 0 and 10,000,000; it was ignored."
BUDGET_MAX_IGNORED = "Maximum budget must be an amount between 0 and 10,000,000; it was ignored."

@pytest.mark.parametrize("args, message", [
    ({"skill": "underwater-welding"}, "Unknown skill ignored."),
    ({"language": "xx"}, "Unknown language ignored."),
    ({"channel": "fax"}, "Unknown channel ignored."),
    ({"pricing": "barter"}, "Unknown pricing ignored."),
    ({"sort": "random"}, "Unknown sort ignored."),
    ({"timezone": "Mars/Olympus_Mons"}, "Unknown time zone ignored."),
    ({"budget_min": "abc"}, BUDGET_MIN_IGNORED),
    ({"budget_min": "NaN"}, BUDGET_MIN_IGNORED),
    ({"budget_min": "Infinity"}, BUDGET_MIN_IGNORED),
    ({"budget_min": "99999999999999999999"}, BUDGET_MIN_IGNORED),     # beyond any SQL integer
    ({"budget_max": "-5"}, BUDGET_MAX_IGNORED),
    ({"budget_max": "1.234"}, BUDGET_MAX_IGNORED),
    ({"budget_max": "1e30"}, BUDGET_MAX_IGNORED),
])
def test_unknown_filter_values_are_ignored_with_a_message(client, catalogue, args, message):
    response = client.get("/tasks", query_string=args)
    assert response.status_code == 200
    page = text(response)
    assert message in page
    assert sorted(titles_in(page, CATALOGUE)) == sorted(CATALOGUE)   # the bad filter filtered nothing


def test_budget_filter_at_the_upper_bound_is_used(client, catalogue):
    page = text(client.get("/tasks?budget_max=10000000"))
    assert "ignored" not in page and sorted(titles_in(page, CATALOGUE)) == sorted(CATALOGUE)


@pytest.mark.parametrize("page_number", ["99999999999999999999", "10001", "-99999999999999999999"])
def test_out_of_range_page_numbers_do_not_crash(client, catalogue, page_number):
    response = client.get("/tasks", query_string={"page": page_number}, follow_redirects=True)
    assert response.status_code == 200
    listed = titles_in(text(response), CATALOGUE)
    # Past the end: the last page (here the only one), as the first page is for numbers below 1.
    assert listed == titles_in(text(client.get("/tasks")), CATALOGUE)


# --- the specialist directory ----------------------------------------------------------------------

@pytest.fixture()
def specialists():
    people = {}

    def person(name, **profile):
        user = factories.create_freelancer(full_name=name)
        make_profile(user, **profile)
        people[name] = user
        return user

    person("Alma Zendesk-Expert", rate=2_500, skills={"zendesk": 4, "de-escalation": 3},
           languages={"es": "C1", "en": "native"}, channels=["chat"])
    person("Bruno Zendesk-Novice", rate=4_000, skills={"zendesk": 2}, languages={"es": "B1", "en": "B2"},
           channels=["phone"])
    person("Chiara Intercom-Native", rate=6_000, skills={"intercom": 5}, languages={"es": "native"},
           channels=["chat", "email"])
    # Never listed: no headline, no rate, suspended.
    person("Dario No-Headline", headline="", rate=2_000, skills={"zendesk": 5}, languages={"es": "native"},
           channels=["chat"])
    person("Elena No-Rate", rate=None, skills={"zendesk": 5}, languages={"es": "native"}, channels=["chat"])
    suspended = person("Fabio Suspended", rate=2_000, skills={"zendesk": 5}, languages={"es": "native"},
                       channels=["chat"])
    suspended.status = AccountStatus.SUSPENDED
    db.session.flush()
    return people


PEOPLE = ["Alma Zendesk-Expert", "Bruno Zendesk-Novice", "Chiara Intercom-Native", "Dario No-Headline",
          "Elena No-Rate", "Fabio Suspended"]


@pytest.mark.parametrize("args, expected", [
    ({}, ["Alma Zendesk-Expert", "Bruno Zendesk-Novice", "Chiara Intercom-Native"]),
    ({"skill": "zendesk"}, ["Alma Zendesk-Expert", "Bruno Zendesk-Novice"]),
    ({"skill": "zendesk", "min_level": "3"}, ["Alma Zendesk-Expert"]),
    ({"skill": "zendesk", "min_level": "5"}, []),
    ({"skill": "intercom", "min_level": "5"}, ["Chiara Intercom-Native"]),
    ({"language": "es"}, ["Alma Zendesk-Expert", "Chiara Intercom-Native"]),        # B1 is below B2
    ({"language": "en"}, ["Alma Zendesk-Expert", "Bruno Zendesk-Novice"]),         # B2 counts
    ({"channel": "chat"}, ["Alma Zendesk-Expert", "Chiara Intercom-Native"]),
    ({"channel": "email"}, ["Chiara Intercom-Native"]),
    ({"rate_max": "40"}, ["Alma Zendesk-Expert", "Bruno Zendesk-Novice"]),
    ({"rate_max": "39.99"}, ["Alma Zendesk-Expert"]),
    ({"skill": "zendesk", "language": "es", "channel": "chat", "rate_max": "30"}, ["Alma Zendesk-Expert"]),
])
def test_directory_filters(client, specialists, args, expected):
    response = client.get("/freelancers", query_string=args)
    assert response.status_code == 200
    page = text(response)
    assert sorted(titles_in(page, PEOPLE)) == sorted(expected)
    assert f"{len(expected)} specialist" in page
    assert "ignored" not in page


RATE_IGNORED = "Maximum rate must be a positive amount up to 1,000,000; it was ignored."


@pytest.mark.parametrize("args, message", [
    ({"skill": "underwater-welding"}, "Unknown skill ignored."),
    ({"language": "xx"}, "Unknown language ignored."),
    ({"channel": "pigeon"}, "Unknown channel ignored."),
    ({"rate_max": "abc"}, RATE_IGNORED),
    ({"rate_max": "0"}, RATE_IGNORED),
    ({"rate_max": "99999999999999999999"}, RATE_IGNORED),
    ({"rate_max": "Infinity"}, RATE_IGNORED),
])
def test_directory_ignores_unknown_values_with_a_message(client, specialists, args, message):
    response = client.get("/freelancers", query_string=args)
    assert response.status_code == 200
    page = text(response)
    assert message in page
    assert sorted(titles_in(page, PEOPLE)) == ["Alma Zendesk-Expert", "Bruno Zendesk-Novice",
                                               "Chiara Intercom-Native"]


@pytest.mark.parametrize("level, expected", [
    ("9", []),                                              # clamped to 5: nobody has Zendesk at 5
    ("99999999999999999999", []),
    ("0", ["Alma Zendesk-Expert", "Bruno Zendesk-Novice"]),   # clamped to 1
    ("-2", ["Alma Zendesk-Expert", "Bruno Zendesk-Novice"]),
    ("abc", ["Alma Zendesk-Expert", "Bruno Zendesk-Novice"]),
])
def test_directory_level_outside_1_to_5_is_clamped(client, specialists, level, expected):
    response = client.get("/freelancers", query_string={"skill": "zendesk", "min_level": level})
    assert response.status_code == 200
    assert sorted(titles_in(text(response), PEOPLE)) == expected


@pytest.mark.parametrize("page_number", ["99999999999999999999", "-5", "abc"])
def test_directory_odd_page_numbers_do_not_crash(client, specialists, page_number):
    assert client.get("/freelancers", query_string={"page": page_number}).status_code == 200
