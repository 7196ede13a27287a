"""The app's own tables as the data commands see them: foreign-key order, and whether they exist.

`alembic_version` is not one of them: it records the schema, not data, so dumpdata, loaddata,
seed and flush leave it alone. `admin_sessions` is one of them but holds no data either: flush
empties it (logging everybody out), and fixtures never carry it, so a restore can never bring a
logged-out session back.
"""

from __future__ import annotations

import sqlalchemy as sa

from pixcrawler.extensions import db


class SchemaMissingError(RuntimeError):
    """The database lacks the app's tables; the operator has to run `flask db upgrade`."""


def app_tables() -> list[sa.Table]:
    """Every model table, parents before children (metadata.sorted_tables)."""
    return list(db.metadata.sorted_tables)


# Tables of server state rather than data: emptied by flush, never dumped nor loaded.
STATE_TABLES = frozenset({"admin_sessions"})


def data_tables() -> list[sa.Table]:
    """The tables fixtures carry: every app table but the state tables, in foreign-key order."""
    return [table for table in app_tables() if table.name not in STATE_TABLES]


def require_schema(connection: sa.Connection) -> None:
    """Raise SchemaMissingError naming missing tables or columns, before any row is touched."""
    inspector = sa.inspect(connection)
    present = set(inspector.get_table_names())
    missing = [table.name for table in app_tables() if table.name not in present]
    if missing:
        raise SchemaMissingError(
            f"the database has no table {', '.join(missing)}; run `flask db upgrade` first"
        )
    for table in app_tables():
        columns = {column["name"] for column in inspector.get_columns(table.name)}
        absent = [column.name for column in table.columns if column.name not in columns]
        if absent:
            raise SchemaMissingError(
                f"table {table.name} has no column {', '.join(absent)} yet; "
                "run `flask db upgrade` first"
            )


def ensure_schema() -> None:
    """`require_schema` on a connection of its own, for commands that check before asking."""
    with db.engine.connect() as connection:
        require_schema(connection)
