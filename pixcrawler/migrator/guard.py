"""No long write stalls, and failures people can act on, while migrations run.

A migration that waits for a lock behind a long transaction makes every writer queue up behind
it: the classic migration outage. So each statement runs under PostgreSQL's `lock_timeout` and
`statement_timeout`; a lock timeout aborts only that migration (one transaction per migration),
which is retried a few times with a growing pause, then given up with one line naming the
migration and the session that blocked it. A watcher connection notes who blocks the migration
while it waits, because once the lock timeout fires nobody is waiting any more.

Alembic asks a "plan" function for the steps to run; the guard remembers the steps of the first
attempt and hands the remaining ones to a retry, so `downgrade -2` stays two steps even after
one of them committed.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from alembic.util import CommandError

from pixcrawler.database.errors import first_line, is_lock_timeout

log = logging.getLogger("alembic.env")

STATEMENT_CHARS = 240  # of the failing statement, in the one-line error
# The server notices a vanished client (kill -9) within this, and rolls back and unlocks.
CLIENT_CHECK_INTERVAL = "1s"

BLOCKERS_SQL = sa.text(
    """
    SELECT pid, application_name, state, query,
           extract(epoch FROM now() - xact_start) AS xact_seconds
    FROM pg_stat_activity WHERE pid = ANY(pg_blocking_pids(:pid)) ORDER BY xact_start
    """
)


@dataclass(frozen=True)
class Limits:
    """How long a run may wait, in seconds; from the MIGRATION_* config keys."""

    wait_timeout: float
    lock_timeout: float
    statement_timeout: float
    lock_retries: int
    retry_delay: float

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Limits:
        """Read and check the keys; a bad value is one clear error, not a traceback."""
        return cls(
            wait_timeout=_seconds(config, "MIGRATION_WAIT_TIMEOUT"),
            lock_timeout=_seconds(config, "MIGRATION_LOCK_TIMEOUT"),
            statement_timeout=_seconds(config, "MIGRATION_STATEMENT_TIMEOUT"),
            lock_retries=int(_seconds(config, "MIGRATION_LOCK_RETRIES")),
            retry_delay=_seconds(config, "MIGRATION_RETRY_DELAY"),
        )


def _seconds(config: Mapping[str, Any], key: str) -> float:
    value = config.get(key)
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        number = -1.0
    if number < 0:
        raise CommandError(f"{key} must be a number of seconds (>= 0), not {value!r}")
    return number


def _milliseconds(seconds: float) -> str:
    return f"'{round(seconds * 1000)}ms'"  # 0 means "no limit", as in PostgreSQL


class MigrationGuard:
    """Timeouts, retries and readable failures around one `context.run_migrations()`."""

    def __init__(self, connection: sa.Connection, limits: Limits):
        self.connection = connection
        self.limits = limits
        self.is_postgres = connection.dialect.name == "postgresql"
        self.steps: list[Any] | None = None
        self.done = 0
        self.backend_pid: int | None = None

    # Alembic hooks -----------------------------------------------------------------------

    def attach(self, migration_context: MigrationContext) -> None:
        """Put the guard between Alembic and its plan (a private attribute, set in configure)."""
        original = migration_context._migrations_fn

        def plan(heads, context):
            if self.steps is None:
                self.steps = list(original(heads, context))
            return self.steps[self.done :]

        migration_context._migrations_fn = plan

    def on_version_apply(self, **_kwargs: Any) -> None:
        """After each migration, inside its transaction: count it, restore the limits."""
        self.done += 1
        if self.is_postgres:
            # A migration may have lifted a limit for itself; the next one starts afresh.
            self._set_limits()

    # Session settings --------------------------------------------------------------------

    @contextmanager
    def session(self) -> Iterator[MigrationGuard]:
        """Set the per-statement limits on the migration connection for the run, then reset."""
        if not self.is_postgres:
            yield self
            return
        external = self.connection.in_transaction()
        self.backend_pid = self.connection.execute(sa.text("SELECT pg_backend_pid()")).scalar()
        self._set_limits()
        try:
            # Not every platform supports it (PostgreSQL 14+ on Linux, BSD, macOS); then skip.
            with self.connection.begin_nested():
                self.connection.exec_driver_sql(
                    f"SET client_connection_check_interval = '{CLIENT_CHECK_INTERVAL}'"
                )
        except sa.exc.DBAPIError:
            pass
        if not external:
            self.connection.commit()
        try:
            yield self
        finally:
            if not (self.connection.invalidated or self.connection.closed):
                self._reset_limits(external)

    def _set_limits(self) -> None:
        execute = self.connection.exec_driver_sql
        execute(f"SET lock_timeout = {_milliseconds(self.limits.lock_timeout)}")
        execute(f"SET statement_timeout = {_milliseconds(self.limits.statement_timeout)}")

    def _reset_limits(self, external: bool) -> None:
        try:
            if not external:
                self.connection.rollback()
            for name in ("lock_timeout", "statement_timeout", "client_connection_check_interval"):
                self.connection.exec_driver_sql(f"RESET {name}")
            if not external:
                self.connection.commit()
        except sa.exc.DBAPIError:
            self.connection.invalidate()  # never pool a connection with a migration's limits

    # Running -------------------------------------------------------------------------------

    def run(self, body: Callable[[], None]) -> None:
        """Run `body` (Alembic's loop); retry lock timeouts; turn database errors into one line."""
        attempt = 0
        while True:
            attempt += 1
            watch = BlockerWatch.start(self.connection, self.backend_pid, self.limits)
            try:
                body()
                return
            except sa.exc.DBAPIError as exc:
                blockers = watch.stop()
                step = self.current_step
                self._rollback()
                if is_lock_timeout(exc) and attempt <= self.limits.lock_retries:
                    delay = self.limits.retry_delay * 2 ** (attempt - 1)
                    log.warning(
                        "%s waited %s s for a lock%s; retry %d of %d in %g s",
                        describe_step(step),
                        f"{self.limits.lock_timeout:g}",
                        f", held by {blockers}" if blockers else "",
                        attempt,
                        self.limits.lock_retries,
                        delay,
                    )
                    time.sleep(delay)
                    continue
                raise CommandError(self._failure(step, exc, attempt, blockers)) from None
            finally:
                watch.stop()

    @property
    def current_step(self) -> Any | None:
        if self.steps is None or self.done >= len(self.steps):
            return None
        return self.steps[self.done]

    def _rollback(self) -> None:
        if self.connection.invalidated or self.connection.closed:
            return
        try:
            self.connection.rollback()
        except sa.exc.DBAPIError:
            self.connection.invalidate()

    def _failure(self, step: Any, exc: sa.exc.DBAPIError, attempts: int, blockers: str) -> str:
        what = describe_step(step)
        if is_lock_timeout(exc):
            reason = (
                f"gave up after {attempts} attempts, each waiting "
                f"{self.limits.lock_timeout:g} s (MIGRATION_LOCK_TIMEOUT) for a lock"
            )
            reason += f" held by {blockers}" if blockers else ""
        else:
            reason = f"failed: {first_line(exc)}"
        message = f"{what} {reason}"
        if exc.statement:
            message += f"; statement: {one_line(exc.statement)}"
        at = self._current_revision()
        if at is not None:
            message += f"; the database stays at revision {at}"
        return message

    def _current_revision(self) -> str | None:
        if self.connection.invalidated or self.connection.closed:
            return None
        try:
            heads = MigrationContext.configure(self.connection).get_current_heads()
            self.connection.rollback()
        except sa.exc.DBAPIError:
            self._rollback()
            return None
        return ", ".join(heads) or "base (empty)"


class BlockerWatch:
    """A second connection that notes who blocks the migration session while it waits."""

    def __init__(self, engine: sa.Engine, pid: int, interval: float):
        self.engine = engine
        self.pid = pid
        self.interval = interval
        self.blockers = ""
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="migration-blockers", daemon=True)

    @classmethod
    def start(cls, connection: sa.Connection, pid: int | None, limits: Limits) -> BlockerWatch:
        """Start watching on PostgreSQL; elsewhere a watch that never sees anything."""
        interval = min(0.25, max(limits.lock_timeout / 5, 0.02))
        watch = cls(connection.engine, pid or 0, interval)
        if pid is not None:
            watch._thread.start()
        return watch

    def stop(self) -> str:
        """Stop (idempotent) and return the last blockers seen, for people."""
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join()
        return self.blockers

    def _watch(self) -> None:
        # The second connection opens once the run has taken an interval: most runs (every
        # `flask db current`) end sooner, and need not pay for it.
        if self._stopped.wait(self.interval):
            return
        try:
            with self.engine.connect() as connection:
                connection.exec_driver_sql("SET application_name = 'pixcrawler-migrate-watch'")
                while True:
                    rows = connection.execute(BLOCKERS_SQL, {"pid": self.pid}).all()
                    connection.rollback()
                    if rows:
                        self.blockers = "; ".join(describe_session(row) for row in rows)
                    if self._stopped.wait(self.interval):
                        return
        except sa.exc.DBAPIError as exc:  # the watch only adds detail; never fail the run
            log.debug("blocker watch stopped: %s", exc)


def describe_session(row: Any) -> str:
    """pid 123 (application "psql", idle in transaction for 12 s: LOCK TABLE …)."""
    app = row.application_name or "no application_name"
    age = f" for {row.xact_seconds:.0f} s" if row.xact_seconds is not None else ""
    return f'pid {row.pid} (application "{app}", {row.state}{age}: {one_line(row.query, 120)})'


def describe_step(step: Any) -> str:
    """'migration 004 (add profile tiers)', or its downgrade, for the one-line messages."""
    if step is None:
        return "the migration run"
    script = getattr(step, "revision", None)
    if script is None:  # a stamp
        return f"stamp {step}"
    doc = (script.doc or "").strip().splitlines()
    title = f"migration {script.revision}" + (f" ({doc[0]})" if doc else "")
    return title if step.is_upgrade else f"downgrade of {title}"


def one_line(text: str | None, limit: int = STATEMENT_CHARS) -> str:
    flat = re.sub(r"\s+", " ", text or "").strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
