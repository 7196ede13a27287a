"""`flask flush`: empty every app table after confirmation; the schema stays."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from pixcrawler.commands._errors import CommandError
from pixcrawler.commands._options import confirm, no_input_option
from pixcrawler.database.urls import mask
from pixcrawler.services.app_tables import SchemaMissingError, app_tables, ensure_schema
from pixcrawler.services.flush import FlushError, flush


@click.command(
    help="""Delete every row of every app table; the schema and alembic_version stay.

    Asks first; scripts pass --no-input. On PostgreSQL one TRUNCATE ... RESTART IDENTITY
    also sets the id sequences back to 1.

    \b
    Example:
      flask flush --no-input && flask seed
    """
)
@no_input_option
@with_appcontext
def command(no_input: bool) -> None:
    try:
        ensure_schema()
    except SchemaMissingError as exc:
        raise CommandError(str(exc)) from None
    url = mask(current_app.config["SQLALCHEMY_DATABASE_URI"])
    count = len(app_tables())
    confirm(
        f"Delete every row of the {count} app tables in {url}? "
        "The schema and alembic_version stay.",
        no_input,
    )
    try:
        names = flush()
    except FlushError as exc:
        raise CommandError(str(exc)) from None
    click.echo(f"Flushed {len(names)} tables: {', '.join(names)}.")
