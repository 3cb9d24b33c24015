"""The home page sells: search, categories, featured specialists, money protection; footer pages exist."""
from __future__ import annotations

from marketplace.extensions import db
from tests import factories
from tests.tasks.helpers import make_profile, text


def test_home_page_has_search_categories_featured_and_protection(client):
    unrated = factories.create_freelancer(full_name="Nora Unrated")
    make_profile(unrated)
    star = factories.create_freelancer(full_name="Maria Star")
    profile = make_profile(star, skills={"zendesk": 4})
    profile.rating_sum, profile.rating_count = 48, 10
    db.session.flush()
    page = text(client.get("/"))
    assert 'action="/freelancers"' in page and 'name="q"' in page
    assert "Support for your industry" in page and 'href="/freelancers?skill=churn-save"' in page
    assert "Maria Star" in page and "Nora Unrated" in page
    assert page.index("Maria Star") < page.index("Nora Unrated")        # rated specialists first
    assert "How your money is protected" in page and "Only your approval releases the money" in page


def test_footer_links_lead_to_real_pages(client, app):
    page = text(client.get("/"))
    for path, heading in (("/terms", "Terms of service"), ("/privacy", "Privacy"), ("/help", "Help and FAQ"),
                          ("/fees", "Fees")):
        assert f'href="{path}"' in page
        body = text(client.get(path))
        assert client.get(path).status_code == 200 and f"<h1 class=\"h3 mb-3\">{heading}</h1>" in body
    fees = text(client.get("/fees"))
    assert "10%" in fees and "$900.00" in fees
    # Hourly contracts aren't funded up front: the page says how they are billed.
    assert "Fixed-price work: you pay the agreed amount up front" in fees
    assert "Nothing is charged when the business hires" in fees
    assert "closes on Monday into one invoice" in fees and "The saved card is charged for it straight away" in fees
    assert "dispute entries until Friday 23:59 UTC" in fees and "From Saturday the payment is released" in fees
    assert "A bonus is charged as soon as the business pays it" in fees and "still unpaid after 72 hours" in fees
    assert client.get("/nothing-here").status_code == 404
