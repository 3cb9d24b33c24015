"""A business's payment method on file: saving, replacing and reading it.

With Stripe the business saves a card through Checkout in `setup` mode on
their Customer (created once, before the first session). The card is stored
when `checkout.session.completed` (mode `setup`) arrives, or when the
business comes back from Checkout, whichever is first (both are idempotent):
the SetupIntent names the PaymentMethod, whose card brand, last four digits
and expiry are what we keep. Without a Stripe key the sandbox's "save a test
card" page stores a test card whose behaviour (succeeds, needs
authentication, declined) lets every off-session outcome be tried in a browser.

Saving again replaces the card; the replaced PaymentMethod is detached at
Stripe after the commit (`finish_at_gateway`). Functions flush; the caller
commits, except where a docstring says otherwise.
"""
from __future__ import annotations

import logging
from uuid import uuid4

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from marketplace.accounts.models import User
from marketplace.core.errors import Conflict, Forbidden, ValidationFailed
from marketplace.core.time import utcnow
from marketplace.extensions import db
from marketplace.payments.gateway import SANDBOX_CARDS, GatewayError, SavedCard, get_gateway, uses_stripe
from marketplace.payments.models import BillingProfile

log = logging.getLogger(__name__)

BILLING_PATH = "/billing"
SANDBOX_EXPIRY = (12, 2034)


# --- reading ---------------------------------------------------------------------------------------

def billing_profile_of(user_id: int) -> BillingProfile | None:
    return db.session.scalar(select(BillingProfile).where(BillingProfile.user_id == user_id))


def saved_method_for(user_id: int) -> BillingProfile | None:
    """The business's card on file (a BillingProfile with a payment method), or None."""
    profile = billing_profile_of(user_id)
    return profile if profile is not None and profile.has_card else None


def has_saved_method(user_id: int) -> bool:
    return saved_method_for(user_id) is not None


def setup_url(user: User) -> str:
    """Where the business saves or replaces its card: the billing page (a site path, for links and emails)."""
    return BILLING_PATH


def _require_business(actor: User) -> None:
    if not actor.is_business:
        raise Forbidden("Only businesses keep a card on file.")
    from marketplace.engagements.transitions import _require_active_user
    _require_active_user(actor)


# --- saving ----------------------------------------------------------------------------------------

def ensure_profile(actor: User, provider: str) -> BillingProfile:
    """The business's billing profile for this provider, created once (user_id is unique)."""
    _require_business(actor)
    profile = billing_profile_of(actor.id)
    if profile is None:
        profile = BillingProfile(user_id=actor.id, provider=provider)
        try:
            with db.session.begin_nested():
                db.session.add(profile)
        except IntegrityError:  # another tab created it first
            profile = billing_profile_of(actor.id)
    elif profile.provider != provider:
        # The platform moved from the sandbox to Stripe (or back): a test card can't be charged at Stripe.
        _forget_card(profile)
        profile.provider, profile.customer_id = provider, None
        db.session.flush()
    return profile


def attach_customer(profile: BillingProfile, customer_id: str | None) -> None:
    if profile.customer_id is None and customer_id:
        profile.customer_id = customer_id
        db.session.flush()


def _forget_card(profile: BillingProfile) -> None:
    if profile.payment_method_id and profile.provider == "stripe":
        profile.detach_pending = profile.payment_method_id
    profile.payment_method_id = None
    profile.brand, profile.last4, profile.exp_month, profile.exp_year = "", "", None, None


def _store(profile: BillingProfile, card: SavedCard, *, behaviour: str = "succeeds") -> bool:
    """Put `card` on the profile (replacing any other). False when it is already the card on file."""
    if profile.payment_method_id == card.payment_method_id:
        return False
    now = utcnow()
    if profile.payment_method_id is not None:
        if profile.provider == "stripe":
            profile.detach_pending = profile.payment_method_id
        profile.replaced_at = now
    profile.payment_method_id = card.payment_method_id
    profile.brand, profile.last4 = card.brand, card.last4
    profile.exp_month, profile.exp_year = card.exp_month, card.exp_year
    profile.sandbox_behaviour = behaviour
    profile.saved_at = now
    db.session.flush()
    return True


def save_sandbox_card(actor: User, behaviour: str) -> BillingProfile:
    """Test mode: store a test card. `behaviour` is what an off-session charge on it will do."""
    if behaviour not in SANDBOX_CARDS:
        raise ValidationFailed("Choose one of the test cards.", field="behaviour")
    profile = ensure_profile(actor, "sandbox")
    if profile.provider != "sandbox":
        raise Conflict("Card payments go through Stripe here; test cards are for test mode only.")
    brand, last4 = SANDBOX_CARDS[behaviour]
    # A new id per save, as Stripe gives each saved card its own PaymentMethod.
    _store(profile, SavedCard(f"sbx_pm_{uuid4().hex}", brand, last4, *SANDBOX_EXPIRY), behaviour=behaviour)
    return profile


def record_setup(user_id: int, setup_intent_id: str, customer_id: str | None) -> str:
    """A Checkout session in setup mode completed: store the card its SetupIntent saved. Idempotent.

    Asks Stripe for the SetupIntent (the event names it; the card details live on its PaymentMethod).
    Returns the outcome for the webhook log. Flush only; call `finish_at_gateway` after the commit.
    """
    profile = billing_profile_of(user_id)
    if profile is None or profile.provider != "stripe":
        return "ignored: no billing profile for this customer"
    if customer_id and profile.customer_id and customer_id != profile.customer_id:
        return "ignored: the session's customer is not this business's"
    card = get_gateway().card_from_setup_intent(setup_intent_id)
    if card.customer_id and profile.customer_id and card.customer_id != profile.customer_id:
        return "ignored: the card was saved on another customer"
    attach_customer(profile, card.customer_id)
    if not _store(profile, card):
        return "ignored: card already saved"
    from marketplace.notifications.services import notify
    notify(user_id, "card_saved", f"Card saved: {card.brand.title()} ending {card.last4}",
           "It will be charged for your weekly invoices and bonuses. You can replace it on your billing page.",
           BILLING_PATH, email=False)
    return "card saved"


def record_returning_setup(actor: User, session_id: str) -> str:
    """The business is back from Checkout (setup mode): store the card now if the session is theirs and
    complete, rather than wait for the webhook (which then finds it saved). Flush only."""
    _require_business(actor)
    profile = billing_profile_of(actor.id)
    if profile is None or profile.provider != "stripe" or not session_id.startswith("cs_") or len(session_id) > 200:
        return "ignored: no Stripe billing profile"
    session = get_gateway().setup_session(session_id)
    if session.user_id != str(actor.id) or (profile.customer_id and session.customer_id != profile.customer_id):
        return "ignored: not this business's session"
    if not session.complete or not session.setup_intent_id:
        return "ignored: setup not completed"
    return record_setup(actor.id, session.setup_intent_id, session.customer_id)


def finish_at_gateway(user_id: int) -> None:
    """After the commit: make the saved card the customer's default and detach the card it replaced.

    Both calls are idempotent; a failure is logged and tried again the next time this runs (the replaced
    card stays in `detach_pending`). Commits its own bookkeeping.
    """
    profile = billing_profile_of(user_id)
    if profile is None or profile.provider != "stripe":
        return
    gateway = get_gateway()
    try:
        if profile.customer_id and profile.payment_method_id:
            gateway.set_default_method(profile.customer_id, profile.payment_method_id)
        if profile.detach_pending and profile.detach_pending != profile.payment_method_id:
            gateway.detach_method(profile.detach_pending)
        if profile.detach_pending:
            profile.detach_pending = None
            db.session.commit()
    except GatewayError as error:
        db.session.rollback()
        log.warning("billing profile %s: Stripe bookkeeping failed, will retry: %s", profile.id, error.message)


def finish_due() -> int:
    """Scheduled job: replaced cards whose detaching at Stripe failed earlier are detached now."""
    if not uses_stripe():
        return 0
    user_ids = db.session.scalars(select(BillingProfile.user_id).where(
        BillingProfile.provider == "stripe", BillingProfile.detach_pending.is_not(None))
        .order_by(BillingProfile.id).limit(100)).all()
    done = 0
    for user_id in user_ids:
        finish_at_gateway(user_id)
        done += billing_profile_of(user_id).detach_pending is None
    return done
