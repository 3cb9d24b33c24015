"""Profile forms. The skill grid is built from the taxonomy at request time."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (BooleanField, DecimalField, FieldList, Form, FormField, SelectField, SelectMultipleField,
                     SubmitField, TextAreaField, URLField)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from marketplace.core.forms import BoundedIntegerField, MinorUnits, SingleLineField, single_line
from marketplace.core.reference import CHANNELS, COMPANY_SIZES, INDUSTRIES, LANGUAGES, PROFICIENCIES, SKILL_LEVELS
from marketplace.core.time import TIMEZONE_CHOICES
from marketplace.profiles.models import Skill

LANGUAGE_ROWS = 4


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class LanguageRowForm(Form):
    # Optional(): an untouched (or omitted) row is simply empty, not an invalid choice.
    language = SelectField("Language", choices=[("", "—")] + list(LANGUAGES.items()), validators=[Optional()])
    proficiency = SelectField("Level", choices=[("", "—")] + list(PROFICIENCIES.items()), validators=[Optional()])


class FreelancerProfileForm(FlaskForm):
    headline = SingleLineField(
        "Headline", validators=[DataRequired("Add a one-line headline."), Length(max=120)],
        description="For example: Patient Tier-2 troubleshooter, native Spanish, 6 years in SaaS.")
    bio = TextAreaField("About you", validators=[Length(max=4000)],
                        description="How you work with upset or confused customers, tools you know, results.")
    hourly_rate = DecimalField("Hourly rate (USD)", places=2,
                               validators=[InputRequired("Set your hourly rate."),
                                           MinorUnits("5", "1000", message="Between 5.00 and 1,000.00.")])
    timezone = SelectField("Time zone", choices=TIMEZONE_CHOICES, default="UTC")
    hours_per_week = BoundedIntegerField("Hours per week available", default=20,
                                         validators=[InputRequired("How many hours a week can you work?"),
                                                     NumberRange(min=0, max=80, message="Between 0 and 80.")])
    preferred_hours = SingleLineField("Preferred hours", validators=[Length(max=120)],
                                      description="For example: weekdays 09:00–17:00, weekends on request.")
    channels = MultiCheckboxField("Channels", choices=list(CHANNELS.items()))
    languages = FieldList(FormField(LanguageRowForm), min_entries=LANGUAGE_ROWS, max_entries=LANGUAGE_ROWS)
    submit = SubmitField("Save profile")

    def validate_languages(self, field):
        codes = [row.language.data for row in field if row.language.data]
        if len(codes) != len(set(codes)):
            raise ValidationError("Each language once, please.")
        for row in field:
            if row.language.data and not row.proficiency.data:
                row.proficiency.errors = list(row.proficiency.errors) + ["Choose your level for this language."]
                raise ValidationError("Choose a level for every language you add.")


def skill_field_name(skill: Skill) -> str:
    return f"skill_{skill.id}"


def freelancer_form_class(skills: list[Skill]) -> type[FreelancerProfileForm]:
    """A profile form with one level selector per skill of the taxonomy."""
    attrs = {skill_field_name(s): SelectField(s.name, choices=[("0", "—")] + [(str(k), v) for k, v in SKILL_LEVELS.items()],
                                              default="0")
             for s in skills}
    return type("FreelancerProfileFormWithSkills", (FreelancerProfileForm,), attrs)


class BusinessProfileForm(FlaskForm):
    company_name = SingleLineField("Company name",
                                   validators=[DataRequired("Enter your company's name."), Length(max=120)])
    website = URLField("Website", validators=[Optional(), Length(max=200)], filters=[single_line])
    industry = SelectField("Industry", choices=[("", "—")] + [(i, i) for i in INDUSTRIES])
    size = SelectField("Company size", choices=[("", "—")] + [(s, s + " people") for s in COMPANY_SIZES])
    timezone = SelectField("Time zone", choices=TIMEZONE_CHOICES, default="UTC",
                           description="New tasks start in this time zone.")
    description = TextAreaField("About the company", validators=[Optional(), Length(max=2000)],
                                description="What you do and who your customers are; specialists read it on your tasks.",
                                render_kw={"rows": 4, "maxlength": 2000})
    show_work_history = BooleanField("Let specialists show work they did for us on their profiles")
    submit = SubmitField("Save company profile")
