"""`flask loaddata`: fixture files back into the database, all of them or nothing."""

from __future__ import annotations

import os

import click
from flask.cli import with_appcontext

from pixcrawler.commands._errors import CommandError
from pixcrawler.commands._options import confirm, no_input_option
from pixcrawler.commands._progress import progress_bar
from pixcrawler.services import fixtures
from pixcrawler.services.app_tables import SchemaMissingError


@click.command(
    help="""Load fixture files written by `flask dumpdata` (JSON Lines or JSON).

    Everything loads in one transaction: a bad record (unknown table or column, bad value,
    constraint violation, malformed JSON) is reported with its file and record number and
    nothing is kept. Rows keep their primary keys; on PostgreSQL the id sequences are moved
    past them. Records whose key already exists overwrite that row, after a question
    (skip it with --no-input). Parents must come before their children, as dumpdata writes.

    \b
    Example:
      flask loaddata fixtures.jsonl more.json
    """
)
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@no_input_option
@with_appcontext
def command(files: tuple[str, ...], no_input: bool) -> None:
    def size() -> int:
        return sum(os.path.getsize(path) for path in files if os.path.isfile(path))

    try:
        with progress_bar("Loading", size) as progress:
            result = fixtures.load(
                list(files), lambda question: confirm(question, no_input), progress
            )
    except (fixtures.FixtureError, SchemaMissingError) as exc:
        raise CommandError(str(exc)) from None
    overwritten = f" ({result.overwritten} overwritten)" if result.overwritten else ""
    click.echo(
        f"Loaded {result.total} rows into {len(result.counts)} tables "
        f"from {len(files)} file{'s' if len(files) != 1 else ''}{overwritten}."
    )
