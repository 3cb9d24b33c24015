"""Anonymous visitors of /tasks get a briefly cached page; logged-in users never do."""
import pytest

from marketplace.extensions import cache
from tests import factories


@pytest.fixture()
def real_cache(app):
    old = app.config["CACHE_TYPE"]
    app.config["CACHE_TYPE"] = "SimpleCache"
    cache.init_app(app)
    cache.clear()
    yield
    cache.clear()
    app.config["CACHE_TYPE"] = old
    cache.init_app(app)


def test_anonymous_listing_is_cached_and_personal_pages_are_not(real_cache, client, login_as):
    first = factories.create_task(title="First cached task")
    assert "First cached task" in client.get("/tasks").get_data(as_text=True)
    factories.create_task(title="Second task appears later")
    stale = client.get("/tasks").get_data(as_text=True)
    assert "Second task appears later" not in stale  # served from the cache
    assert "Second task appears later" in client.get("/tasks?page=1").get_data(as_text=True)  # other key
    login_as(factories.create_freelancer())
    fresh = client.get("/tasks").get_data(as_text=True)
    assert "Second task appears later" in fresh and first.title in fresh
