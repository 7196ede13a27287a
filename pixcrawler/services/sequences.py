"""Primary-key sequences after rows were written with explicit ids (fixtures, seed data).

PostgreSQL hands out new ids from a sequence that knows nothing of ids inserted by hand; left
alone, the next ordinary insert would collide with a loaded row. SQLite needs nothing: it takes
max(rowid) + 1.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa


def sequence_tables(tables: Iterable[sa.Table]) -> list[sa.Table]:
    """The tables whose single integer primary key is filled by a sequence."""
    found = []
    for table in tables:
        pk = list(table.primary_key.columns)
        if len(pk) == 1 and isinstance(pk[0].type, sa.Integer) and pk[0].autoincrement:
            found.append(table)
    return found


def advance_sequences(connection: sa.Connection, tables: Iterable[sa.Table]) -> None:
    """On PostgreSQL, move each table's id sequence to max(id) so the next insert is max + 1."""
    if connection.dialect.name != "postgresql":
        return
    for table in sequence_tables(tables):
        column = next(iter(table.primary_key.columns)).name
        # setval(seq, 1, false) on an empty table: the next id is 1 again.
        connection.execute(
            sa.text(
                f"SELECT setval(pg_get_serial_sequence(:table, :column), "
                f'COALESCE(MAX("{column}"), 1), MAX("{column}") IS NOT NULL) FROM "{table.name}"'
            ),
            {"table": table.name, "column": column},
        )
