from __future__ import annotations

import click

from marketplace.extensions import db


@click.command("seed-skills")
def seed_skills_command() -> None:
    """Add the skill taxonomy (idempotent)."""
    from marketplace.profiles.taxonomy import ensure_skill_taxonomy

    added = ensure_skill_taxonomy()
    db.session.commit()
    click.echo(f"Skill taxonomy ready ({added} added).")
