"""A card on file: saved and replaced through Stripe Checkout in setup mode (fake Stripe, real SDK, signed
webhooks) and through the sandbox's test-card page."""
from __future__ import annotations

from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.payments.models import BillingProfile
from marketplace.payments.off_session import has_saved_method, saved_method_for, setup_url
from tests import factories
from tests.payments.conftest import post_event


def _profiles(user) -> int:
    return db.session.scalar(select(func.count()).select_from(BillingProfile).where(BillingProfile.user_id == user.id))


# --- sandbox ------------------------------------------------------------------------------------------

def test_sandbox_save_and_replace_a_test_card(client, login_as, business):
    login_as(business)
    page = client.get("/billing").get_data(as_text=True)
    assert "No card saved yet" in page and "Save a card" in page
    assert not has_saved_method(business.id) and setup_url(business) == "/billing"

    response = client.post("/billing/card")
    assert response.status_code == 302 and response.location.endswith("/billing/sandbox-card")
    sandbox = client.get("/billing/sandbox-card").get_data(as_text=True)
    assert "test mode" in sandbox.lower() and "Save a card that needs authentication" in sandbox

    response = client.post("/billing/sandbox-card", data={"behaviour": "succeeds"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "Test card Visa ending 4242 saved (test mode)." in page
    card = saved_method_for(business.id)
    assert (card.provider, card.brand, card.last4, card.sandbox_behaviour) == ("sandbox", "visa", "4242", "succeeds")
    assert (card.exp_month, card.exp_year, card.replaced_at) == (12, 2034, None)
    assert "ending <span" in page and ">4242<" in page and "Replace card" in page
    first_id = card.payment_method_id

    response = client.post("/billing/sandbox-card", data={"behaviour": "declined"}, follow_redirects=True)
    assert "replacing your previous card" in response.get_data(as_text=True)
    db.session.expire_all()
    card = saved_method_for(business.id)
    assert (card.last4, card.sandbox_behaviour) == ("0341", "declined")
    assert card.payment_method_id != first_id and card.replaced_at is not None
    assert _profiles(business) == 1


def test_a_made_up_test_card_is_refused_and_changes_nothing(client, login_as, business):
    login_as(business)
    response = client.post("/billing/sandbox-card", data={"behaviour": "steal"}, follow_redirects=True)
    assert "Choose one of the test cards." in response.get_data(as_text=True)
    assert _profiles(business) == 0


def test_specialists_have_no_billing_page_and_cannot_save_a_card(client, login_as, freelancer):
    login_as(freelancer)
    assert client.get("/billing").status_code == 403
    assert client.get("/billing.csv").status_code == 403
    assert client.post("/billing/card").status_code == 403
    assert client.post("/billing/sandbox-card", data={"behaviour": "succeeds"}).status_code == 403
    assert _profiles(freelancer) == 0


def test_the_billing_link_is_in_the_businesses_navigation(client, login_as, business, freelancer):
    login_as(business)
    assert 'href="/billing"' in client.get("/billing").get_data(as_text=True)
    client.post("/logout")
    login_as(freelancer)
    assert 'href="/billing"' not in client.get("/engagements").get_data(as_text=True)


# --- Stripe -------------------------------------------------------------------------------------------

def _start_setup(client, fake) -> dict:
    response = client.post("/billing/card")
    assert response.status_code == 303 and response.location.startswith("https://checkout.stripe.test/c/setup/cs_")
    return fake.objects[response.location.rsplit("/", 1)[1]]


def test_stripe_setup_session_then_webhook_saves_the_card_as_the_customers_default(client, login_as, fake_stripe,
                                                                                    business):
    login_as(business)
    session = _start_setup(client, fake_stripe)
    [customer_call] = fake_stripe.calls("POST", "/v1/customers")
    assert customer_call["params"]["metadata[user_id]"] == str(business.id)
    assert customer_call["key"].endswith(f"customer:user_{business.id}")
    [session_call] = fake_stripe.calls("POST", "/v1/checkout/sessions")
    params = session_call["params"]
    assert (params["mode"], params["allowed_payment_method_types[0]"]) == ("setup", "card")
    assert params["customer"] == session["customer"] and params["customer"].startswith("cus_")
    assert params["setup_intent_data[metadata][user_id]"] == str(business.id)
    assert "line_items[0][price_data][currency]" not in params
    assert not has_saved_method(business.id)  # nothing until Stripe says the card is saved

    returned = client.get("/billing/card/saved?session_id=" + session["id"], follow_redirects=True)
    assert "confirming your card" in returned.get_data(as_text=True)

    event = fake_stripe.complete_setup(session["id"], brand="mastercard", last4="4444", exp_month=3, exp_year=2031)
    response = post_event(client, event)
    assert response.status_code == 200 and response.json["outcome"] == "card saved"
    db.session.expire_all()
    card = saved_method_for(business.id)
    pm = fake_stripe.objects[fake_stripe.objects[session["setup_intent"]]["payment_method"]]
    assert (card.provider, card.customer_id, card.payment_method_id) == ("stripe", session["customer"], pm["id"])
    assert (card.brand, card.last4, card.exp_month, card.exp_year) == ("mastercard", "4444", 3, 2031)
    assert fake_stripe.objects[session["customer"]]["invoice_settings"]["default_payment_method"] == pm["id"]
    assert "Mastercard" in client.get("/billing").get_data(as_text=True)

    # Stripe delivers the event again: acknowledged, nothing changes.
    assert post_event(client, event).json["outcome"] == "duplicate"


def test_coming_back_from_checkout_saves_the_card_before_the_webhook(client, login_as, fake_stripe, business):
    login_as(business)
    session = _start_setup(client, fake_stripe)
    event = fake_stripe.complete_setup(session["id"], last4="1881")   # Stripe's event is still on its way
    page = client.get(f"/billing/card/saved?session_id={session['id']}", follow_redirects=True)
    assert "Card saved: Visa ending 1881." in page.get_data(as_text=True)
    card = saved_method_for(business.id)
    assert card.last4 == "1881"
    assert fake_stripe.objects[session["customer"]]["invoice_settings"]["default_payment_method"] == \
        card.payment_method_id
    assert post_event(client, event).json["outcome"] == "ignored: card already saved"


def test_a_checkout_session_of_another_business_saves_nothing(client, login_as, fake_stripe, business):
    other = factories.create_business()
    login_as(other)
    theirs = _start_setup(client, fake_stripe)
    fake_stripe.complete_setup(theirs["id"])
    client.post("/logout")
    login_as(business)
    _start_setup(client, fake_stripe)
    page = client.get(f"/billing/card/saved?session_id={theirs['id']}", follow_redirects=True)
    assert "confirming your card" in page.get_data(as_text=True)
    assert not has_saved_method(business.id) and not has_saved_method(other.id)


def test_replacing_the_card_keeps_the_customer_and_detaches_the_old_card(client, login_as, fake_stripe, business):
    login_as(business)
    first = _start_setup(client, fake_stripe)
    assert post_event(client, fake_stripe.complete_setup(first["id"])).json["outcome"] == "card saved"
    old_pm = saved_method_for(business.id).payment_method_id

    second = _start_setup(client, fake_stripe)
    assert second["customer"] == first["customer"]
    assert len(fake_stripe.calls("POST", "/v1/customers")) == 1 + 1  # create, then the default card update
    response = post_event(client, fake_stripe.complete_setup(second["id"], last4="3184"))
    assert response.json["outcome"] == "card saved"
    db.session.expire_all()
    card = saved_method_for(business.id)
    assert card.last4 == "3184" and card.payment_method_id != old_pm and card.replaced_at is not None
    assert card.detach_pending is None
    assert fake_stripe.objects[old_pm]["customer"] is None          # detached at Stripe
    assert len(fake_stripe.calls("POST", f"/v1/payment_methods/{old_pm}/detach")) == 1
    assert fake_stripe.objects[first["customer"]]["invoice_settings"]["default_payment_method"] == \
        card.payment_method_id
    assert _profiles(business) == 1


def test_a_replaced_card_stripe_failed_to_detach_is_detached_by_the_job(client, login_as, fake_stripe, business):
    from marketplace.payments.saved_methods import finish_due
    login_as(business)
    first = _start_setup(client, fake_stripe)
    post_event(client, fake_stripe.complete_setup(first["id"]))
    old_pm = saved_method_for(business.id).payment_method_id
    second = _start_setup(client, fake_stripe)
    fake_stripe.network_error_next(f"/v1/payment_methods/{old_pm}/detach", times=3)
    assert post_event(client, fake_stripe.complete_setup(second["id"])).json["outcome"] == "card saved"
    db.session.expire_all()
    assert saved_method_for(business.id).detach_pending == old_pm
    assert fake_stripe.objects[old_pm]["customer"] is not None
    assert finish_due() == 1
    db.session.expire_all()
    assert saved_method_for(business.id).detach_pending is None and fake_stripe.objects[old_pm]["customer"] is None
    assert finish_due() == 0


def test_a_setup_event_for_another_customer_is_not_stored_on_this_business(client, login_as, fake_stripe, business):
    other = factories.create_business()
    login_as(business)
    session = _start_setup(client, fake_stripe)
    event = fake_stripe.complete_setup(session["id"])
    event["data"]["object"]["metadata"]["user_id"] = str(other.id)  # points at a business with no Stripe profile
    assert post_event(client, event).json["outcome"].startswith("ignored")
    assert not has_saved_method(business.id) and not has_saved_method(other.id)
