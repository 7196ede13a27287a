"""SQLite SQL without a database: `flask db upgrade --sql`, `flask sqlmigrate`, the admin's SQL.

SQLite cannot alter most of a table, so Alembic's batch mode recreates it: it reads the table's
structure from the live database, creates the new table, copies the rows, drops the old one.
Offline there is no live table to read. So a throwaway in-memory SQLite database runs every
statement as it is rendered, first replaying the revisions before the starting one, and lends
its tables to batch operations as their `copy_from`. The revisions stay exactly as written, and
the SQL printed is the SQL that was just run on a real SQLite.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

import sqlalchemy as sa
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from pixcrawler.migrator.guard import one_line

# As online (`environment`), batch operations run with enforcement off: dropping the old
# copy of a table would otherwise cascade into its child rows. SQLite ignores the switch inside
# a transaction, so it comes first.
FOREIGN_KEYS_OFF = (
    "-- Batch operations recreate tables: with foreign keys enforced, dropping the old copy\n"
    "-- of a table would delete its child rows (ON DELETE CASCADE).\n"
    "PRAGMA foreign_keys=OFF;"
)


def run_migrations(context, options: dict[str, Any]) -> None:
    """Configure this offline run for SQLite and render it, the whole chain included."""
    output = context.config.output_buffer or sys.stdout
    with ScratchDatabase() as scratch:
        scratch.catch_up(context.script, context.get_starting_revision_argument())
        context.configure(output_buffer=scratch.following(output), **options)
        migration_context = context.get_context()
        migration_context.impl.static_output(FOREIGN_KEYS_OFF)
        with context.begin_transaction(), scratch.lending_tables(migration_context):
            migration_context.run_migrations()


class ScratchDatabase:
    """An in-memory SQLite database that runs the SQL as it is rendered."""

    def __init__(self) -> None:
        # Autocommit: Alembic's BEGIN/COMMIT lines are not replayed, every statement stays.
        self.raw = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        self.engine = sa.create_engine(
            "sqlite://", creator=lambda: self.raw, poolclass=sa.pool.StaticPool
        )

    def __enter__(self) -> ScratchDatabase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.engine.dispose()
        self.raw.close()

    def run(self, sql: str) -> None:
        """Run one rendered statement (or comment); a failure here would fail on SQLite too."""
        if sql.strip().rstrip(";").strip().upper() in ("BEGIN", "COMMIT"):
            return
        try:
            self.raw.executescript(sql)
        except sqlite3.Error as exc:
            raise CommandError(
                f"the SQL rendered for SQLite fails on SQLite: {exc}; statement: {one_line(sql)}"
            ) from None

    def following(self, output: TextIO | None) -> _Following:
        """An output buffer for Alembic: writes to `output` (if any) and runs it here."""
        return _Following(self, output)

    def catch_up(self, scripts: ScriptDirectory, start: Any) -> None:
        """Replay the revisions up to `start` (a range's lower end), printing nothing."""
        if start in (None, "base", ()):
            return
        path = reversed(list(scripts.iterate_revisions(start, "base")))
        context = MigrationContext.configure(
            dialect_name="sqlite",
            opts={"as_sql": True, "literal_binds": True, "output_buffer": self.following(None)},
        )
        with self.lending_tables(context):
            for script in path:
                script.module.upgrade()
        # The run goes on from `start`, so it updates a version table that says so.
        version = context.impl.version_table_impl(
            version_table=context.version_table, version_table_schema=None, version_table_pk=True
        )
        context.execute(sa.schema.CreateTable(version))
        for script in scripts.get_revisions(start):
            context.execute(version.insert().values(version_num=script.revision))

    @contextmanager
    def lending_tables(self, migration_context: MigrationContext) -> Iterator[None]:
        """Alembic's `op` for this run, whose batch operations copy this database's tables."""
        with Operations.context(migration_context) as operations:
            operations.batch_alter_table = self._lend(  # type: ignore[method-assign]
                operations.batch_alter_table, migration_context
            )
            yield

    def _lend(self, batch_alter_table: Callable, migration_context: MigrationContext):
        def with_copy_from(table_name: str, **kw: Any):
            # A naming_convention applies only to reflected tables: leave that case to Alembic.
            if kw.get("copy_from") is None and not kw.get("naming_convention"):
                kw["copy_from"] = self.table(table_name, migration_context, **kw)
            return batch_alter_table(table_name, **kw)

        return with_copy_from

    def table(self, name: str, migration_context: MigrationContext, **kw: Any) -> sa.Table | None:
        """The table as it stands now, reflected the way Alembic's batch mode reflects it."""
        reflect_kwargs = dict(kw.get("reflect_kwargs") or {})
        reflect_kwargs["listeners"] = [
            *reflect_kwargs.get("listeners", ()),
            ("column_reflect", migration_context.impl.autogen_column_reflect),
        ]
        with self.engine.connect() as connection:
            try:
                return sa.Table(
                    name,
                    sa.MetaData(),
                    *kw.get("reflect_args", ()),
                    schema=kw.get("schema"),
                    autoload_with=connection,
                    **reflect_kwargs,
                )
            except sa.exc.NoSuchTableError:
                return None  # Alembic then says a batch needs a table


class _Following:
    """What Alembic writes its SQL to: the real output, and the scratch database."""

    def __init__(self, scratch: ScratchDatabase, output: TextIO | None):
        self.scratch = scratch
        self.output = output

    def write(self, text: str) -> int:
        if self.output is not None:
            self.output.write(text)
        self.scratch.run(text)
        return len(text)

    def flush(self) -> None:
        if self.output is not None:
            self.output.flush()
