"""Helpers shared by views that handle forms."""
from __future__ import annotations

from flask_wtf import FlaskForm

from marketplace.core.errors import DomainError


def attach_error(form: FlaskForm, error: DomainError, default_field: str | None = None) -> None:
    """Show a service's refusal next to the field it concerns (or at the top of the form)."""
    name = error.field or default_field
    field = getattr(form, name, None) if name else None
    if field is not None and hasattr(field, "errors"):
        field.errors = list(field.errors) + [error.message]
    else:
        form.form_errors.append(error.message)
