"""Emptying the app's tables while keeping the schema and `alembic_version`.

PostgreSQL truncates them all in one statement (fast on big tables, and RESTART IDENTITY sets
the id sequences back to 1). SQLite has no TRUNCATE: it deletes children before parents and
forgets the AUTOINCREMENT counters, if any table keeps some.
"""

from __future__ import annotations

import sqlalchemy as sa

from pixcrawler.extensions import db
from pixcrawler.services.app_tables import app_tables, require_schema


class FlushError(RuntimeError):
    """The tables cannot be emptied as asked; nothing was deleted."""


def flush() -> list[str]:
    """Delete every row of every app table in one transaction; returns the tables emptied."""
    tables = app_tables()
    names = [table.name for table in tables]
    with db.engine.connect() as connection, connection.begin():
        require_schema(connection)
        if connection.dialect.name == "postgresql":
            quoted = ", ".join(f'"{name}"' for name in names)
            # No CASCADE: every one of our tables is listed, and a table outside the app that
            # references ours (say, one of Supabase's) must stop the flush, not be emptied too.
            try:
                connection.exec_driver_sql(f"TRUNCATE {quoted} RESTART IDENTITY")
            except sa.exc.NotSupportedError as exc:
                detail = str(exc.orig).strip().splitlines()
                raise FlushError(
                    "a table outside the app references the app's tables, so nothing was "
                    f"flushed: {' '.join(detail[:2])}"
                ) from None
        else:
            for table in reversed(tables):
                connection.execute(table.delete())
            if sa.inspect(connection).has_table("sqlite_sequence"):
                sequence = sa.table("sqlite_sequence", sa.column("name"))
                connection.execute(sequence.delete().where(sequence.c.name.in_(names)))
    return names
