"""SQLite made to behave like PostgreSQL where it matters: foreign keys and real transactions.

pysqlite by default enforces no foreign keys and silently commits around DDL. Turning off its
transaction handling and emitting BEGIN ourselves (SQLAlchemy's documented recipe) gives every
transaction, migrations included, all-or-nothing behaviour.

A pooled connection also keeps its file open after the file is deleted (README's way to start
again) or replaced: the server would go on serving the old data. So each connection remembers
which file it opened (device and inode), and one whose file is no longer at that path is
dropped when it is checked out; the pool then opens the path again.
"""

import os
from functools import partial

import sqlalchemy as sa

BUSY_TIMEOUT_MS = 30_000


def configure_engine(engine: sa.Engine) -> None:
    """Attach the connect/begin hooks to a SQLite engine; other backends are left alone."""
    if engine.dialect.name != "sqlite":
        return
    sa.event.listen(engine, "connect", _on_connect)
    sa.event.listen(engine, "begin", _on_begin)
    path = database_file(engine.url)
    if path is not None:
        sa.event.listen(engine, "connect", partial(_remember_file, path))
        sa.event.listen(engine, "checkout", partial(_check_file, path))


def database_file(url: sa.engine.URL) -> str | None:
    """The file a SQLite URL opens; None for an in-memory database."""
    database = url.database or ""
    if url.query.get("uri") == "true":
        if url.query.get("mode") == "memory":
            return None
        database = database.removeprefix("file:").split("?", 1)[0]
    if not database or database == ":memory:":
        return None
    return database


def _file_identity(path: str) -> tuple[int, int] | None:
    try:
        status = os.stat(path)
    except FileNotFoundError:
        return None
    return status.st_dev, status.st_ino


def _remember_file(path: str, _dbapi_connection, record) -> None:
    record.info["sqlite_file"] = _file_identity(path)


def _check_file(path: str, _dbapi_connection, record, _proxy) -> None:
    if record.info.get("sqlite_file") != _file_identity(path):
        # The pool discards this connection and connects again (SQLAlchemy's disconnect rule).
        raise sa.exc.DisconnectionError(f"{path} was deleted or replaced")


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
