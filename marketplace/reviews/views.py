"""Review pages: write a review of an ended engagement; template globals for the panels other pages show."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from marketplace.core.errors import Conflict, ValidationFailed
from marketplace.core.forms import attach_error
from marketplace.engagements.services import get_engagement_for
from marketplace.extensions import db
from marketplace.reviews import services
from marketplace.reviews.forms import ReviewForm
from marketplace.reviews.models import EMPATHY_DIMENSIONS

bp = Blueprint("reviews", __name__)


@bp.app_context_processor
def inject_review_helpers():
    return {"review_panel": _panel_for_current_user, "business_rating": services.business_rating,
            "specialist_rating": services.specialist_rating, "reviews_to_write": _reviews_to_write,
            "empathy_dimensions": EMPATHY_DIMENSIONS, "new_review_form": ReviewForm}


def _panel_for_current_user(engagement):
    if not current_user.is_authenticated:
        return None
    return services.review_panel(current_user, engagement)


def _reviews_to_write():
    return services.reviews_to_write(current_user) if current_user.is_authenticated else []


def _to_engagement(engagement_id: int, message: str, category: str):
    flash(message, category)
    return redirect(url_for("engagements.show", engagement_id=engagement_id) + "#reviews")


def _every_dimension_scored(form: ReviewForm, role: str | None) -> bool:
    """A business must score all five dimensions: mark every missing one at once (the service checks again)."""
    if role != "business":
        return True
    missing = [(key, label) for key, label in EMPATHY_DIMENSIONS if form.score(key) is None]
    for key, label in missing:
        getattr(form, key).errors = [f"Score “{label}” from 1 to 5."]
    return not missing


@bp.route("/engagements/<int:engagement_id>/review", methods=["GET", "POST"])
@login_required
def write(engagement_id: int):
    engagement = get_engagement_for(current_user, engagement_id)   # 404 for strangers
    panel = services.review_panel(current_user, engagement)
    form = ReviewForm()
    if request.method == "GET":
        if not panel.can_review:
            return _to_engagement(engagement.id, "You have already reviewed this engagement." if panel.own else
                                  "This engagement can't be reviewed by you right now.", "info")
        return render_template("reviews/write.html", engagement=engagement, panel=panel, form=form)
    valid = form.validate_on_submit()
    if _every_dimension_scored(form, panel.role) and valid:
        data = services.ReviewData(
            stars=form.score("stars"), public_comment=form.public_comment.data or "",
            private_feedback=form.private_feedback.data or "",
            dimensions={key: form.score(key) for key, _ in EMPATHY_DIMENSIONS})
        try:
            services.submit_review(current_user, engagement, data)
        except Conflict as error:
            db.session.rollback()
            return _to_engagement(engagement.id, error.message, "danger")
        except ValidationFailed as error:
            db.session.rollback()
            attach_error(form, error)
        else:
            db.session.commit()
            revealed = services.review_panel(current_user, engagement).other is not None
            return _to_engagement(engagement.id, "Thanks, your review is sent. Both reviews are now visible."
                                  if revealed else "Thanks, your review is sent. It stays hidden from the other "
                                  "side until they have reviewed too or the review window closes.", "success")
    return render_template("reviews/write.html", engagement=engagement, panel=panel, form=form), 400
