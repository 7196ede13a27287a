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
from pathlib import Path
from typing import Any, Literal

import alembic.context
import click
import sqlalchemy as sa
from alembic.operations.ops import MigrationScript
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from flask import Flask, current_app, g
from sqlalchemy.dialects import postgresql

from pixcrawler.database import (
    schema_compare,
    schema_operations,
    schema_renames,
    sqlite,
    sqlite_offline,
)
from pixcrawler.database.errors import first_line
from pixcrawler.database.migration_guard import Limits, MigrationGuard
from pixcrawler.database.migration_lock import runner_lock
from pixcrawler.database.types import UTCDateTime
from pixcrawler.database.urls import mask

log = logging.getLogger("alembic.env")

# Alembic's own ids are the last 12 hex digits of a uuid4; ours are zero-padded numbers.
GENERATED_ID = re.compile(r"[0-9a-f]{12}")
ID_WIDTH = 3

# Alembic's settings ([tool.alembic]): beside the package in the repository, as migrations/ is.
PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"

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
    """Options every run shares, whatever the mode; comparisons see CHECKs and server
    defaults too (`schema_compare`)."""
    options = dict(current_app.extensions["migrate"].configure_args)
    options.update(
        target_metadata=given_metadata() or current_app.extensions["migrate"].db.metadata,
        compare_type=True,
        compare_server_default=schema_compare.compare_server_default,
        autogenerate_plugins=["alembic.autogenerate.*", schema_compare.PLUGIN],
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


def include_name(name: str | None, type_: str, parent_names: dict[str, Any]) -> bool:
    """Autogenerate and `flask db check` look only at the app's own schema."""
    if type_ == "schema":
        return name is None or name not in FOREIGN_SCHEMAS
    return True


def render_item(type_: str, obj: Any, autogen_context) -> str | Literal[False]:
    """Write app-only column types as plain SQLAlchemy ones, so revisions never import the app;
    and JSONB (the JSON columns' PostgreSQL variant) so it also renders when the revision is
    made on SQLite, whose renderer would leave `astext_type=Text()` undefined."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, postgresql.JSONB):
        autogen_context.imports.add("from sqlalchemy.dialects import postgresql")
        return "postgresql.JSONB(astext_type=sa.Text())"
    return False


def process_revision_directives(context, revision, directives: list[MigrationScript]) -> None:
    """Number new revisions 002, 003, …; write no file when autogenerate found nothing; ask
    about renames (`schema_renames`) and finish what autogenerate wrote (`schema_operations`)."""
    script = directives[0]
    cmd_opts = context.config.cmd_opts
    autogenerate = getattr(cmd_opts, "autogenerate", False)
    if autogenerate:
        advice = schema_renames.resolve(context, script)  # checks --rename even when empty
        if not script.upgrade_ops.is_empty():
            schema_operations.finish_revision(script, advice)
    if autogenerate and script.upgrade_ops.is_empty():
        directives[:] = []
        log.info("No changes in schema detected.")
        return
    if GENERATED_ID.fullmatch(script.rev_id):  # an explicit --rev-id is kept as given
        script.rev_id = next_revision_id(ScriptDirectory.from_config(context.config))


def next_revision_id(scripts: ScriptDirectory) -> str:
    """One more than the highest numbered revision, zero-padded: 001 → 002."""
    numbers = [int(rev.revision) for rev in scripts.walk_revisions() if rev.revision.isdigit()]
    return str(max(numbers, default=0) + 1).zfill(ID_WIDTH)


def read_project_settings(config):
    """Flask-Migrate reads only migrations/alembic.ini: add pyproject.toml's [tool.alembic],
    where plain `alembic` finds the same settings, so there is one copy of them."""
    config.toml_file_name = str(PYPROJECT)
    return config


def register(app: Flask) -> None:
    """Adjust Flask-Migrate's `db` group: numbered merges, `downgrade -1` as people type it,
    confirmed production downgrades, drift in words, renames in `migrate`, and `flask db lint`."""
    migrate = app.extensions["migrate"].migrate  # one object for every app: configure it once
    if read_project_settings not in migrate.configure_callbacks:
        migrate.configure(read_project_settings)
    CONTEXT_LOG.addFilter(ONE_CONTEXT_LINE)  # the same object: added once per process
    group = app.cli.commands["db"]
    adjusted = copy.copy(group)  # Flask-Migrate's group object is shared; leave it untouched
    adjusted.commands = dict(group.commands)
    adjusted.add_command(_numbered_merge(group.commands["merge"]), "merge")
    adjusted.add_command(_confirmed_downgrade(group.commands["downgrade"]), "downgrade")
    # The CLI layer, imported late: `flask db check` in words, `migrate` with --rename, `lint`.
    from pixcrawler.commands._db_check import check_command
    from pixcrawler.commands._db_impact import impact_command
    from pixcrawler.commands._db_lint import lint_command
    from pixcrawler.commands._db_migrate import migrate_command

    adjusted.add_command(check_command(group.commands["check"]), "check")
    adjusted.add_command(migrate_command(group.commands["migrate"]), "migrate")
    adjusted.add_command(lint_command, "lint")
    adjusted.add_command(impact_command, "impact")
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
        directory = (
            params["directory"] or g.directory or current_app.extensions["migrate"].directory
        )
        config = current_app.extensions["migrate"].migrate.get_config(directory)
        scripts = ScriptDirectory.from_config(config)
        try:
            params["revisions"] = merge_targets(scripts, params["revisions"])
        except CommandError as exc:
            raise click.ClickException(str(exc)) from None
        if not params.get("rev_id"):
            params["rev_id"] = next_revision_id(scripts)
        return original.callback(**params)

    return click.Command(
        name=original.name,
        callback=callback,
        params=original.params,
        help="Merge revisions into a new revision; with none given, all the current heads.",
    )


def given_metadata() -> sa.MetaData | None:
    """Models a caller compares instead of the app's, as `config.attributes["target_metadata"]`
    (the tests hand in changed copies); None when not given or no Alembic command runs."""
    config = getattr(alembic.context, "config", None)  # set only while env.py runs
    return config.attributes.get("target_metadata") if config is not None else None


def merge_targets(scripts: ScriptDirectory, revisions: Any) -> tuple[str, ...]:
    """The revisions a merge joins: those given, or every head when none is. Fewer than two
    is refused: Alembic would write a plain child revision, or with none at all a new root."""
    asked = (revisions,) if isinstance(revisions, str) else tuple(revisions or ())
    asked = asked or ("heads",)
    try:
        found = scripts.get_revisions(asked)
    except RevisionError as exc:
        raise CommandError(str(exc)) from None
    ids = tuple(dict.fromkeys(script.revision for script in found if script is not None))
    if len(ids) >= 2:
        return ids
    what = "head" if asked == ("heads",) else "revision"
    raise CommandError(f"nothing to merge: one {what}, {ids[0]}" if ids else "nothing to merge")


def number_merges(scripts: ScriptDirectory) -> None:
    """Give plain `alembic merge` the rules of `flask db merge`: the next number as its id,
    and the heads checked (this run's ScriptDirectory writes the file once env.py is done)."""
    generate = scripts.generate_revision

    def generate_merge(revid: str, message: str | None, head: Any = None, **kw: Any):
        head = merge_targets(scripts, head)
        if GENERATED_ID.fullmatch(revid):  # an explicit --rev-id is kept as given
            revid = next_revision_id(scripts)
        return generate(revid, message, head=head, **kw)

    scripts.generate_revision = generate_merge  # type: ignore[method-assign]
