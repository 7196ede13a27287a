"""`flask db check` in words: one line per difference between the models and the database.

Flask-Migrate's own `check` prints Alembic's diff tuples (Python reprs); this one takes its
place in the `db` group, with the same options.
"""

from __future__ import annotations

import click
from alembic.util import CommandError as AlembicError
from flask import g
from flask.cli import with_appcontext

from pixcrawler.commands._errors import CommandError
from pixcrawler.migrator.drift import drift_lines
from pixcrawler.migrator.state import app_alembic_config


def wrap(original: click.Command) -> click.Command:
    """Flask-Migrate's `check`, printing each difference and exiting 1 when there are any."""

    def callback(directory: str | None) -> None:
        try:
            lines = drift_lines(app_alembic_config(directory or g.directory))
        except AlembicError as exc:
            raise CommandError(str(exc)) from None
        for line in lines:
            click.echo(line)
        if lines:
            raise CommandError(
                f"{len(lines)} difference(s) between the models and the database: make a "
                "revision with `flask db migrate -m '<what changed>'` and review it"
            )

    return click.Command(
        name=original.name,
        callback=with_appcontext(callback),
        params=original.params,
        help="Compare the models with the database: one line per difference, exit 1 if any.",
    )
