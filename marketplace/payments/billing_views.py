"""Billing pages for businesses: the card on file (save / replace, through Stripe Checkout in setup mode or
the sandbox's test-card page), all payables of their contracts (+ CSV), and the on-session payment page
for a payable whose off-session charge failed."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from marketplace.core.errors import Forbidden
from marketplace.core.forms import bounded_int
from marketplace.core.money import to_major
from marketplace.extensions import db
from marketplace.payments import billing, saved_methods
from marketplace.payments.forms import SandboxCardForm
from marketplace.payments.gateway import SANDBOX_CARDS, GatewayError, get_gateway, uses_stripe
from marketplace.payments.views import _action_form, _csv

bp = Blueprint("billing", __name__)


@bp.get("/billing")
@login_required
def index():
    page = billing.billing_page(current_user, bounded_int(request.args, "page", 1))
    return render_template("payments/billing.html", page=page, rows=page.items, card=saved_methods.saved_method_for(current_user.id),
                           test_mode=not uses_stripe(), form=_action_form())


@bp.get("/billing.csv")
@login_required
def export():
    rows = billing.billing_rows(current_user)
    return _csv("billing.csv", ["payable", "contract", "task", "specialist", "kind", "title", "due_on", "status",
                               "currency", "amount", "paid_on"],
                [[r.payable.id, r.contract.id, r.contract.task.title, r.contract.freelancer.full_name, r.kind,
                  r.title, r.due_on.isoformat() if r.due_on else "", r.status, r.currency, to_major(r.amount),
                  r.paid_at.date().isoformat() if r.paid_at else ""] for r in rows])


@bp.post("/billing/card")
@login_required
def save_card():
    """Save or replace the card: Stripe Checkout in setup mode, or the sandbox's test-card page."""
    if not _action_form().validate_on_submit():
        abort(400)
    if not current_user.is_business:
        raise Forbidden("Only businesses keep a card on file.")
    if not uses_stripe():
        return redirect(url_for("billing.sandbox_card"))
    gateway = get_gateway()
    # The profile row is committed before Stripe creates the Customer; the Customer is created once.
    profile = saved_methods.ensure_profile(current_user, gateway.name)
    db.session.commit()
    try:
        if profile.customer_id is None:
            saved_methods.attach_customer(profile, gateway.create_customer(current_user))
            db.session.commit()
        start = gateway.create_setup_checkout(
            current_user, profile.customer_id,
            success_url=url_for("billing.card_return", _external=True) + "?session_id={CHECKOUT_SESSION_ID}",
            cancel_url=url_for("billing.index", _external=True))
    except GatewayError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return redirect(url_for("billing.index"))
    return redirect(start.url, code=303)


@bp.get("/billing/card/saved")
@login_required
def card_return():
    """Back from Checkout: the card is stored from the session if it is complete (the webhook, which may
    come first or later, does the same, idempotently)."""
    session_id = request.args.get("session_id", "")
    outcome = ""
    if uses_stripe() and session_id:
        try:
            outcome = saved_methods.record_returning_setup(current_user, session_id)
            db.session.commit()
        except GatewayError:
            db.session.rollback()  # the webhook stores it when Stripe can say
        if outcome == "card saved":
            saved_methods.finish_at_gateway(current_user.id)
    card = saved_methods.saved_method_for(current_user.id)
    if outcome in ("card saved", "ignored: card already saved") and card is not None:
        flash(f"Card saved: {card.brand.title()} ending {card.last4}. Weekly invoices and bonuses are charged to it.",
              "success")
    else:
        flash("Thanks! We're confirming your card with the bank; it appears here in a moment.", "info")
    return redirect(url_for("billing.index"))


@bp.route("/billing/sandbox-card", methods=["GET", "POST"])
@login_required
def sandbox_card():
    if uses_stripe():
        abort(404)
    if not current_user.is_business:
        raise Forbidden("Only businesses keep a card on file.")
    form = SandboxCardForm()
    if form.is_submitted():
        if not form.validate():
            flash("Choose one of the test cards.", "danger")
            return redirect(url_for("billing.sandbox_card"))
        replacing = saved_methods.has_saved_method(current_user.id)
        profile = saved_methods.save_sandbox_card(current_user, form.behaviour.data)
        db.session.commit()
        flash(f"Test card {profile.brand.title()} ending {profile.last4} saved (test mode)"
              + (", replacing your previous card." if replacing else "."), "success")
        return redirect(url_for("billing.index"))
    return render_template("payments/sandbox_card.html", cards=SANDBOX_CARDS,
                           card=saved_methods.saved_method_for(current_user.id))


@bp.get("/billing/payables/<int:payable_id>/pay")
@login_required
def pay(payable_id: int):
    row = billing.payable_to_pay(current_user, payable_id)
    return render_template("payments/pay_payable.html", row=row, card=saved_methods.saved_method_for(current_user.id),
                           test_mode=not uses_stripe(), form=_action_form())
