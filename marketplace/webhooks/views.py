"""Account settings pages for outgoing webhooks: endpoints, event types, secrets, delivery log, replay."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectMultipleField, SubmitField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from marketplace.core.errors import DomainError
from marketplace.core.events import EVENT_TYPES
from marketplace.core.forms import SingleLineField, attach_error
from marketplace.extensions import db
from marketplace.webhooks import services, signing

bp = Blueprint("webhooks", __name__)

class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


EVENT_CHOICES = [(name, f"{name} — {meaning}") for name, meaning in EVENT_TYPES.items()]


class EndpointForm(FlaskForm):
    url = SingleLineField("Endpoint URL", validators=[DataRequired("Enter the URL we should call."), Length(max=500)],
                          description="An https URL on your server that accepts POST requests.")
    description = SingleLineField("Description (optional)", validators=[Length(max=200)])
    event_types = MultiCheckboxField("Events to send", choices=EVENT_CHOICES)
    submit = SubmitField("Add endpoint")


class EndpointSettingsForm(FlaskForm):
    event_types = MultiCheckboxField("Events to send", choices=EVENT_CHOICES)
    active = BooleanField("Active (uncheck to pause deliveries)")
    submit = SubmitField("Save")


class ActionForm(FlaskForm):
    """A button that only carries the CSRF token."""
    submit = SubmitField("Confirm")


@bp.route("/account/webhooks", methods=["GET", "POST"])
@login_required
def index():
    form = EndpointForm()
    status = 200
    if form.validate_on_submit():
        try:
            endpoint = services.create_endpoint(current_user, form.url.data, form.event_types.data,
                                                form.description.data or "")
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            attach_error(form, error)
        else:
            flash("Endpoint added. Verify our signature with the secret shown below.", "success")
            return redirect(url_for("webhooks.show", endpoint_id=endpoint.id))
    if form.is_submitted():
        status = 400
    return render_template("webhooks/index.html", form=form, endpoints=services.endpoints_of(current_user),
                           event_types=EVENT_TYPES), status


@bp.route("/account/webhooks/<int:endpoint_id>", methods=["GET", "POST"])
@login_required
def show(endpoint_id: int):
    endpoint = services.get_endpoint_for(current_user, endpoint_id)
    form = EndpointSettingsForm(data={"event_types": endpoint.event_list, "active": endpoint.active}) \
        if not EndpointSettingsForm().is_submitted() else EndpointSettingsForm()
    status = 200
    if form.validate_on_submit():
        try:
            services.update_endpoint(current_user, endpoint, event_types=form.event_types.data,
                                     active=form.active.data)
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            attach_error(form, error)
            status = 400
        else:
            flash("Endpoint saved.", "success")
            return redirect(url_for("webhooks.show", endpoint_id=endpoint.id))
    return render_template("webhooks/show.html", endpoint=endpoint, form=form, action_form=ActionForm(),
                           deliveries=services.deliveries_of(current_user, endpoint),
                           secrets=services.signing_secrets(endpoint), header=signing.SIGNATURE_HEADER), status


def _action(endpoint_id: int):
    if not ActionForm().validate_on_submit():
        flash("Your form expired. Please try again.", "danger")
        return None
    return services.get_endpoint_for(current_user, endpoint_id)


@bp.post("/account/webhooks/<int:endpoint_id>/rotate")
@login_required
def rotate(endpoint_id: int):
    endpoint = _action(endpoint_id)
    if endpoint is not None:
        services.rotate_secret(current_user, endpoint)
        db.session.commit()
        flash("New secret created. Deliveries carry signatures with both secrets until the old one expires.",
              "success")
    return redirect(url_for("webhooks.show", endpoint_id=endpoint_id))


@bp.post("/account/webhooks/<int:endpoint_id>/delete")
@login_required
def delete(endpoint_id: int):
    endpoint = _action(endpoint_id)
    if endpoint is None:
        return redirect(url_for("webhooks.show", endpoint_id=endpoint_id))
    services.delete_endpoint(current_user, endpoint)
    db.session.commit()
    flash("Endpoint deleted.", "success")
    return redirect(url_for("webhooks.index"))


@bp.post("/account/webhooks/deliveries/<int:delivery_id>/replay")
@login_required
def replay(delivery_id: int):
    if not ActionForm().validate_on_submit():
        flash("Your form expired. Please try again.", "danger")
        return redirect(url_for("webhooks.index"))
    delivery = services.replay(current_user, delivery_id)
    db.session.commit()
    flash("Delivery queued again: it goes out within a minute.", "success")
    return redirect(url_for("webhooks.show", endpoint_id=delivery.endpoint_id))
