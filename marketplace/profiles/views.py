"""Profile pages: edit your own, view a specialist's public profile."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from marketplace.core.errors import DomainError
from marketplace.core.forms import attach_error, bounded_int
from marketplace.core.money import parse_major, to_major
from marketplace.extensions import db
from marketplace.profiles import services
from marketplace.profiles.forms import BusinessProfileForm, LANGUAGE_ROWS, freelancer_form_class, skill_field_name

bp = Blueprint("profiles", __name__)


@bp.route("/profile/edit", methods=["GET", "POST"])
@login_required
def edit():
    if current_user.is_freelancer:
        return _edit_freelancer()
    if current_user.is_business:
        return _edit_business()
    abort(404)


def _edit_freelancer():
    profile = services.get_own_freelancer_profile(current_user)
    skills = services.all_skills()
    form_class = freelancer_form_class(skills)
    if request.method == "GET":
        form = form_class(obj=profile)
        form.hourly_rate.data = to_major(profile.hourly_rate) if profile.hourly_rate else None
        form.channels.data = profile.channel_codes
        rows = sorted(profile.languages, key=lambda l: l.language)[:LANGUAGE_ROWS]
        for entry, row in zip(form.languages.entries, rows):
            entry.language.data, entry.proficiency.data = row.language, row.proficiency
        levels = {s.skill_id: s.level for s in profile.skills}
        for skill in skills:
            getattr(form, skill_field_name(skill)).data = str(levels.get(skill.id, 0))
    else:
        form = form_class()
    if form.validate_on_submit():
        data = services.FreelancerProfileData(
            headline=form.headline.data, bio=form.bio.data or "",
            hourly_rate=parse_major(form.hourly_rate.data), timezone=form.timezone.data,
            hours_per_week=form.hours_per_week.data, preferred_hours=form.preferred_hours.data or "",
            channels=form.channels.data or [],
            skills={s.id: int(getattr(form, skill_field_name(s)).data) for s in skills
                    if getattr(form, skill_field_name(s)).data != "0"},
            languages={row.language.data: row.proficiency.data for row in form.languages if row.language.data})
        try:
            services.update_freelancer_profile(current_user, profile, data)
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            attach_error(form, error)
        else:
            flash("Your profile is saved.", "success")
            return redirect(url_for("profiles.freelancer", user_id=current_user.id))
    grouped = {}
    for skill in skills:
        grouped.setdefault(skill.kind, []).append((skill, getattr(form, skill_field_name(skill))))
    status = 400 if request.method == "POST" else 200
    return render_template("profiles/edit_freelancer.html", form=form, grouped_skills=grouped), status


def _edit_business():
    profile = services.get_own_business_profile(current_user)
    form = BusinessProfileForm(obj=profile) if request.method == "GET" else BusinessProfileForm()
    if form.validate_on_submit():
        data = services.BusinessProfileData(company_name=form.company_name.data, website=form.website.data or "",
                                            industry=form.industry.data, size=form.size.data,
                                            timezone=form.timezone.data, description=form.description.data or "",
                                            show_work_history=bool(form.show_work_history.data))
        try:
            services.update_business_profile(current_user, profile, data)
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            attach_error(form, error)
        else:
            flash("Your company profile is saved.", "success")
            return redirect(url_for("web.dashboard"))
    status = 400 if request.method == "POST" else 200
    return render_template("profiles/edit_business.html", form=form), status


@bp.get("/freelancers")
def directory():
    from marketplace.profiles.directory import AVAILABILITY, MIN_RATINGS, SORTS, parse_query, search_freelancers
    params = parse_query(request.args)
    page = search_freelancers(params, page=bounded_int(request.args, "page", 1))
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("profiles/directory.html", page=page, params=params, skill_options=services.skill_options(),
                           args=args, min_ratings=MIN_RATINGS, sorts=SORTS, availability=AVAILABILITY)


@bp.get("/freelancers/<int:user_id>")
def freelancer(user_id: int):
    profile = services.get_public_freelancer(user_id)
    invite_tasks = None
    if current_user.is_authenticated and current_user.is_business:
        from marketplace.tasks.services import open_tasks_of
        invite_tasks = open_tasks_of(current_user)
    from marketplace.reviews.services import specialist_reputation
    from marketplace.showcase.completeness import completeness
    from marketplace.showcase.track_record import track_record
    is_owner = current_user.is_authenticated and current_user.id == user_id
    return render_template("profiles/freelancer.html", profile=profile, invite_tasks=invite_tasks,
                           is_owner=is_owner, reputation=specialist_reputation(profile),
                           record=track_record(profile), completeness=completeness(profile) if is_owner else None)
