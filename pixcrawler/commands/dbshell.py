"""`flask dbshell`: the database's own client (psql or sqlite3) on the app's database."""

from __future__ import annotations

import os
import shutil

import click
from flask.cli import with_appcontext

from pixcrawler.commands._errors import CommandError
from pixcrawler.extensions import db
from pixcrawler.services.dbshell import ClientError, client_command


@click.command(
    help="""Open psql (PostgreSQL) or sqlite3 (SQLite) on the app's database: the one the app
    itself uses (a relative SQLite path is in the instance folder). A password is handed over
    in PGPASSWORD, never on the command line. Arguments after `--` go to the client, options
    before the database and SQL after it, as `sqlite3 [OPTIONS] FILE [SQL]` expects.

    \b
    Examples:
      flask dbshell
      flask dbshell -- -c 'SELECT count(*) FROM images'
      flask dbshell -- -header 'SELECT count(*) FROM images'
    """
)
@click.argument("client_arguments", nargs=-1, type=click.UNPROCESSED)
@with_appcontext
def command(client_arguments: tuple[str, ...]) -> None:
    engine = db.engine  # its URL, not the configured one: Flask-SQLAlchemy resolves SQLite paths
    try:
        client = client_command(engine.url.render_as_string(hide_password=False), client_arguments)
    except ClientError as exc:
        raise CommandError(str(exc)) from None
    if shutil.which(client.program) is None:
        raise CommandError(
            f"the {client.program} program is not installed or not on PATH; install it "
            f"(e.g. `apt install {package_name(client.program)}`) to use `flask dbshell`"
        )
    # Connect first: a database that does not answer is then README's one line and exit 1
    # (see cli.py), not the client's own message and exit code.
    with engine.connect():
        pass
    engine.dispose()
    # Replace this process: the client owns the terminal, its signals and its exit code.
    os.execvpe(client.program, client.argv, {**os.environ, **client.environment})


def package_name(program: str) -> str:
    """The Debian package that installs `program`."""
    return {"psql": "postgresql-client"}.get(program, program)
