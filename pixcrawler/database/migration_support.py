"""How Alembic runs inside PixCrawler: what `migrations/env.py` delegates to.

Kept here, not in env.py, so the behaviour is importable, testable and shared by the CLI,
the management commands and the admin.
"""

from __future__ import annotations

import copy
import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any, Literal

import click
import sqlalchemy as sa
from alembic.operations.ops import MigrationScript
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from flask import Flask, current_app, g

from pixcrawler.database import sqlite
from pixcrawler.database.errors import first_line
from pixcrawler.database.migration_guard import Limits, MigrationGuard
from pixcrawler.database.migration_lock import runner_lock
from pixcrawler.database.types import UTCDateTime
from pixcrawler.database.urls import mask

log = logging.getLogger("alembic.env")

# Alembic's own ids are the last 12 hex digits of a uuid4; ours are zero-padded numbers.
GENERATED_ID = re.compile(r"[0-9a-f]{12}")
ID_WIDTH = 3

# Schemas a hosted PostgreSQL (Supabase) keeps for itself; never compared, never dropped.
FOREIGN_SCHEMAS = frozenset(
    {
        "auth",
        "storage",
        "realtime",
        "extensions",
        "graphql",
        "graphql_public",
        "vault",
        "pgsodium",
        "pgsodium_masks",
        "supabase_functions",
        "supabase_migrations",
        "net",
        "cron",
        "information_schema",
        "pg_catalog",
    }
)


def run_migrations(context) -> None:
    """The body of env.py: configure Alembic from the current app and run, offline or online."""
    if context.is_offline_mode():
        _run_offline(context)
    else:
        _run_online(context)


def context_options(dialect_name: str) -> dict[str, Any]:
    """Options every run shares, whatever the mode."""
    options = dict(current_app.extensions["migrate"].configure_args)
    options.update(
        target_metadata=current_app.extensions["migrate"].db.metadata,
        compare_type=True,
        render_as_batch=dialect_name == "sqlite",
        transaction_per_migration=True,
        include_schemas=False,
        include_name=include_name,
        process_revision_directives=process_revision_directives,
        render_item=render_item,
    )
    if dialect_name == "sqlite":
        # Our SQLite connections really BEGIN (see database/sqlite.py), so DDL can roll back.
        options["transactional_ddl"] = True
    return options


def _run_offline(context) -> None:
    url = sa.engine.make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    dialect_name = offline_dialect(context) or url.get_backend_name()
    options = context_options(dialect_name)
    if dialect_name == url.get_backend_name():
        options["url"] = url
    else:
        options["dialect_name"] = dialect_name
    context.configure(literal_binds=True, **options)
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
    given = context.config.attributes.get("connection")
    if given is not None:
        _run_on(context, given)
        return
    engine = current_app.extensions["migrate"].db.engine
    with connect(engine) as connection:
        _run_on(context, connection)


@contextmanager
def connect(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A connection, or one clear CommandError naming the database (password hidden)."""
    try:
        connection = engine.connect()
    except sa.exc.DBAPIError as exc:
        target = mask(engine.url.render_as_string(hide_password=False))
        raise CommandError(f"cannot connect to the database {target}: {first_line(exc)}") from None
    with connection:
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


# Alembic's work functions for `flask db current`, `check` and autogenerate: they only read,
# so they never wait for (or hold up) a runner. Every other command takes the lock.
READ_ONLY_WORK = frozenset({"display_version", "retrieve_migrations", "nothing"})


def _run_on(context, connection: sa.Connection) -> None:
    limits = Limits.from_config(current_app.config)
    # The lock comes first: Alembic reads the current revision only once it is held.
    lock = nullcontext() if _reads_only(context, connection) else None
    with (
        lock or runner_lock(connection, limits.wait_timeout),
        MigrationGuard(connection, limits).session() as guard,
    ):
        _run_guarded(context, connection, guard)


def _reads_only(context, connection: sa.Connection) -> bool:
    """Whether this run only reads (the command's work function tells; configured again later,
    so this first context does not announce itself)."""
    with quiet(CONTEXT_LOG):
        context.configure(connection=connection)
    work = context.get_context().opts.get("fn")
    return getattr(work, "__name__", None) in READ_ONLY_WORK


def _run_guarded(context, connection: sa.Connection, guard: MigrationGuard) -> None:
    options = context_options(connection.dialect.name)
    options["on_version_apply"] = [*options.get("on_version_apply", ()), guard.on_version_apply]
    is_sqlite = connection.dialect.name == "sqlite"
    if is_sqlite:
        # Batch mode recreates tables; with enforcement on, dropping the old copy would cascade.
        connection.commit()
        sqlite.set_foreign_keys(connection, False)
        # Each migration takes the write lock up front instead of failing halfway on BUSY.
        connection.info["sqlite_begin"] = "IMMEDIATE"
    try:
        context.configure(connection=connection, **options)
        guard.attach(context.get_context())

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


def check_sqlite_foreign_keys(connection: sa.Connection) -> None:
    """Batch operations ran with enforcement off; make sure they broke no reference."""
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        tables = sorted({row[0] for row in broken})
        raise CommandError(f"foreign keys broken after migrating, in: {', '.join(tables)}")


def include_name(name: str | None, type_: str, parent_names: dict[str, Any]) -> bool:
    """Autogenerate and `flask db check` look only at the app's own schema."""
    if type_ == "schema":
        return name is None or name not in FOREIGN_SCHEMAS
    return True


def render_item(type_: str, obj: Any, autogen_context) -> str | Literal[False]:
    """Write app-only column types as plain SQLAlchemy ones, so revisions never import the app."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def process_revision_directives(context, revision, directives: list[MigrationScript]) -> None:
    """Number new revisions 002, 003, …; write no file when autogenerate found nothing."""
    script = directives[0]
    cmd_opts = context.config.cmd_opts
    if getattr(cmd_opts, "autogenerate", False) and script.upgrade_ops.is_empty():
        directives[:] = []
        log.info("No changes in schema detected.")
        return
    if GENERATED_ID.fullmatch(script.rev_id):  # an explicit --rev-id is kept as given
        script.rev_id = next_revision_id(ScriptDirectory.from_config(context.config))


def next_revision_id(scripts: ScriptDirectory) -> str:
    """One more than the highest numbered revision, zero-padded: 001 → 002."""
    numbers = [int(rev.revision) for rev in scripts.walk_revisions() if rev.revision.isdigit()]
    return str(max(numbers, default=0) + 1).zfill(ID_WIDTH)


def register(app: Flask) -> None:
    """Adjust Flask-Migrate's `db` group: numbered merges, `downgrade -1` as people type it,
    confirmed production downgrades, and `flask db lint`."""
    CONTEXT_LOG.addFilter(ONE_CONTEXT_LINE)  # the same object: added once per process
    group = app.cli.commands["db"]
    adjusted = copy.copy(group)  # Flask-Migrate's group object is shared; leave it untouched
    adjusted.commands = dict(group.commands)
    adjusted.add_command(_numbered_merge(group.commands["merge"]), "merge")
    adjusted.add_command(_confirmed_downgrade(group.commands["downgrade"]), "downgrade")
    from pixcrawler.commands._db_lint import lint_command  # the CLI layer; imported late

    adjusted.add_command(lint_command, "lint")
    app.cli.add_command(adjusted, "db")


def _confirmed_downgrade(original: click.Command) -> click.Command:
    """`flask db downgrade`, which asks first in production: `downgrade base` drops every table."""

    def callback(yes: bool, **params: Any) -> Any:
        if not params.get("sql"):  # --sql only prints
            confirm_downgrade(params["revision"], yes)
        return original.callback(**params)

    yes = click.Option(
        ["--yes"],
        is_flag=True,
        help="Downgrade a production database without asking (PIXCRAWLER_ALLOW_DOWNGRADE=1 too).",
    )
    return click.Command(
        name=original.name,
        callback=callback,
        params=[*original.params, yes],
        help=original.help,
        # Otherwise click reads the relative revision "-1" as an unknown option.
        context_settings={**original.context_settings, "ignore_unknown_options": True},
    )


def confirm_downgrade(revision: str, yes: bool) -> None:
    """In the production config, ask on a terminal; without one, refuse unless told to go on."""
    config = current_app.config
    if config["ENV_NAME"] != "production" or yes or config.get("ALLOW_DOWNGRADE"):
        return
    target = mask(current_app.extensions["migrate"].db.engine.url.render_as_string(False))
    question = (
        f"Downgrade the production database {target} to {revision}? "
        "Downgrades drop tables and columns, and their data."
    )
    if not sys.stdin.isatty():
        raise click.ClickException(
            f"refusing to downgrade the production database {target} without confirmation: "
            "run it in a terminal, or pass --yes (or set PIXCRAWLER_ALLOW_DOWNGRADE=1)"
        )
    if not click.confirm(question, default=False):
        raise click.ClickException("downgrade cancelled; nothing was changed")


def _numbered_merge(original: click.Command) -> click.Command:
    def callback(**params: Any) -> Any:
        if not params.get("rev_id"):
            directory = (
                params["directory"] or g.directory or current_app.extensions["migrate"].directory
            )
            config = current_app.extensions["migrate"].migrate.get_config(directory)
            params["rev_id"] = next_revision_id(ScriptDirectory.from_config(config))
        return original.callback(**params)

    return click.Command(
        name=original.name, callback=callback, params=original.params, help=original.help
    )
