"""SQLite made to behave like PostgreSQL where it matters: foreign keys and real transactions.

pysqlite by default enforces no foreign keys and silently commits around DDL. Turning off its
transaction handling and emitting BEGIN ourselves (SQLAlchemy's documented recipe) gives every
transaction, migrations included, all-or-nothing behaviour.
"""

import sqlalchemy as sa

BUSY_TIMEOUT_MS = 30_000


def configure_engine(engine: sa.Engine) -> None:
    """Attach the connect/begin hooks to a SQLite engine; other backends are left alone."""
    if engine.dialect.name != "sqlite":
        return
    sa.event.listen(engine, "connect", _on_connect)
    sa.event.listen(engine, "begin", _on_begin)


def _on_connect(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


def _on_begin(connection: sa.Connection) -> None:
    mode = connection.info.get("sqlite_begin", "")  # "IMMEDIATE" takes the write lock up front
    connection.exec_driver_sql(f"BEGIN {mode}".strip())


def set_foreign_keys(connection: sa.Connection, enabled: bool) -> None:
    """Switch enforcement outside any transaction (SQLite ignores the pragma inside one)."""
    raw = connection.connection.driver_connection
    raw.execute(f"PRAGMA foreign_keys={'ON' if enabled else 'OFF'}")
