"""What the data-command tests share: the CLI on the session's database at head, and snapshots
of every app table to compare before and after."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask

from pixcrawler.extensions import db
from tests.conftest import run_flask


def head_cli(database_url: str):
    """`run("seed", ...)`: the real `flask` in a subprocess on the database at head.

    Use it together with the `migrated_app` fixture, which empties the tables afterwards.
    """

    def run(*args: str, **kwargs):
        return run_flask(*args, database_url=database_url, **kwargs)

    return run


def snapshot(app: Flask) -> dict[str, list[tuple]]:
    """Every row of every app table, ordered by primary key."""
    with app.app_context(), db.engine.connect() as connection:
        return {
            table.name: [
                tuple(row)
                for row in connection.execute(
                    sa.select(table).order_by(*table.primary_key.columns)
                )
            ]
            for table in db.metadata.sorted_tables
        }


def counts(app: Flask) -> dict[str, int]:
    """Rows per app table."""
    return {name: len(rows) for name, rows in snapshot(app).items()}
