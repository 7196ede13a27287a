"""The operations autogenerate writes beyond Alembic's own, and how a new revision is finished.

- `op.replace_check_constraint(name, table, condition, previous=...)`: a CHECK added
  (`previous=None`), changed, or removed (`condition=None`), the safe way on each backend. On
  PostgreSQL the old one is dropped and the new one added `NOT VALID` (no scan while the
  ALTER holds its ACCESS EXCLUSIVE lock), the transaction is committed, and the constraint is
  validated in a new one, which scans under a lock that lets writes through. Every step can run
  again after an interruption (`DROP … IF EXISTS`). On SQLite it goes through batch mode.
  Registered on Alembic's `Operations` when this module is imported (env.py imports it), so a
  revision calls it like any other `op.` function; the revision still imports no app code.
- renames, as `op.alter_column(…, new_column_name=…)` and `op.rename_table(…)`, which undo
  themselves in the downgrade;
- a comment above every `drop_column` / `drop_table`, saying that it deletes data.

`finish_revision()` puts these in place once autogenerate (and `renames`) are done.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable

from alembic.autogenerate import renderers
from alembic.operations import Operations, ops

from pixcrawler.migrator.sql_meaning import readable, value_list


@Operations.register_operation("replace_check_constraint")
class ReplaceCheckConstraintOp(ops.MigrateOperation):
    """Make CHECK `constraint_name` on `table_name` read `condition` (None: no such CHECK)."""

    def __init__(
        self,
        constraint_name: str,
        table_name: str,
        condition: str | None,
        *,
        previous: str | None = None,
        schema: str | None = None,
        model_rendering: str | None = None,
        database_rendering: str | None = None,
        columns: tuple[str, ...] = (),
        database_not_valid: bool = False,
        note: str | None = None,
    ) -> None:
        self.constraint_name = constraint_name
        self.table_name = table_name
        self.condition = condition
        self.previous = previous
        self.schema = schema
        # For the comparison's report only: both sides as the database writes them.
        self.model_rendering = model_rendering
        self.database_rendering = database_rendering
        self.columns = columns
        self.database_not_valid = database_not_valid
        self.note = note

    @classmethod
    def replace_check_constraint(
        cls,
        operations: Operations,
        constraint_name: str,
        table_name: str,
        condition: str | None,
        *,
        previous: str | None = None,
        schema: str | None = None,
    ) -> None:
        """Add, change or drop a named CHECK without a long lock (see the module docstring).

        :param condition: the new condition; None drops the constraint.
        :param previous: the condition before (None: there was none); the downgrade's target.
        """
        operations.invoke(
            cls(constraint_name, table_name, condition, previous=previous, schema=schema)
        )

    def reverse(self) -> ReplaceCheckConstraintOp:
        return ReplaceCheckConstraintOp(
            self.constraint_name,
            self.table_name,
            self.previous,
            previous=self.condition,
            schema=self.schema,
            model_rendering=self.database_rendering,
            database_rendering=self.model_rendering,
            columns=self.columns,
            note=f"Back to {self.constraint_name} as it was before this revision.",
        )

    def to_diff_tuple(self) -> tuple:
        return (
            "replace_check",
            self.schema,
            self.table_name,
            self.constraint_name,
            self.previous,
            self.condition,
        )


@Operations.implementation_for(ReplaceCheckConstraintOp)
def replace_check_constraint(operations: Operations, operation: ReplaceCheckConstraintOp) -> None:
    if operations.get_context().dialect.name == "postgresql":
        _replace_on_postgresql(operations, operation)
        return
    name = operations.f(operation.constraint_name)  # final: no naming convention on top
    with operations.batch_alter_table(operation.table_name, schema=operation.schema) as batch:
        if operation.previous is not None:
            batch.drop_constraint(name, type_="check")
        if operation.condition is not None:
            batch.create_check_constraint(name, operation.condition)


def _replace_on_postgresql(operations: Operations, operation: ReplaceCheckConstraintOp) -> None:
    preparer = operations.get_context().dialect.identifier_preparer
    table = preparer.quote(operation.table_name)
    if operation.schema:
        table = f"{preparer.quote_schema(operation.schema)}.{table}"
    name = preparer.quote(operation.constraint_name)
    why = (
        "-- The models no longer declare this CHECK."
        if operation.condition is None
        else "-- Replaced by the models' CHECK below; IF EXISTS lets an interrupted run go again."
    )
    operations.execute(
        f"{why}\n-- squawk-ignore ban-drop-constraint\n"
        f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}"
    )
    if operation.condition is None:
        return
    operations.execute(
        f"ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({operation.condition}) NOT VALID"
    )
    with operations.get_context().autocommit_block():
        pass  # commits: the ALTERs' ACCESS EXCLUSIVE lock ends here
    # A new transaction: the scan runs under SHARE UPDATE EXCLUSIVE, which lets writes through.
    operations.execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {name}")


@renderers.dispatch_for(ReplaceCheckConstraintOp)
def _render_replace_check(autogen_context, op: ReplaceCheckConstraintOp) -> list[str]:
    note = op.note or f"CHECK {op.constraint_name} on {op.table_name}"
    lines = [f"# {line}" for line in textwrap.wrap(note, 92)]
    if op.condition is not None:
        lines.append("# On PostgreSQL: added NOT VALID, committed, then validated (no long lock).")
    args = [repr(op.constraint_name), repr(op.table_name), _python_string(op.condition)]
    args.append(f"previous={_python_string(op.previous)}")
    if op.schema:
        args.append(f"schema={op.schema!r}")
    return [*lines, "op.replace_check_constraint(", *(f"    {a}," for a in args), ")"]


def _python_string(text: str | None) -> str:
    """A Python literal for SQL text, double-quoted when that reads better."""
    if text is None:
        return "None"
    if "'" in text and '"' not in text and "\\" not in text:
        return f'"{text}"'
    return repr(text)


def portable(database_sql: str) -> str:
    """A condition the database printed, as one both backends accept: PostgreSQL's
    `(status)::text = ANY (ARRAY['a'::character varying, …])` becomes `status IN ('a', …)`."""
    found = value_list(database_sql, keep_order=True)
    if found is not None:
        shape = [getattr(t, "value", None) for t in found.shape[:3]]
        if len(found.shape) == 4 and shape[1:] == ["=", "any"]:
            return f"{shape[0]} IN ({', '.join(found.values)})"
    return readable(database_sql)


# --- renames ------------------------------------------------------------------------------


class RenameColumnOp(ops.AlterColumnOp):
    """`alter_column(…, new_column_name=…)`, which Alembic does not undo by itself."""

    def has_changes(self) -> bool:
        return True

    def reverse(self) -> RenameColumnOp:
        return RenameColumnOp(
            self.table_name,
            self.modify_name,
            schema=self.schema,
            modify_name=self.column_name,
            existing_type=self.existing_type,
            existing_nullable=self.existing_nullable,
            existing_server_default=self.existing_server_default,
        )

    def to_diff_tuple(self) -> tuple:
        return ("rename_column", self.schema, self.table_name, self.column_name, self.modify_name)


class RenameTableOp(ops.RenameTableOp):
    """`rename_table(old, new)`, undone by renaming back."""

    def reverse(self) -> RenameTableOp:
        return RenameTableOp(self.new_table_name, self.table_name, schema=self.schema)

    def to_diff_tuple(self) -> tuple:
        return ("rename_table", self.schema, self.table_name, self.new_table_name)


@renderers.dispatch_for(ops.RenameTableOp)
def _render_rename_table(autogen_context, op: ops.RenameTableOp) -> str:
    schema = f", schema={op.schema!r}" if op.schema else ""
    return f"op.rename_table({op.table_name!r}, {op.new_table_name!r}{schema})"


# --- comments in the revision ---------------------------------------------------------------


class NoteOp(ops.MigrateOperation):
    """A comment in the revision, above the operation it explains."""

    def __init__(self, lines: Iterable[str]) -> None:
        self.lines = tuple(lines)

    def reverse(self) -> NoteOp:
        return NoteOp(())

    def to_diff_tuple(self) -> tuple:
        return ("note", self.lines)


@renderers.dispatch_for(NoteOp)
def _render_note(autogen_context, op: NoteOp) -> list[str]:
    return [f"# {line}" for line in op.lines]


def drop_notes(container: ops.OpContainer, hints: dict[str, str]) -> None:
    """Put a comment above each drop_column and drop_table: it deletes data. `hints` adds a
    line for a drop that may have been a rename ("table.column" or "table" as key)."""
    new_ops: list[ops.MigrateOperation] = []
    for op in container.ops:
        if isinstance(op, ops.ModifyTableOps):
            drop_notes(op, hints)
        elif isinstance(op, ops.DropColumnOp):
            key = f"{op.table_name}.{op.column_name}"
            lines = [f"Deletes the column {key} and all its data."]
            new_ops.append(NoteOp([*lines, *_lines(hints.get(key))]))
        elif isinstance(op, ops.DropTableOp):
            lines = [f"Deletes the table {op.table_name} and all its rows."]
            new_ops.append(NoteOp([*lines, *_lines(hints.get(op.table_name))]))
        new_ops.append(op)
    container.ops = new_ops


def _lines(hint: str | None) -> list[str]:
    return hint.splitlines() if hint else []


def hoist_check_changes(upgrade_ops: ops.UpgradeOps) -> None:
    """Move CHECK replacements out of their table's batch block: a dropped CHECK goes before
    the table's other changes (which may drop its column), any other after them (which may add
    its column). Each one runs on its own, with its own commit on PostgreSQL."""
    new_ops: list[ops.MigrateOperation] = []
    for op in upgrade_ops.ops:
        if not isinstance(op, ops.ModifyTableOps):
            new_ops.append(op)
            continue
        checks = [o for o in op.ops if isinstance(o, ReplaceCheckConstraintOp)]
        op.ops = [o for o in op.ops if not isinstance(o, ReplaceCheckConstraintOp)]
        new_ops += [c for c in checks if c.condition is None]
        if op.ops:
            new_ops.append(op)
        new_ops += [c for c in checks if c.condition is not None]
    upgrade_ops.ops = new_ops


def finish_revision(script: ops.MigrationScript, hints: dict[str, str]) -> None:
    """The last touches on a new autogenerated revision: CHECK changes on their own, the
    downgrade derived again from the final upgrade, and a comment above every drop."""
    for upgrade_ops in script.upgrade_ops_list:
        hoist_check_changes(upgrade_ops)
    script.downgrade_ops = [upgrade_ops.reverse() for upgrade_ops in script.upgrade_ops_list]
    for container in [*script.upgrade_ops_list, *script.downgrade_ops_list]:
        drop_notes(container, hints)
