"""Payment pages: the sandbox checkout, payout onboarding, payments/earnings (+ CSV), card disputes,
and the Stripe webhook endpoint."""
from __future__ import annotations

import csv
import io
import logging

import stripe
from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from marketplace.core.errors import Forbidden
from marketplace.core.money import to_major
from marketplace.extensions import csrf, db, limiter
from marketplace.core.queue import enqueue
from marketplace.payments import services, webhooks
from marketplace.payments.gateway import GatewayError, get_gateway, uses_stripe

log = logging.getLogger(__name__)
bp = Blueprint("payments", __name__)


def _action_form():
    from marketplace.bidding.forms import ActionForm
    return ActionForm()


# --- sandbox checkout (test mode) -----------------------------------------------------------------

@bp.get("/payments/sandbox/checkout/<int:charge_id>")
@login_required
def sandbox_checkout(charge_id: int):
    charge = services.get_sandbox_charge(current_user, charge_id)
    from marketplace.engagements.models import Engagement
    engagement = db.session.get(Engagement, charge.engagement_id)
    return render_template("payments/sandbox_checkout.html", charge=charge, engagement=engagement,
                           form=_action_form())


@bp.post("/payments/sandbox/checkout/<int:charge_id>/<any(pay, decline):outcome>")
@login_required
def sandbox_checkout_submit(charge_id: int, outcome: str):
    charge = services.get_sandbox_charge(current_user, charge_id)
    if not _action_form().validate_on_submit():
        abort(400)
    if outcome == "pay":
        result = services.sandbox_pay(current_user, charge)
        db.session.commit()
        enqueue("payments.engagement", engagement_id=charge.engagement_id)  # e.g. a refund of a late second payment
        flash("Payment received (test mode). The money is held by the platform until you approve the work."
              if result == "funded" else "This payment was already recorded." if result == "already recorded"
              else "This engagement no longer needed funding, so the payment is refunded in full.",
              "success" if result == "funded" else "info")
    else:
        services.sandbox_decline(current_user, charge)
        db.session.commit()
        flash(f"{services.SANDBOX_DECLINE} Nothing was charged; you can try again.", "danger")
    return redirect(url_for("engagements.show", engagement_id=charge.engagement_id))


# --- payout account ----------------------------------------------------------------------------------

@bp.get("/payments/payout-account")
@login_required
def payout_account():
    if not current_user.is_freelancer:
        raise Forbidden("Only specialists receive payouts.")
    return render_template("payments/payout_account.html", account=services.payout_account_for(current_user),
                           test_mode=not uses_stripe(), form=_action_form())


@bp.post("/payments/payout-account/connect")
@login_required
def connect_payout_account():
    if not _action_form().validate_on_submit():
        abort(400)
    if not current_user.is_freelancer:
        raise Forbidden("Only specialists receive payouts.")
    if not uses_stripe():
        return redirect(url_for("payments.sandbox_onboarding"))
    gateway = get_gateway()
    # The row is committed before Stripe creates the account, so an `account.updated` that arrives before
    # the id is stored finds it (by the account's metadata) instead of being lost.
    account = services.ensure_payout_account(current_user, "stripe", None)
    db.session.commit()
    try:
        if account.external_id is None:
            services.attach_account_id(account, gateway.create_payout_account(current_user))
            db.session.commit()
        url = gateway.onboarding_url(account, return_url=url_for("payments.payout_return", _external=True),
                                     refresh_url=url_for("payments.payout_account", _external=True))
    except GatewayError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return redirect(url_for("payments.payout_account"))
    return redirect(url, code=303)


@bp.get("/payments/payout-account/return")
@login_required
def payout_return():
    account = services.payout_account_for(current_user)
    if account is not None and account.external_id and uses_stripe():
        try:
            services.apply_account_state(account, get_gateway().account_state(account))
            db.session.commit()
        except GatewayError as error:
            db.session.rollback()
            flash(error.message, "warning")
        _run_due_transfers()
    return redirect(url_for("payments.payout_account"))


@bp.route("/payments/sandbox/onboarding", methods=["GET", "POST"])
@login_required
def sandbox_onboarding():
    if uses_stripe():
        abort(404)
    if not current_user.is_freelancer:
        raise Forbidden("Only specialists receive payouts.")
    form = _action_form()
    if request.method == "POST" and form.validate_on_submit():
        promoted = services.sandbox_connect(current_user)
        db.session.commit()
        _run_due_transfers(promoted)
        flash("Payout account connected (test mode)." + (" Your pending earnings were sent." if promoted else ""),
              "success")
        return redirect(url_for("payments.earnings"))
    return render_template("payments/sandbox_onboarding.html", form=form)


def _run_due_transfers(ids: list[int] | None = None) -> None:
    from sqlalchemy import select

    from marketplace.payments.models import Transfer
    if ids is None:
        ids = db.session.scalars(select(Transfer.id).where(Transfer.freelancer_id == current_user.id,
                                                           Transfer.status == "pending")).all()
    for transfer_id in ids:
        enqueue("payments.transfer", transfer_id=transfer_id)


# --- payments and earnings ---------------------------------------------------------------------------

@bp.get("/payments")
@login_required
def payments():
    rows = services.business_payments(current_user)
    return render_template("payments/payments.html", rows=rows, fee_bps=current_app.config["PLATFORM_FEE_BPS"],
                           test_mode=not uses_stripe())


@bp.get("/earnings")
@login_required
def earnings():
    rows = services.freelancer_earnings(current_user)
    return render_template("payments/earnings.html", rows=rows, account=services.payout_account_for(current_user),
                           fee_bps=current_app.config["PLATFORM_FEE_BPS"], test_mode=not uses_stripe())


def _csv(filename: str, header: list[str], lines: list[list]) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for line in lines:
        # Cells starting with = + - @ would be formulas in a spreadsheet.
        writer.writerow([("'" + c) if isinstance(c, str) and c and c[0] in "=+-@\t\r" else c for c in line])
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={filename}"})


@bp.get("/payments.csv")
@login_required
def payments_csv():
    rows = services.business_payments(current_user)
    return _csv("payments.csv", ["engagement", "task", "specialist", "funded_at", "status", "currency", "paid",
                                 "refunded", "released", "platform_fee_bps"],
                [[r.engagement.id, r.engagement.task.title, r.engagement.freelancer.full_name,
                  r.engagement.funded_at.date().isoformat(), r.engagement.status.value, r.engagement.currency,
                  to_major(r.paid), to_major(r.refunded), to_major(r.released), r.engagement.fee_bps] for r in rows])


@bp.get("/earnings.csv")
@login_required
def earnings_csv():
    rows = services.freelancer_earnings(current_user)
    return _csv("earnings.csv", ["engagement", "task", "business", "funded_at", "status", "currency", "released",
                                 "platform_fee_bps", "platform_fee", "your_share", "sent", "pending"],
                [[r.engagement.id, r.engagement.task.title, r.engagement.business.public_name,
                  r.engagement.funded_at.date().isoformat(), r.engagement.status.value, r.engagement.currency,
                  to_major(r.released), r.engagement.fee_bps, to_major(r.fee), to_major(r.payout),
                  to_major(r.transferred), to_major(r.pending_payout)] for r in rows])


@bp.get("/payments/disputes")
@login_required
def card_disputes():
    return render_template("payments/disputes.html", disputes=services.card_disputes(current_user))


# --- Stripe webhook ----------------------------------------------------------------------------------

@bp.post("/payments/stripe/webhook")
@csrf.exempt
@limiter.exempt
def stripe_webhook():
    payload = request.get_data()  # the raw body: the signature covers these exact bytes
    header = request.headers.get("Stripe-Signature")
    secrets = [s for s in (current_app.config.get("STRIPE_WEBHOOK_SECRET"),
                           current_app.config.get("STRIPE_CONNECT_WEBHOOK_SECRET")) if s]
    if not secrets:
        log.warning("Stripe webhook received but no STRIPE_WEBHOOK_SECRET is configured")
        return {"error": "webhooks are not configured"}, 400
    verified = False
    for secret in secrets:
        try:
            stripe.WebhookSignature.verify_header(payload.decode("utf-8"), header, secret,
                                                  stripe.Webhook.DEFAULT_TOLERANCE)
            verified = True
            break
        except (stripe.SignatureVerificationError, UnicodeDecodeError):
            continue
    if not verified:
        return {"error": "bad signature"}, 400
    # Signed by Stripe: from here on the answer is 200 (an unusable event is recorded, not retried).
    try:
        outcome, event = webhooks.receive(payload)
    except GatewayError as error:
        # A handler needed Stripe and couldn't reach it: nothing is recorded, Stripe delivers it again.
        db.session.rollback()
        log.warning("webhook not handled now, Stripe will resend it: %s", error.message)
        return {"error": "try again later"}, 503
    db.session.commit()
    if event is not None and outcome == "card saved":
        from marketplace.payments.saved_methods import finish_at_gateway
        finish_at_gateway(int(event["data"]["object"]["metadata"]["user_id"]))
    if event is not None and outcome.startswith(("account ", "transfer", "funded", "refunded")):
        obj = (event.get("data") or {}).get("object") or {}
        _after_webhook(obj)
    return {"received": True, "outcome": outcome}


def _after_webhook(obj: dict) -> None:
    """Send what the event made due (waiting transfers, late-payment refunds); the job retries failures."""
    try:
        metadata = obj.get("metadata") or {}
        if str(metadata.get("engagement_id", "")).isdigit():
            enqueue("payments.engagement", engagement_id=int(metadata["engagement_id"]))
        if obj.get("object") == "account":
            from sqlalchemy import select

            from marketplace.payments.models import PayoutAccount, Transfer
            account = db.session.scalar(select(PayoutAccount).where(PayoutAccount.external_id == obj.get("id")))
            if account is not None:
                for transfer_id in db.session.scalars(select(Transfer.id).where(
                        Transfer.freelancer_id == account.user_id, Transfer.status == "pending")).all():
                    enqueue("payments.transfer", transfer_id=transfer_id)
    except Exception:
        db.session.rollback()
        log.exception("sending payments after a webhook failed; the scheduled job will retry")
