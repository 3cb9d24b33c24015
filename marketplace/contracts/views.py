"""Contract pages: the terms, the milestones with their money, the timeline; adding and splitting milestones.

Each milestone's own actions (fund, deliver, approve, dispute, cancel) are the engagement pages' (engagements/views.py).
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from marketplace.contracts import services
from marketplace.contracts.forms import MilestoneForm
from marketplace.core.errors import Conflict, ValidationFailed
from marketplace.core.forms import attach_error
from marketplace.core.money import parse_major
from marketplace.engagements.forms import OptionalNoteForm
from marketplace.extensions import db
from marketplace.payments.gateway import get_gateway
from marketplace.reviews.services import review_milestone

bp = Blueprint("contracts", __name__)


def _render(contract, form=None, split_form=None, split_id=None, status=200):
    blank = MilestoneForm(formdata=None)
    return render_template("contracts/show.html", contract=contract,
                           view=services.contract_view(current_user, contract), form=form or blank,
                           split_form=split_form or blank, blank_form=blank, split_id=split_id,
                           action_form=OptionalNoteForm(formdata=None), gateway=get_gateway(),
                           review_milestone=review_milestone(contract)), status


@bp.get("/contracts/<int:contract_id>")
@login_required
def show(contract_id: int):
    return _render(services.get_contract_for(current_user, contract_id))


def _data(form: MilestoneForm) -> services.MilestoneData:
    return services.MilestoneData(title=form.title.data or "", amount=parse_major(form.amount.data),
                                  due_on=form.due_on.data)


@bp.post("/contracts/<int:contract_id>/milestones")
@login_required
def add_milestone(contract_id: int):
    contract = services.get_contract_for(current_user, contract_id)
    form = MilestoneForm()
    if not form.validate_on_submit():
        return _render(contract, form=form, status=400)
    try:
        milestone = services.add_milestone(current_user, contract, _data(form))
    except ValidationFailed as error:
        db.session.rollback()
        attach_error(form, error)
        return _render(services.get_contract_for(current_user, contract_id), form=form, status=400)
    except Conflict as error:
        db.session.rollback()
        flash(error.message, "danger")
        return redirect(url_for("contracts.show", contract_id=contract_id))
    db.session.commit()
    flash(f"Milestone {milestone.position} added. Fund it when the specialist should start on it.", "success")
    return redirect(url_for("contracts.show", contract_id=contract_id))


@bp.post("/contracts/<int:contract_id>/milestones/<int:milestone_id>/split")
@login_required
def split_milestone(contract_id: int, milestone_id: int):
    contract = services.get_contract_for(current_user, contract_id)
    milestone = services.get_milestone_of(contract, milestone_id)
    form = MilestoneForm()
    if not form.validate_on_submit():
        return _render(contract, split_form=form, split_id=milestone_id, status=400)
    try:
        new = services.split_milestone(current_user, milestone, _data(form))
    except ValidationFailed as error:
        db.session.rollback()
        attach_error(form, error)
        return _render(services.get_contract_for(current_user, contract_id), split_form=form,
                       split_id=milestone_id, status=400)
    except Conflict as error:
        db.session.rollback()
        flash(error.message, "danger")
        return redirect(url_for("contracts.show", contract_id=contract_id))
    db.session.commit()
    flash(f"Split: milestone {new.position} “{new.title}” was added; the contract's total is unchanged.", "success")
    return redirect(url_for("contracts.show", contract_id=contract_id))
