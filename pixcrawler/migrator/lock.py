"""One migration runner at a time, however many replicas run `flask db upgrade` on deploy.

PostgreSQL: a session-level advisory lock on the migration connection. Session-level, not
transaction-level, because each migration commits on its own and `autocommit_block()` commits in
the middle of one; the lock must outlive all of those. It dies with the connection, so a runner
killed with `kill -9` frees it as soon as the server notices (`guard` sets
`client_connection_check_interval` for that).

SQLite: an advisory file lock (flock) on `<database file>.migration-lock` for the whole run, so a
second runner waits and then finds nothing left to do; every migration's own transaction also
starts with BEGIN IMMEDIATE (taken in `environment`) so no writer can slip in between.

The lock is taken before Alembic reads the current revision: a runner that had to wait re-reads
it afterwards and sees the work already done.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from alembic.util import CommandError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows has no flock; SQLite is then unguarded
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger("alembic.env")

# pg_advisory_lock(int4, int4): "pixc" as an integer, then 1 for "schema migrations".
LOCK_CLASS = 0x70697863
LOCK_ID = 1

# Shown in pg_stat_activity, so operators (and a waiting runner) can tell who is migrating.
APPLICATION_NAME = "pixcrawler-migrate"

POLL_SECONDS = 0.2

KEYS = {"lock_class": LOCK_CLASS, "lock_id": LOCK_ID}
TRY_SQL = sa.text("SELECT pg_try_advisory_lock(:lock_class, :lock_id)")
UNLOCK_SQL = sa.text("SELECT pg_advisory_unlock(:lock_class, :lock_id)")

HOLDER_SQL = sa.text(
    """
    SELECT a.pid, a.application_name, a.backend_start, a.client_addr
    FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
    WHERE l.locktype = 'advisory' AND l.granted
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND l.classid = :lock_class AND l.objid = :lock_id AND l.objsubid = 2
    """
)


@contextmanager
def runner_lock(connection: sa.Connection, timeout: float) -> Iterator[None]:
    """Hold the migration lock for the whole run; wait at most `timeout` seconds for it."""
    dialect = connection.dialect.name
    if dialect == "postgresql":
        with _postgres_lock(connection, timeout):
            yield
    elif dialect == "sqlite":
        with _sqlite_lock(connection, timeout):
            yield
    else:  # pragma: no cover - only the two supported backends exist
        yield


@contextmanager
def _postgres_lock(connection: sa.Connection, timeout: float) -> Iterator[None]:
    # A caller's own open transaction (a connection handed to env.py) is theirs to end.
    external = connection.in_transaction()
    connection.exec_driver_sql(f"SET application_name = '{APPLICATION_NAME}'")
    if not _try_postgres_lock(connection, external):
        holder = _holder(connection)
        if not external:
            connection.commit()
        log.info("waiting for another migration run to finish: %s", holder)
        _wait_for_postgres_lock(connection, timeout, external)
    try:
        yield
    finally:
        _release_postgres_lock(connection, external)


def _try_postgres_lock(connection: sa.Connection, external: bool) -> bool:
    got = connection.execute(TRY_SQL, KEYS).scalar()
    if not external:
        # Never sit in an open transaction: CREATE INDEX CONCURRENTLY in the running migration
        # waits for every open transaction to end, and this one would be waiting for it.
        connection.commit()
    return bool(got)


def _wait_for_postgres_lock(connection: sa.Connection, timeout: float, external: bool) -> None:
    # Polling, not a blocking pg_advisory_lock(): a blocked statement holds a snapshot, which
    # CREATE INDEX CONCURRENTLY in the running migration would wait for (a deadlock).
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(min(POLL_SECONDS, max(deadline - time.monotonic(), 0)))
        if _try_postgres_lock(connection, external):
            return
    holder = _holder(connection)
    if not external:
        connection.commit()
    raise CommandError(
        f"gave up after waiting {timeout:g} s for the migration lock, held by {holder}; "
        "raise MIGRATION_WAIT_TIMEOUT or stop that run"
    )


def _holder(connection: sa.Connection) -> str:
    """Who holds the migration lock, for people: pid, application, connected when, from where."""
    row = connection.execute(HOLDER_SQL, KEYS).first()
    if row is None:
        return "a session that has just released it"
    since = row.backend_start.strftime("%H:%M:%S") if row.backend_start else "?"
    where = f" from {row.client_addr}" if row.client_addr else ""
    app = row.application_name or "no application_name"
    return f"pid {row.pid} ({app}, connected {since}{where})"


def _release_postgres_lock(connection: sa.Connection, external: bool) -> None:
    if connection.invalidated or connection.closed:
        return  # a dead connection took the lock with it
    try:
        if not external:
            connection.rollback()  # whatever a failed run left open
        connection.execute(UNLOCK_SQL, KEYS)
        connection.exec_driver_sql("RESET application_name")
        if not external:
            connection.commit()
    except sa.exc.DBAPIError:
        # Never hand a pooled connection that may still hold the lock back to the pool.
        connection.invalidate()


@contextmanager
def _sqlite_lock(connection: sa.Connection, timeout: float) -> Iterator[None]:
    path = connection.engine.url.database
    if fcntl is None or not path or path == ":memory:" or path.startswith("file:"):
        yield  # nothing another process could share
        return
    lock_path = Path(f"{os.path.abspath(path)}.migration-lock")
    with open(lock_path, "a+") as handle:
        _flock(handle, timeout, lock_path)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _flock(handle, timeout: float, lock_path: Path) -> None:
    deadline = time.monotonic() + timeout
    announced = False
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not announced:
                log.info("waiting for another migration run to finish (lock file %s)", lock_path)
                announced = True
            if time.monotonic() >= deadline:
                raise CommandError(
                    f"gave up after waiting {timeout:g} s for the migration lock {lock_path}; "
                    "raise MIGRATION_WAIT_TIMEOUT or stop that run"
                ) from None
            time.sleep(POLL_SECONDS)
            continue
        return
