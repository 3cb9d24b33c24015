"""`flask --app wsgi create-operator EMAIL`: the only way operators come to be;
`reset-second-factor EMAIL` for an operator who lost their authenticator and recovery codes."""
from __future__ import annotations

import sys

import click

from marketplace.core.errors import DomainError
from marketplace.extensions import db


@click.command("create-operator")
@click.argument("email")
@click.option("--name", default="Operator", help="Display name.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_operator_command(email: str, name: str, password_stdin: bool) -> None:
    """Create an operator account."""
    from marketplace.accounts.services import create_operator

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_operator(email, password, name)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message)
    click.echo(f"Operator {user.email} created.")


@click.command("reset-second-factor")
@click.argument("email")
def reset_second_factor_command(email: str) -> None:
    """Remove an operator's second factor; their next login sets up a new one."""
    from sqlalchemy import select

    from marketplace.accounts.models import User
    from marketplace.moderation.two_factor import reset

    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"No account with the email {email}.")
    try:
        reset(user)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message)
    click.echo(f"Second factor of {user.email} removed; they will set up a new one at their next login.")
