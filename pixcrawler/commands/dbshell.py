"""`flask dbshell`: the database's own client (psql or sqlite3) on the app's database."""

from __future__ import annotations

import os
import shutil

import click
from flask import current_app
from flask.cli import with_appcontext

from pixcrawler.cli import CommandError
from pixcrawler.services.dbshell import ClientError, client_command


@click.command(
    help="""Open psql (PostgreSQL) or sqlite3 (SQLite) on the app's database, as DATABASE_URL
    names it. A password is handed over in PGPASSWORD, never on the command line. Arguments
    after `--` go to the client.

    \b
    Examples:
      flask dbshell
      flask dbshell -- -c 'SELECT count(*) FROM images'
    """
)
@click.argument("client_arguments", nargs=-1, type=click.UNPROCESSED)
@with_appcontext
def command(client_arguments: tuple[str, ...]) -> None:
    try:
        client = client_command(current_app.config["SQLALCHEMY_DATABASE_URI"], client_arguments)
    except ClientError as exc:
        raise CommandError(str(exc)) from None
    if shutil.which(client.program) is None:
        raise CommandError(
            f"the {client.program} program is not installed or not on PATH; install it "
            f"(e.g. `apt install {package_name(client.program)}`) to use `flask dbshell`"
        )
    # Replace this process: the client owns the terminal, its signals and its exit code.
    os.execvpe(client.program, client.argv, {**os.environ, **client.environment})


def package_name(program: str) -> str:
    """The Debian package that installs `program`."""
    return {"psql": "postgresql-client"}.get(program, program)
