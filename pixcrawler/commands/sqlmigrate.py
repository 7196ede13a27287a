"""`flask sqlmigrate REV`: the SQL one migration runs, without touching the database.

For review before a production upgrade, or to hand to a DBA; like Django's sqlmigrate.
"""

from __future__ import annotations

import click
from alembic.script.revision import RevisionError
from alembic.util import CommandError as AlembicError
from flask.cli import with_appcontext

from pixcrawler.commands._choice import Choice
from pixcrawler.commands._errors import CommandError
from pixcrawler.migrator.sql import revision_sql
from pixcrawler.migrator.state import script_directory

DIALECTS = ["postgresql", "sqlite"]


@click.command(
    help="""Print the SQL of migration REV (offline: the database is not read or changed).

    The SQL is rendered for the app's database backend unless --dialect names another one,
    so it can be reviewed on a laptop before it runs on the PostgreSQL server.

    \b
    Examples:
      flask sqlmigrate 002
      flask sqlmigrate 002 --backwards --dialect postgresql
    """
)
@click.argument("revision")
@click.option(
    "--backwards", is_flag=True, help="Print the SQL that undoes REV (its downgrade) instead."
)
@click.option(
    "--dialect",
    type=Choice(DIALECTS, aliases={"postgres": "postgresql", "sqlite3": "sqlite"}),
    help="Render for this backend instead of the app's: postgresql or sqlite.",
)
@with_appcontext
def command(revision: str, backwards: bool, dialect: str | None) -> None:
    revision = revision.strip()
    if not revision:
        raise CommandError("give a revision id, e.g. `flask sqlmigrate 002`")
    try:
        sql = revision_sql(revision, backwards=backwards, dialect=dialect)
    except (AlembicError, RevisionError) as exc:
        raise CommandError(failure_message(revision, exc)) from None
    click.echo(sql, nl=False)


def failure_message(revision: str, exc: Exception) -> str:
    """Name the known revisions when REV is not one: the usual mistake is a typo."""
    reason = " ".join(str(exc).split())
    if not reason.startswith("Can't locate"):
        # e.g. SQLite batch operations, which need the live table to copy it.
        return f"cannot render the SQL of {revision} offline: {reason}"
    try:
        known = [s.revision for s in reversed(list(script_directory().walk_revisions()))]
    except (AlembicError, RevisionError):
        return f"unknown revision {revision!r}"
    return f"unknown revision {revision!r}; known revisions: {', '.join(known)}"
