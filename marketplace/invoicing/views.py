"""Hourly billing pages: an invoice with its entries (dispute some of them), bonuses, pause/resume/end."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from marketplace.contracts.services import get_contract_for
from marketplace.core.errors import Conflict, DomainError, ValidationFailed
from marketplace.core.forms import attach_error
from marketplace.core.money import parse_major
from marketplace.core.time import app_now, as_utc
from marketplace.extensions import db
from marketplace.invoicing import services
from marketplace.invoicing.charging import settle_funded_payable
from marketplace.payments.off_session import charge_off_session, has_saved_method
from marketplace.invoicing.forms import BonusForm, ContractActionForm, DisputeEntriesForm
from marketplace.timesheets.services import timezone_of
from marketplace.timesheets.weeks import format_minutes, zone_named

bp = Blueprint("invoicing", __name__)


@bp.app_context_processor
def _billing_helpers():
    """For the contract page (hourly section) and the operator's dispute page."""
    def hourly_billing(contract):
        return {"invoices": services.invoices_of(contract), "bonuses": services.bonuses_of(contract),
                "has_card": has_saved_method(contract.business_id),
                "bonus_form": _bonus_form(), "action_form": ContractActionForm(formdata=None)}
    return {"hourly_billing": hourly_billing, "disputed_time_entries": services.disputed_lines,
            "invoice_for_payable": services.invoice_for_payable, "hours": format_minutes,
            "timedelta_minute": timedelta(minutes=1)}


@bp.app_template_filter("local_time")
def local_time(instant: datetime, zone: str, fmt: str = "%a %d %b %H:%M") -> str:
    """An instant shown in a time zone (the viewer's)."""
    return as_utc(instant).astimezone(zone_named(zone)).strftime(fmt)


def _bonus_form() -> BonusForm:
    form = BonusForm(formdata=None)
    form.new_key()
    if request.args.get("bonus_title"):
        form.title.data = request.args.get("bonus_title", "")[:100]
    try:
        form.amount.data = parse_major(request.args["bonus_amount"]) / 100 if request.args.get("bonus_amount") else None
    except ValueError:
        form.amount.data = None
    return form


@bp.get("/contracts/<int:contract_id>/invoices/<int:invoice_id>")
@login_required
def invoice(contract_id: int, invoice_id: int, form: DisputeEntriesForm | None = None, status: int = 200):
    contract = get_contract_for(current_user, contract_id)
    inv = services.get_invoice_for(current_user, contract, invoice_id)
    now = app_now()
    return render_template("invoicing/invoice.html", contract=contract, invoice=inv, now=now,
                           can_dispute=services.can_dispute(current_user, inv, now),
                           form=form or DisputeEntriesForm(formdata=None),
                           bonus=services.over_limit_bonus(inv) if current_user.id == contract.business_id else None,
                           zone=timezone_of(current_user)), status


@bp.post("/contracts/<int:contract_id>/invoices/<int:invoice_id>/dispute")
@login_required
def dispute(contract_id: int, invoice_id: int):
    contract = get_contract_for(current_user, contract_id)
    inv = services.get_invoice_for(current_user, contract, invoice_id)
    form = DisputeEntriesForm()
    if not form.validate_on_submit():
        return invoice(contract_id, invoice_id, form=form, status=400)
    try:
        payable = services.dispute_entries(current_user, inv, form.entries.data or [], form.reason.data or "",
                                           now=app_now())
    except ValidationFailed as error:
        db.session.rollback()
        attach_error(form, error)
        return invoice(contract_id, invoice_id, form=form, status=400)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return redirect(url_for("invoicing.invoice", contract_id=contract_id, invoice_id=invoice_id))
    db.session.commit()
    flash("Dispute opened. The invoice's money stays held until an operator decides.", "success")
    return redirect(url_for("engagements.show", engagement_id=payable.id))


@bp.post("/contracts/<int:contract_id>/bonuses")
@login_required
def add_bonus(contract_id: int):
    contract = get_contract_for(current_user, contract_id)
    form = BonusForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(message, "danger")
        return redirect(url_for("contracts.show", contract_id=contract_id, _anchor="bonuses"))
    try:
        bonus, created = services.add_bonus(current_user, contract,
                                            services.BonusData(form.title.data or "", parse_major(form.amount.data),
                                                               key=form.key.data or None))
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return redirect(url_for("contracts.show", contract_id=contract_id, _anchor="bonuses"))
    db.session.commit()
    if not created:
        # The same form sent again (a double click): the first submit added and is paying this bonus.
        flash("This bonus form was already sent: here is the bonus it added. Nothing more was charged.", "info")
        return redirect(url_for("engagements.show", engagement_id=bonus.id))
    if not has_saved_method(contract.business_id):
        # No saved card: pay this one through Checkout, like a milestone.
        return redirect(url_for("engagements.show", engagement_id=bonus.id))
    outcome = charge_off_session(bonus)
    db.session.refresh(bonus)
    settle_funded_payable(bonus, app_now())
    db.session.commit()
    if outcome.status == "succeeded":
        flash("Bonus paid with your saved card and released to the specialist.", "success")
    else:
        # The bonus exists; only its payment is still to come.
        flash(f"Bonus added, but your saved card was not charged: {outcome.message} Pay it from its page.",
              "warning")
        return redirect(url_for("engagements.show", engagement_id=bonus.id))
    return redirect(url_for("contracts.show", contract_id=contract_id, _anchor="bonuses"))


def _contract_action(contract_id: int, action, done: str):
    contract = get_contract_for(current_user, contract_id)
    if not ContractActionForm().validate_on_submit():
        flash("That form expired. Please try again.", "danger")
        return redirect(url_for("contracts.show", contract_id=contract_id))
    try:
        result = action(current_user, contract, now=app_now())
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return redirect(url_for("contracts.show", contract_id=contract_id))
    db.session.commit()
    flash(done, "success")
    return result


@bp.post("/contracts/<int:contract_id>/pause")
@login_required
def pause(contract_id: int):
    _contract_action(contract_id, services.pause_contract,
                     "Contract paused: no new time can be logged, and any upcoming shifts the specialist held on "
                     "this task are open again (resuming doesn't give them back).")
    return redirect(url_for("contracts.show", contract_id=contract_id))


@bp.post("/contracts/<int:contract_id>/resume")
@login_required
def resume(contract_id: int):
    _contract_action(contract_id, services.resume_contract, "Contract resumed.")
    return redirect(url_for("contracts.show", contract_id=contract_id))


@bp.post("/contracts/<int:contract_id>/end")
@login_required
def end(contract_id: int):
    result = _contract_action(contract_id, services.end_hourly_contract,
                              "Contract ended. This week's hours are invoiced as usual, and any upcoming shifts "
                              "the specialist held on this task are open again.")
    if result is not None and not isinstance(result, Conflict) and getattr(result, "engagement_id", None):
        from marketplace.invoicing.charging import charge_invoice
        try:
            charge_invoice(result.id, app_now())
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "warning")
    return redirect(url_for("contracts.show", contract_id=contract_id))
