"""How Alembic runs inside PixCrawler: what `migrations/env.py` delegates to.

Kept here, not in env.py, so the behaviour is importable, testable and shared by the CLI,
the management commands and the admin. One run, followed from env.py:

- offline (`--sql`), SQL for the app's backend or `-x dialect=…`; SQLite through
  `sqlite_offline`, since its batch operations need a table to copy;
- online, on the app's engine, or on an Engine or Connection a caller hands over in
  `config.attributes["connection"]` (Alembic's cookbook, pytest-alembic);
- commands that only read (`current`, `history`, `check`, `revision`, `merge`) take no lock;
  every other one takes the runner lock (`lock`) before Alembic reads the current revision;
  all run under the guard (`guard`: timeouts, retries, one transaction per revision);
- a connection handed over inside the caller's own transaction stays in it;
- on SQLite, foreign keys are off while batch operations recreate tables, and checked after.

`init_app` sets up what Flask-Migrate needs before any of this: pyproject.toml's settings, and
one line of Alembic's announcement in the log.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from alembic.util import CommandError
from flask import Flask, current_app

from pixcrawler.database import sqlite
from pixcrawler.database.errors import first_line
from pixcrawler.database.urls import mask
from pixcrawler.migrator import (
    operations,  # noqa: F401  (registers op.replace_check_constraint)
    sqlite_offline,
)
from pixcrawler.migrator.guard import Limits, MigrationGuard
from pixcrawler.migrator.lock import runner_lock
from pixcrawler.migrator.new_revisions import number_merges
from pixcrawler.migrator.options import context_options, read_project_settings

log = logging.getLogger("alembic.env")


def run_migrations(context) -> None:
    """The body of env.py: configure Alembic from the current app and run, offline or online."""
    if context.is_offline_mode():
        _run_offline(context)
    else:
        _run_online(context)


def _run_offline(context) -> None:
    url = sa.engine.make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    dialect_name = offline_dialect(context) or url.get_backend_name()
    options = context_options(dialect_name)
    if dialect_name == url.get_backend_name():
        options["url"] = url
    else:
        options["dialect_name"] = dialect_name
    options["literal_binds"] = True
    if dialect_name == "sqlite":  # batch operations need a table to copy: see sqlite_offline
        sqlite_offline.run_migrations(context, options)
        return
    context.configure(**options)
    with context.begin_transaction():
        context.run_migrations()


def offline_dialect(context) -> str | None:
    """`-x dialect=postgresql` (or a caller's attribute) renders SQL for another backend."""
    dialect = context.config.attributes.get("dialect_name")
    dialect = dialect or context.get_x_argument(as_dictionary=True).get("dialect")
    if dialect and dialect not in ("postgresql", "sqlite"):
        raise CommandError(f"unknown dialect {dialect!r}: use postgresql or sqlite")
    return dialect


def _run_online(context) -> None:
    # Alembic's cookbook hands over a Connection; pytest-alembic hands over an Engine, or an
    # object whose connect() yields the connection its test holds open.
    given = context.config.attributes.get("connection")
    if isinstance(given, sa.Connection):
        _run_on(context, given)
        return
    engine = given if given is not None else current_app.extensions["migrate"].db.engine
    with connect(engine) as connection:
        _run_on(context, connection)


@contextmanager
def connect(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A connection, or one clear CommandError naming the database (password hidden)."""
    try:
        opened = engine.connect()
    except sa.exc.DBAPIError as exc:
        target = mask(engine.url.render_as_string(hide_password=False))
        raise CommandError(f"cannot connect to the database {target}: {first_line(exc)}") from None
    with opened as connection:
        yield connection


# Where Alembic announces each migration context ("Context impl …", "Will assume … DDL.").
CONTEXT_LOG = logging.getLogger("alembic.runtime.migration")


class OneContextLine(logging.Filter):
    """Of Alembic's two-line announcement keep "Will assume transactional DDL.", which tells
    that a failing migration rolls back; the backend's name ("Context impl SQLiteImpl.") is
    already known from DATABASE_URL."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg != "Context impl %s."


ONE_CONTEXT_LINE = OneContextLine()


@contextmanager
def quiet(logger: logging.Logger) -> Iterator[None]:
    """Nothing under WARNING from `logger` for a moment."""
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


# Alembic's work functions for `current`, `history`, `check`, `revision` (autogenerate or not)
# and `merge`: they only read the database, so they never wait for (or hold up) a runner.
# Every other command takes the lock.
READ_ONLY_WORK = frozenset(
    {"display_version", "retrieve_migrations", "nothing", "_display_current_history"}
)


def _run_on(context, connection: sa.Connection) -> None:
    limits = Limits.from_config(current_app.config)
    work = _work_name(context, connection)
    if work == "nothing":  # `alembic merge`, which writes its revision after env.py has run
        number_merges(context.script)
    # The lock comes first: Alembic reads the current revision only once it is held.
    lock = nullcontext() if work in READ_ONLY_WORK else None
    with (
        lock or runner_lock(connection, limits.wait_timeout),
        MigrationGuard(connection, limits).session() as guard,
    ):
        _run_guarded(context, connection, guard)


def _work_name(context, connection: sa.Connection) -> str | None:
    """The name of the command's work function (configured again, fully, later, so this first
    context does not announce itself)."""
    with quiet(CONTEXT_LOG):
        context.configure(connection=connection)
    work = context.get_context().opts.get("fn")
    return getattr(work, "__name__", None)


def _run_guarded(context, connection: sa.Connection, guard: MigrationGuard) -> None:
    options = context_options(connection.dialect.name)
    options["on_version_apply"] = [*options.get("on_version_apply", ()), guard.on_version_apply]
    # A caller's own open transaction (a connection handed over) is theirs to end.
    in_caller_transaction = connection.in_transaction()
    is_sqlite = connection.dialect.name == "sqlite" and not in_caller_transaction
    if is_sqlite:
        # Batch mode recreates tables; with enforcement on, dropping the old copy would cascade.
        connection.commit()
        sqlite.set_foreign_keys(connection, False)
        # Each migration takes the write lock up front instead of failing halfway on BUSY.
        connection.info["sqlite_begin"] = "IMMEDIATE"
    try:
        context.configure(connection=connection, **options)
        guard.attach(context.get_context())
        if in_caller_transaction:
            stay_in_caller_transaction(context.get_context())

        def migrate() -> None:
            with context.begin_transaction():
                context.run_migrations()

        guard.run(migrate)
        if is_sqlite:
            check_sqlite_foreign_keys(connection)
    finally:
        if is_sqlite:
            connection.info.pop("sqlite_begin", None)
            connection.commit()
            sqlite.set_foreign_keys(connection, True)


def stay_in_caller_transaction(migration_context: MigrationContext) -> None:
    """A caller that hands over a connection inside its own transaction (pytest-alembic's
    downgrade test rolls each step back) wants every statement in that transaction. So an
    autocommit block runs inside it, and an index is built without CONCURRENTLY, which
    PostgreSQL allows only outside a transaction. On SQLite the foreign-key switch is ignored
    inside a transaction: enforcement stays as the caller set it."""
    migration_context.autocommit_block = nullcontext  # type: ignore[method-assign]
    impl = migration_context.impl
    for name in ("create_index", "drop_index"):
        setattr(impl, name, _not_concurrently(getattr(impl, name)))
    connection = migration_context.connection
    if (
        connection.dialect.name == "sqlite"
        and connection.exec_driver_sql("PRAGMA foreign_keys").scalar()
    ):
        log.warning(
            "foreign keys stay on: the connection was handed over inside a transaction, so a "
            "batch operation that recreates a table would cascade into its child rows"
        )


def _not_concurrently(method):
    def call(index: sa.Index, **kw: Any) -> Any:
        options = index.dialect_options["postgresql"]
        if options.get("concurrently"):
            log.info("%s without CONCURRENTLY, inside the caller's transaction", index.name)
            options["concurrently"] = False
        return method(index, **kw)

    return call


def check_sqlite_foreign_keys(connection: sa.Connection) -> None:
    """Batch operations ran with enforcement off; make sure they broke no reference."""
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        tables = sorted({row[0] for row in broken})
        raise CommandError(f"foreign keys broken after migrating, in: {', '.join(tables)}")


def init_app(app: Flask) -> None:
    """Set up this app's Alembic runs: Flask-Migrate also reads pyproject.toml's
    [tool.alembic], and Alembic announces each migration context in one line."""
    migrate = app.extensions["migrate"].migrate  # one object for every app: configure it once
    if read_project_settings not in migrate.configure_callbacks:
        migrate.configure(read_project_settings)
    CONTEXT_LOG.addFilter(ONE_CONTEXT_LINE)  # the same object: added once per process
