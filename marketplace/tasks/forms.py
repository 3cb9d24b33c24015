"""Task form: shape only. The skill rows are filled with the taxonomy at request time."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (DateField, DecimalField, FieldList, Form, FormField, RadioField, SelectField,
                     SubmitField, TextAreaField)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from marketplace.core.forms import BoundedIntegerField, MinorUnits, SingleLineField
from marketplace.core.integers import MAX_ID, parse_int
from marketplace.core.options import OptionListSelect
from marketplace.core.reference import CHANNELS, LANGUAGES, SKILL_LEVELS
from marketplace.core.time import TIMEZONE_CHOICES
from marketplace.profiles.forms import MultiCheckboxField

REQUIRED_ROWS = 5
NICE_ROWS = 3
LEVEL_CHOICES = [(str(k), f"at least {v}") for k, v in SKILL_LEVELS.items()]


class SkillRowForm(Form):
    skill = SelectField("Skill", choices=[("", "—")], validators=[Optional()], widget=OptionListSelect())
    min_level = SelectField("Minimum level", choices=LEVEL_CHOICES, default="3", validators=[Optional()])


class TaskForm(FlaskForm):
    title = SingleLineField("Title", validators=[DataRequired("Give the task a title."), Length(max=120)],
                            description="For example: Bilingual chat queue for our launch weekend.")
    description = TextAreaField("What needs doing", validators=[DataRequired("Describe the work."),
                                                                Length(max=8000)],
                                description="Who the customers are, what they need, tools, tone, and what good looks like.")
    channel = SelectField("Channel", choices=list(CHANNELS.items()))
    languages = MultiCheckboxField("Languages the specialist must speak", choices=list(LANGUAGES.items()))
    timezone = SelectField("Time zone", choices=TIMEZONE_CHOICES, default="UTC", widget=OptionListSelect())
    work_hours_start = SelectField("Coverage from", choices=[(str(h), f"{h:02d}:00") for h in range(0, 24)],
                                   default="9")
    work_hours_end = SelectField("Coverage until", choices=[(str(h), f"{h:02d}:00") for h in range(1, 25)],
                                 default="17")
    start_date = DateField("Start date", validators=[InputRequired("Choose a start date.")])
    end_date = DateField("End date (deadline)", validators=[InputRequired("Choose an end date.")])
    pricing = RadioField("Pricing", choices=[("fixed", "Fixed price"), ("hourly", "Hourly")], default="fixed")
    budget = DecimalField("Budget (USD, fixed price)", places=2,
                          validators=[Optional(), MinorUnits("0.01", "100000")])
    max_rate = DecimalField("Maximum hourly rate (USD)", places=2,
                            validators=[Optional(), MinorUnits("0.01", "1000")])
    estimated_hours = BoundedIntegerField("Estimated hours", validators=[Optional(), NumberRange(min=1, max=2000)])
    seats = BoundedIntegerField("Specialists wanted", default=1,
                         validators=[InputRequired("How many specialists do you need?"), NumberRange(min=1)])
    hiring_mode = RadioField("How do you want to hire?", default="open", choices=[
        ("open", "Open: any qualified specialist can send a proposal"),
        ("invite", "Invite only: only specialists you invite can propose"),
        ("match", "Match me: we invite the best-matching specialists for you"),
    ])
    required = FieldList(FormField(SkillRowForm), min_entries=REQUIRED_ROWS, max_entries=REQUIRED_ROWS)
    nice = FieldList(FormField(SkillRowForm), min_entries=NICE_ROWS, max_entries=NICE_ROWS)
    submit = SubmitField("Save draft")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The process's one list, not the copy WTForms makes per form, so the option cache knows it.
        self.timezone.choices = TIMEZONE_CHOICES

    def set_skill_choices(self, choices: list[tuple[str, str]]) -> None:
        """`choices`: (id, name) pairs with the empty choice first (skill_index().form_choices)."""
        for row in list(self.required) + list(self.nice):
            row.form.skill.choices = choices

    def validate(self, extra_validators=None) -> bool:
        # Runs after every field has validated (and reset its own errors), so the
        # price fields keep the messages added here.
        valid = super().validate(extra_validators)
        missing = []
        if self.pricing.data == "fixed" and self.budget.data is None and not self.budget.errors:
            missing.append((self.budget, "Enter a budget for a fixed-price task."))
        if self.pricing.data == "hourly":
            if self.max_rate.data is None and not self.max_rate.errors:
                missing.append((self.max_rate, "Enter a maximum hourly rate."))
            if self.estimated_hours.data is None and not self.estimated_hours.errors:
                missing.append((self.estimated_hours, "Estimate the hours."))
        for field, message in missing:
            field.errors = list(field.errors) + [message]
        return valid and not missing

    @staticmethod
    def skill_levels(rows) -> dict[int, int]:
        """Chosen skills -> minimum level; values that aren't numbers are left to the choice check."""
        levels = {}
        for row in rows:
            if not row.skill.data:
                continue
            try:
                levels[parse_int(row.skill.data, 1, MAX_ID)] = parse_int(row.min_level.data or "1", 1, 5)
            except ValueError:
                continue
        return levels

    def validate_required(self, field):
        if not self.skill_levels(field):
            raise ValidationError("Add at least one required skill.")
        chosen = [r.skill.data for r in list(self.required) + list(self.nice) if r.skill.data]
        if len(chosen) != len(set(chosen)):
            raise ValidationError("Each skill once, please.")


class SearchForm(FlaskForm):
    class Meta:
        csrf = False
