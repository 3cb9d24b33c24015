"""Helpers shared by views that handle forms."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField
from wtforms.validators import StopValidation

from marketplace.core.errors import DomainError
from marketplace.core.integers import MAX_INT, MIN_INT, parse_int
from marketplace.core.text import one_line


def attach_error(form: FlaskForm, error: DomainError, default_field: str | None = None) -> None:
    """Show a service's refusal next to the field it concerns (or at the top of the form)."""
    name = error.field or default_field
    field = getattr(form, name, None) if name else None
    if field is not None and hasattr(field, "errors"):
        field.errors = list(field.errors) + [error.message]
    else:
        form.form_errors.append(error.message)


def commit_or_refuse(action, form: FlaskForm | None = None, default_field: str | None = None):
    """Run one service call and commit it. A refusal (DomainError) rolls back and is shown next to the
    form's field, or flashed when there is no form; Forbidden still propagates to the 403 page.
    Returns (True, what the call returned) or (False, None)."""
    from flask import flash
    from marketplace.core.errors import Forbidden
    from marketplace.extensions import db
    try:
        result = action()
        db.session.commit()
    except Forbidden:
        raise
    except DomainError as error:
        db.session.rollback()
        if form is not None:
            attach_error(form, error, default_field)
        else:
            flash(error.message, "danger")
        return False, None
    return True, result


class RepeatedHiddenTag:
    """For forms whose hidden fields (the CSRF token) are rendered once per row of a page: a
    button per proposal, per flag, per engagement. The markup is the same every time within a
    request, so it is built once per form instance instead of once per row (rendering it through
    the WTForms widgets was most of the Python time of a task page with 300 proposals)."""

    def hidden_tag(self, *fields):
        if fields:
            return super().hidden_tag(*fields)
        markup = self.__dict__.get("_hidden_tag_markup")
        if markup is None:
            markup = self._hidden_tag_markup = super().hidden_tag()
        return markup


def single_line(value):
    """WTForms filter for every field that holds one line (titles, names, headlines, codes, ...).

    Browsers never put a line break in an <input>, but a crafted request can, and such a value
    later becomes a mail subject or a page heading. Breaks, tabs and control characters turn
    into single spaces and the ends are trimmed, before validation, so the length checked is the
    length stored.
    """
    return one_line(value) if isinstance(value, str) else value


class SingleLineField(StringField):
    """A text input whose value is always one line (see `single_line`)."""

    def __init__(self, label=None, validators=None, filters=(), **kwargs):
        super().__init__(label, validators, filters=(single_line, *filters), **kwargs)


class MinorUnits:
    """WTForms validator: a money amount with at most two decimals, finite, within bounds (major units)."""

    def __init__(self, minimum: str = "0.01", maximum: str | None = None, message: str | None = None):
        self.minimum, self.maximum, self.message = minimum, maximum, message

    def __call__(self, form, field) -> None:
        from wtforms.validators import ValidationError

        from marketplace.core.money import format_money, parse_major
        if field.data is None:
            return
        try:
            value = parse_major(field.data)
        except ValueError:
            raise ValidationError("Enter an amount like 120 or 120.50 (at most two decimals).")
        low = parse_major(self.minimum)
        high = parse_major(self.maximum) if self.maximum else None
        if value < low or (high is not None and value > high):
            raise ValidationError(self.message or (
                f"Enter an amount between {format_money(low)} and {format_money(high)}." if high is not None
                else f"Enter at least {format_money(low)}."))


class BoundedIntegerField(IntegerField):
    """An integer field that parses with the app's one integer rule (`core.integers.parse_int`).

    Plain `IntegerField` takes whatever `int()` takes, so a number too large for its column
    reached the database. Bounds default to what an INTEGER column holds; business ranges
    (and their messages) stay with `NumberRange` validators, which run only on a parsed value.
    """

    def __init__(self, label=None, validators=None, *, low: int = MIN_INT, high: int = MAX_INT, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.low, self.high = low, high

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        if isinstance(valuelist[0], str) and not valuelist[0].strip():
            self.data = None   # nothing typed: Optional() / InputRequired() decide
            return
        try:
            self.data = parse_int(valuelist[0], self.low, self.high)
        except ValueError as error:
            self.data = None
            raise ValueError(str(error)) from None

    def pre_validate(self, form):
        if self.process_errors:
            raise StopValidation()   # one clear message, not a range check on a value that isn't there


def coerce_id(value) -> int:
    """`coerce` for select fields whose options are row ids: a bounded id or ValueError."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return parse_int(value, 1, MAX_INT)


def bounded_int(args, name: str, default: int, *, low: int = 1, high: int = 10_000) -> int:
    """An integer query argument clamped to a sane range (page numbers and the like)."""
    raw = args.get(name)
    if raw is None:
        return default
    try:
        return parse_int(raw, low, high, clamp=True)
    except ValueError:
        return default
