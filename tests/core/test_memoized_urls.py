"""Template links remembered per endpoint (core/urls.memoized_url_for) stay what url_for says."""
from __future__ import annotations

from flask import url_for

from marketplace.core.urls import memoized_url_for


def test_remembered_links_match_url_for_and_follow_the_script_root(app):
    for script_root in ("", "/market"):
        with app.test_request_context("/", base_url=f"http://localhost{script_root}"):
            for endpoint, values in (("web.index", {}), ("tasks.browse", {}), ("static", {"filename": "app.css"}),
                                     ("tasks.show", {"task_id": 7}), ("tasks.browse", {"page": 2})):
                assert memoized_url_for(endpoint, **values) == url_for(endpoint, **values)
                assert memoized_url_for(endpoint, **values).startswith(script_root + "/")


def test_outside_a_request_it_is_url_for(app):
    app.config["SERVER_NAME"] = "example.org"
    try:
        with app.app_context():
            assert memoized_url_for("web.index") == "http://example.org/"
    finally:
        app.config["SERVER_NAME"] = None
