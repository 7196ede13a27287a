"""Emptying the app's tables while keeping the schema and `alembic_version`.

PostgreSQL truncates them all in one statement (fast on big tables, and RESTART IDENTITY sets
the id sequences back to 1). SQLite has no TRUNCATE: it deletes children before parents and
forgets the AUTOINCREMENT counters, if any table keeps some.
"""

from __future__ import annotations

import sqlalchemy as sa

from pixcrawler.extensions import db
from pixcrawler.services.app_tables import app_tables, require_schema


def flush() -> list[str]:
    """Delete every row of every app table in one transaction; returns the tables emptied."""
    tables = app_tables()
    names = [table.name for table in tables]
    with db.engine.connect() as connection, connection.begin():
        require_schema(connection)
        if connection.dialect.name == "postgresql":
            quoted = ", ".join(f'"{name}"' for name in names)
            # CASCADE reaches only tables that reference ours; every one of ours is listed.
            connection.exec_driver_sql(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")
        else:
            for table in reversed(tables):
                connection.execute(table.delete())
            if sa.inspect(connection).has_table("sqlite_sequence"):
                sequence = sa.table("sqlite_sequence", sa.column("name"))
                connection.execute(sequence.delete().where(sequence.c.name.in_(names)))
    return names
