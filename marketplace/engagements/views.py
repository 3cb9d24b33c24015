"""Engagement pages and the actions that move an engagement along (see transitions.py)."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from marketplace.core.errors import Conflict, ValidationFailed
from marketplace.core.requests import accepts_files
from marketplace.engagements import services, transitions
from marketplace.engagements.forms import NoteForm, OptionalNoteForm
from marketplace.core.queue import enqueue
from marketplace.extensions import db
from marketplace.payments import services as payments
from marketplace.payments.gateway import GatewayError, get_gateway

bp = Blueprint("engagements", __name__)


@bp.get("/engagements")
@login_required
def mine():
    from marketplace.contracts.services import contract_view, contracts_of
    contracts = contracts_of(current_user)
    return render_template("engagements/mine.html", contracts=contracts,
                           views={c.id: contract_view(current_user, c) for c in contracts})


@bp.get("/engagements/<int:engagement_id>")
@login_required
def show(engagement_id: int):
    engagement = services.get_engagement_for(current_user, engagement_id)
    return render_template("engagements/show.html", engagement=engagement, view=services.page_view(current_user, engagement),
                           money=payments.money_row(engagement), note_form=NoteForm(), reason_form=OptionalNoteForm(),
                           thread_id=services.thread_id_of(engagement),
                           events=services.timeline_for(current_user, engagement),
                           gateway=get_gateway())


def _back_to_engagement(view):
    """A refused action (409/400) is flashed on the engagement page, whatever the Referer says."""
    from functools import wraps

    @wraps(view)
    def wrapper(engagement_id: int):
        try:
            return view(engagement_id)
        except (Conflict, ValidationFailed) as error:
            db.session.rollback()
            return _done(engagement_id, error.message, "danger")
    return wrapper


def _form_or_error(form) -> str:
    if not form.validate_on_submit():
        messages = [m for errors in form.errors.values() for m in errors]
        raise ValidationFailed(messages[0] if messages else "Please check the form and try again.")
    return form.note.data or ""


def _done(engagement_id: int, message: str, category: str = "success"):
    flash(message, category)
    return redirect(url_for("engagements.show", engagement_id=engagement_id))


@bp.post("/engagements/<int:engagement_id>/fund")
@login_required
@_back_to_engagement
def fund(engagement_id: int):
    engagement = services.get_engagement_for(current_user, engagement_id)
    _form_or_error(OptionalNoteForm())
    gateway = get_gateway()
    charge = transitions.begin_funding(current_user, engagement, gateway.name)
    db.session.commit()  # the intent exists before the gateway hears of it
    try:
        start = gateway.create_checkout(
            charge, engagement,
            success_url=url_for("engagements.funding_return", engagement_id=engagement.id, _external=True)
            + "?session_id={CHECKOUT_SESSION_ID}",
            cancel_url=url_for("engagements.show", engagement_id=engagement.id, _external=True))
    except GatewayError as error:
        charge.failure_message = error.message[:300]
        db.session.commit()
        return _done(engagement.id, error.message, "danger")
    charge.checkout_session_id = start.session_id
    db.session.commit()
    return redirect(start.url, code=303)


@bp.get("/engagements/<int:engagement_id>/funded")
@login_required
def funding_return(engagement_id: int):
    engagement = services.get_engagement_for(current_user, engagement_id)
    # Funding is confirmed by the webhook, never by this page.
    if engagement.status.value == "awaiting_funding":
        flash("Thanks! We're confirming your payment with the bank; this page updates in a moment.", "info")
    return redirect(url_for("engagements.show", engagement_id=engagement.id))


@bp.post("/engagements/<int:engagement_id>/deliver")
@login_required
@accepts_files("attachment")
@_back_to_engagement
def deliver(engagement_id: int):
    from marketplace.files.attachments import PendingFile, store
    from marketplace.files.views import read_upload
    engagement = services.get_engagement_for(current_user, engagement_id)
    note = _form_or_error(NoteForm())
    upload = read_upload("attachment")
    pending = PendingFile(*upload) if upload else None   # checked before anything moves
    transitions.deliver(current_user, engagement, note)
    if pending is not None:
        store(current_user, pending, engagement_id=engagement.id)
    db.session.commit()
    return _done(engagement.id, "Delivered. The business has been asked to review and approve it.")


@bp.get("/engagements/<int:engagement_id>/approve")
@login_required
def confirm_approve(engagement_id: int):
    """The confirmation step before the held money is released to the specialist."""
    from marketplace.core.money import format_money as money, format_percent
    engagement = services.get_engagement_for(current_user, engagement_id)
    if not services.page_view(current_user, engagement).can_review:
        flash("There is nothing to approve on this engagement now.", "warning")
        return redirect(url_for("engagements.show", engagement_id=engagement.id))
    cur = engagement.currency
    return render_template(
        "confirm.html", heading=f"Approve the work and release {money(engagement.amount, cur)}?",
        lines=[f"“{engagement.title}” with {engagement.freelancer.full_name} is marked complete.",
               f"{engagement.freelancer.first_name} receives {money(engagement.payout_amount, cur)}; the platform "
               f"fee is {money(engagement.fee_amount, cur)} ({format_percent(engagement.fee_bps)}).",
               "Once released, the money can't be disputed or refunded through the platform."],
        action=url_for("engagements.approve", engagement_id=engagement.id), hidden={},
        button=f"Approve and release {money(engagement.amount, cur)}",
        back=url_for("engagements.show", engagement_id=engagement.id))


@bp.post("/engagements/<int:engagement_id>/approve")
@login_required
@_back_to_engagement
def approve(engagement_id: int):
    engagement = services.get_engagement_for(current_user, engagement_id)
    _form_or_error(OptionalNoteForm())
    transfer = transitions.approve(current_user, engagement)
    db.session.commit()
    enqueue("payments.engagement", engagement_id=engagement.id)
    return _done(engagement.id, "Approved. The payment was released to the specialist."
                 if transfer.status != "awaiting_account" else
                 "Approved. The payment is released and will be sent as soon as the specialist connects "
                 "their payout account.")


@bp.post("/engagements/<int:engagement_id>/request-changes")
@login_required
@_back_to_engagement
def request_changes(engagement_id: int):
    engagement = services.get_engagement_for(current_user, engagement_id)
    transitions.request_changes(current_user, engagement, _form_or_error(NoteForm()))
    db.session.commit()
    return _done(engagement.id, "Changes requested. The specialist has been notified.")


@bp.post("/engagements/<int:engagement_id>/cancel")
@login_required
@_back_to_engagement
def cancel(engagement_id: int):
    engagement = services.get_engagement_for(current_user, engagement_id)
    refund = transitions.cancel(current_user, engagement, _form_or_error(OptionalNoteForm()))
    db.session.commit()
    enqueue("payments.engagement", engagement_id=engagement.id)
    return _done(engagement.id, "Engagement cancelled." + (" The business is refunded in full." if refund else ""))


@bp.post("/engagements/<int:engagement_id>/dispute")
@login_required
@_back_to_engagement
def dispute(engagement_id: int):
    engagement = services.get_engagement_for(current_user, engagement_id)
    transitions.open_dispute(current_user, engagement, _form_or_error(NoteForm()))
    db.session.commit()
    return _done(engagement.id, "Dispute opened. The payment stays held until an operator resolves it.", "warning")


@bp.get("/engagements/<int:engagement_id>/receipt")
@login_required
def receipt(engagement_id: int):
    engagement = services.get_engagement_for(current_user, engagement_id)
    charge = payments.receipt_charge(current_user, engagement)
    return render_template("payments/receipt.html", engagement=engagement, charge=charge,
                           money=payments.money_row(engagement),
                           test_mode=charge.provider == "sandbox",
                           fee_bps=current_app.config["PLATFORM_FEE_BPS"])
