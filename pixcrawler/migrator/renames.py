"""Renames are asked, not dropped.

Autogenerate cannot tell a renamed column from one dropped and another added, and writes the
drop: every value in the column is deleted. Like Django's `makemigrations`, `flask db migrate`
asks instead, when a table loses a column and gains one of a compatible type:

    Did you rename projects.description to projects.summary (a TEXT)? [y/N]

Scripts answer with `--rename projects.description=summary` (a column) or
`--rename old_table=new_table` (a table); under plain Alembic that is
`-x rename=projects.description=summary`. The revision then renames (`alter_column(…,
new_column_name=…)`, `rename_table`), and its downgrade renames back. What else changed is
found by comparing again with the renames applied, inside a savepoint that is rolled back: so
an index or constraint named after the old name is renamed too, and `flask db check` agrees
after the upgrade.

Without a terminal and without `--rename`, the drop and the add stay, with a warning on stderr
that names the flag which would keep the data, and the same advice above the drop in the file.
A `--rename` that names an unknown table or column, or a pair autogenerate did not see dropped
and added, stops the command with one line and no file.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass

import click
import sqlalchemy as sa
from alembic.autogenerate import produce_migrations
from alembic.operations import ops
from alembic.runtime.migration import MigrationContext
from alembic.util import CommandError

from pixcrawler.migrator.operations import RenameColumnOp, RenameTableOp

log = logging.getLogger("alembic.autogenerate.compare")

X_KEY = "rename"  # -x rename=SPEC, what --rename SPEC becomes
NAME = r"[A-Za-z_][A-Za-z0-9_$]*"
SPEC = re.compile(
    rf"^(?:(?P<table>{NAME})\.)?(?P<old>{NAME})=(?:(?P<same>{NAME})\.)?(?P<new>{NAME})$"
)

Ask = Callable[[str], bool]


class RenameError(CommandError):
    """A --rename that cannot be followed: one line for people."""


@dataclass(frozen=True)
class Rename:
    """A table renamed (`column` is None), or a column of `table` renamed."""

    table: str
    column: str | None
    new: str

    @property
    def is_table(self) -> bool:
        return self.column is None

    @property
    def old_name(self) -> str:
        return f"{self.table}.{self.column}" if self.column else self.table

    @property
    def new_name(self) -> str:
        return f"{self.table}.{self.new}" if self.column else self.new

    def __str__(self) -> str:
        return f"{self.old_name}={self.new}"


def parse(spec: str) -> Rename:
    """`projects.description=summary` (a column) or `old_table=new_table` (a table)."""
    match = SPEC.match(spec.strip())
    if match is None:
        raise RenameError(
            f"--rename {spec!r}: expected TABLE.COLUMN=NEW_COLUMN or OLD_TABLE=NEW_TABLE"
        )
    table, old, same, new = match.group("table", "old", "same", "new")
    if table is None:
        if same is not None:
            raise RenameError(f"--rename {spec!r}: a table is renamed as OLD_TABLE=NEW_TABLE")
        return Rename(old, None, new)
    if same is not None and same != table:
        raise RenameError(f"--rename {spec!r}: a column stays in its table ({table})")
    return Rename(table, old, new)


def given(config) -> list[Rename]:
    """The renames passed as `-x rename=SPEC` (which `--rename SPEC` becomes)."""
    found = []
    for argument in getattr(config.cmd_opts, "x", None) or []:
        key, _, value = argument.partition("=")
        if key == X_KEY:
            found.append(parse(value))
    for kind in ("old", "new"):
        names = [r.old_name if kind == "old" else r.new_name for r in found]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise RenameError(f"--rename names {twice[0]} twice")
    return found


def terminal_question(question: str) -> bool:
    return click.confirm(question, default=False, err=True)


def asker(config) -> Ask | None:
    """Who answers the rename questions: a caller's `config.attributes["ask_rename"]`, the
    person at the terminal, or nobody (then a warning)."""
    if "ask_rename" in config.attributes:
        return config.attributes["ask_rename"]
    return terminal_question if sys.stdin.isatty() else None


# --- what autogenerate saw ----------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """A column dropped and one added in the same table, or a table dropped and one added."""

    rename: Rename
    dropped: ops.MigrateOperation  # DropColumnOp or DropTableOp
    added: ops.MigrateOperation  # AddColumnOp or CreateTableOp
    compatible: bool


def candidates(
    upgrade_ops: ops.UpgradeOps, tables: bool, context: MigrationContext
) -> list[Candidate]:
    found = []
    if tables:
        dropped = [o for o in upgrade_ops.ops if isinstance(o, ops.DropTableOp)]
        added = [o for o in upgrade_ops.ops if isinstance(o, ops.CreateTableOp)]
        for drop in dropped:
            for add in added:
                fits = _tables_fit(drop.to_table(), add.to_table(), context)
                found.append(
                    Candidate(Rename(drop.table_name, None, add.table_name), drop, add, fits)
                )
        return found
    for table_ops in upgrade_ops.ops:
        if not isinstance(table_ops, ops.ModifyTableOps):
            continue
        dropped = [o for o in table_ops.ops if isinstance(o, ops.DropColumnOp)]
        added = [o for o in table_ops.ops if isinstance(o, ops.AddColumnOp)]
        for drop in dropped:
            for add in added:
                fits = _types_fit(drop.to_column(), add.column, context)
                rename = Rename(table_ops.table_name, drop.column_name, add.column.name)
                found.append(Candidate(rename, drop, add, fits))
    return found


def _types_fit(old: sa.Column, new: sa.Column, context: MigrationContext) -> bool:
    """Same kind of value: a rename, not a different column. The same type as autogenerate
    sees it (SQLite stores a UUID as CHAR(32)), or one of the same kind (text, integer, …)."""
    if not context.impl.compare_type(old, new):
        return True
    try:
        return old.type.python_type is new.type.python_type
    except NotImplementedError:
        return False


def _tables_fit(old: sa.Table, new: sa.Table, context: MigrationContext) -> bool:
    """The same columns (by name: a model's column may have another key), of the same kinds."""
    new_columns = {column.name: column for column in new.columns}
    if {column.name for column in old.columns} != set(new_columns):
        return False
    return all(_types_fit(c, new_columns[c.name], context) for c in old.columns)


# --- deciding -----------------------------------------------------------------------------


def resolve(context: MigrationContext, script: ops.MigrationScript) -> dict[str, str]:
    """Apply the renames given or confirmed to `script`; return advice for the drops left
    (keyed "table" or "table.column") that may have been renames."""
    config = context.config
    renames = given(config)
    ask = asker(config)
    accepted: list[Rename] = []
    advice: dict[str, str] = {}
    for tables in (True, False):
        found = candidates(script.upgrade_ops, tables, context)
        chosen = [r for r in renames if r.is_table == tables]
        for rename in chosen:
            _check(context, rename, found, accepted)
        decided = {r.old_name for r in chosen} | {r.new_name for r in chosen}
        for candidate in found:
            rename = candidate.rename
            if not candidate.compatible or {rename.old_name, rename.new_name} & decided:
                continue
            if ask is None:  # one line of advice per table or column it might have become
                lines = [advice.get(rename.old_name), _advise(rename, candidate, context.dialect)]
                advice[rename.old_name] = "\n".join(line for line in lines if line)
            elif ask(_question(rename, candidate, context.dialect)):
                chosen.append(rename)
                decided |= {rename.old_name, rename.new_name}
        if chosen:
            for rename in chosen:
                log.info("Renaming %s to %s (its data stays)", rename.old_name, rename.new_name)
            accepted += chosen
            script.upgrade_ops = compare_with_renames(context, accepted, script)
    return advice


def _check(
    context: MigrationContext, rename: Rename, found: list[Candidate], accepted: list[Rename]
) -> None:
    """One clear line when a --rename cannot be what happened."""
    if any(c.rename == rename for c in found):
        return
    where = f"--rename {rename}"
    models = context.opts["target_metadata"].tables
    inspector = sa.inspect(context.bind)
    old_table = next(
        (r.table for r in accepted if r.is_table and r.new == rename.table), rename.table
    )
    if not inspector.has_table(old_table):
        raise RenameError(f"{where}: the database has no table {rename.table}")
    if rename.is_table:
        if rename.new not in models:
            raise RenameError(f"{where}: the models have no table {rename.new}")
        raise RenameError(
            f"{where}: autogenerate did not see the table {rename.table} dropped and "
            f"{rename.new} added"
        )
    if rename.column not in {c["name"] for c in inspector.get_columns(old_table)}:
        raise RenameError(f"{where}: the database has no column {rename.old_name}")
    if rename.table not in models or rename.new not in models[rename.table].c:
        raise RenameError(f"{where}: the models have no column {rename.new_name}")
    raise RenameError(
        f"{where}: autogenerate did not see {rename.old_name} dropped and {rename.new_name} added"
    )


def _question(rename: Rename, candidate: Candidate, dialect: sa.Dialect) -> str:
    if rename.is_table:
        return f"Did you rename the table {rename.table} to {rename.new}?"
    type_name = candidate.added.column.type.compile(dialect=dialect)
    return f"Did you rename {rename.old_name} to {rename.new_name} (a {type_name})?"


def _advise(rename: Rename, candidate: Candidate, dialect: sa.Dialect) -> str:
    """Warn on stderr now; the returned text goes above the drop in the revision."""
    if rename.is_table:
        seen = f"table {rename.table} is dropped and {rename.new} added"
        keep = "its rows"
    else:
        type_name = candidate.added.column.type.compile(dialect=dialect)
        seen = f"{rename.old_name} is dropped and {rename.new_name} ({type_name}) added"
        keep = "its data"
    click.echo(
        f"Warning: {seen}; if it was renamed, run again with --rename {rename} to keep {keep}.",
        err=True,
    )
    return (
        f"If {rename.old_name} was renamed to {rename.new_name}, make this revision again with\n"
        f"`flask db migrate --rename {rename}`: {keep} then stay."
    )


# --- comparing again, renames applied -------------------------------------------------------


def compare_with_renames(
    context: MigrationContext, renames: list[Rename], script: ops.MigrationScript
) -> ops.UpgradeOps:
    """The renames as operations, then whatever else differs once they are done: found by
    renaming for real in a savepoint, comparing, and rolling back."""
    connection = context.bind
    preparer = connection.dialect.identifier_preparer
    rename_ops = _rename_ops(renames, script)
    savepoint = connection.begin_nested()
    try:
        for rename in renames:
            connection.exec_driver_sql(_rename_sql(rename, preparer))
        compared = produce_migrations(context, context.opts["target_metadata"])
    finally:
        savepoint.rollback()
    return ops.UpgradeOps(ops=[*rename_ops, *compared.upgrade_ops.ops])


def _rename_sql(rename: Rename, preparer) -> str:
    table = preparer.quote(rename.table)
    if rename.is_table:
        return f"ALTER TABLE {table} RENAME TO {preparer.quote(rename.new)}"
    old, new = preparer.quote(rename.column), preparer.quote(rename.new)
    return f"ALTER TABLE {table} RENAME COLUMN {old} TO {new}"


def _rename_ops(renames: list[Rename], script: ops.MigrationScript) -> list[ops.MigrateOperation]:
    """Tables first, then columns (under their table's new name), as Alembic operations."""
    previous = script.upgrade_ops  # the drops carry the columns' current definitions
    dropped_columns = {
        (t.table_name, o.column_name): o.to_column()
        for t in previous.ops
        if isinstance(t, ops.ModifyTableOps)
        for o in t.ops
        if isinstance(o, ops.DropColumnOp)
    }
    result: list[ops.MigrateOperation] = []
    for rename in renames:
        if rename.is_table:
            result.append(RenameTableOp(rename.table, rename.new))
            continue
        column = dropped_columns.get((rename.table, rename.column))
        alter = RenameColumnOp(
            rename.table,
            rename.column,
            modify_name=rename.new,
            existing_type=column.type if column is not None else None,
            existing_nullable=column.nullable if column is not None else None,
            existing_server_default=column.server_default if column is not None else False,
        )
        result.append(ops.ModifyTableOps(rename.table, [alter]))
    return result
