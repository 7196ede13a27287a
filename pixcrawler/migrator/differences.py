"""Drift in words: one line per difference between the models and the database.

Autogenerate answers with operations (Alembic's `ops`), and their Python repr is no report.
`describe()` turns them into sentences people can act on, always "<where>: <what> in the
models, <what> in the database", for example:

    crawl_jobs.status: CHECK ck_crawl_jobs_status allows 'paused' in the models, not in \
the database
    projects: foreign key fk_projects_user_id_profiles ON DELETE CASCADE in the database, \
RESTRICT in the models

`flask db check`, `flask check` (migrations.E004), the admin's drift panel and
`/admin/api/migrations` all print these lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

import sqlalchemy as sa
from alembic.operations import ops

from pixcrawler.migrator.operations import (
    NoteOp,
    RenameColumnOp,
    RenameTableOp,
    ReplaceCheckConstraintOp,
)
from pixcrawler.migrator.sql_meaning import names_in, readable, same_meaning, value_list


def describe(
    containers: ops.OpContainer | Iterable[ops.OpContainer], dialect: sa.Dialect
) -> list[str]:
    """One line per difference, in autogenerate's order."""
    if isinstance(containers, ops.OpContainer):
        containers = [containers]
    lines: list[str] = []
    for container in containers:
        # A table added or dropped whole: its indexes come and go with it, not worth a line.
        whole = {
            op.table_name
            for op in container.ops
            if isinstance(op, (ops.CreateTableOp, ops.DropTableOp))
        }
        lines += list(_describe_ops(container.ops, None, dialect, whole))
    return lines


def _describe_ops(
    items: list, table: str | None, dialect: sa.Dialect, whole: set[str]
) -> Iterator[str]:
    pending = list(items)
    while pending:
        op = pending.pop(0)
        if isinstance(op, ops.ModifyTableOps):
            yield from _describe_ops(op.ops, op.table_name, dialect, whole)
            continue
        if isinstance(op, (ops.CreateIndexOp, ops.DropIndexOp)) and op.table_name in whole:
            continue
        partner = _partner(op, pending)
        if partner is not None:
            pending.remove(partner)
            yield _changed(op, partner, dialect)
        else:
            yield from _one(op, table, dialect)


def _one(op, table: str | None, dialect: sa.Dialect) -> Iterator[str]:
    if isinstance(op, ops.CreateTableOp):
        yield f"{op.table_name}: table in the models, not in the database"
    elif isinstance(op, ops.DropTableOp):
        yield f"{op.table_name}: table in the database, not in the models"
    elif isinstance(op, ops.AddColumnOp):
        yield (
            f"{op.table_name}.{op.column.name}: column ({type_name(op.column.type, dialect)}) "
            "in the models, not in the database"
        )
    elif isinstance(op, ops.DropColumnOp):
        column = op.to_column()
        yield (
            f"{op.table_name}.{op.column_name}: column ({type_name(column.type, dialect)}) "
            "in the database, not in the models"
        )
    elif isinstance(op, RenameColumnOp):
        yield f"{op.table_name}.{op.column_name}: renamed to {op.modify_name}"
    elif isinstance(op, RenameTableOp):
        yield f"{op.table_name}: renamed to {op.new_table_name}"
    elif isinstance(op, ops.AlterColumnOp):
        yield from _altered_column(op, dialect)
    elif isinstance(op, ReplaceCheckConstraintOp):
        yield check_difference(op)
    elif isinstance(op, ops.CreateIndexOp):
        yield f"{op.table_name}: {_index(op.to_index())} in the models, not in the database"
    elif isinstance(op, ops.DropIndexOp):
        yield f"{op.table_name}: {_index(op.to_index())} in the database, not in the models"
    elif isinstance(op, ops.AddConstraintOp):
        constraint = op.to_constraint()
        where = _table_of(op, table)
        yield f"{where}: {_constraint(constraint)} in the models, not in the database"
    elif isinstance(op, ops.DropConstraintOp):
        where = _table_of(op, table)
        yield f"{where}: {_dropped_constraint(op)} in the database, not in the models"
    elif isinstance(op, (ops.CreateTableCommentOp, ops.DropTableCommentOp)):
        model = getattr(op, "comment", None)
        yield (
            f"{op.table_name}: table comment {_quoted(model)} in the models, "
            f"{_quoted(op.existing_comment)} in the database"
        )
    elif isinstance(op, NoteOp):
        return
    else:  # an operation a plugin added: its kind and table, never a repr
        kind = type(op).__name__.removesuffix("Op")
        yield f"{_table_of(op, table)}: {kind}"


def _table_of(op, table: str | None) -> str:
    return getattr(op, "table_name", None) or getattr(op, "source_table", None) or table or "?"


# --- columns ------------------------------------------------------------------------------


def _altered_column(op: ops.AlterColumnOp, dialect: sa.Dialect) -> Iterator[str]:
    where = f"{op.table_name}.{op.column_name}"
    if op.modify_type is not None:
        yield (
            f"{where}: type {type_name(op.modify_type, dialect)} in the models, "
            f"{type_name(op.existing_type, dialect)} in the database"
        )
    if op.modify_nullable is not None:
        model, database = ("NULL allowed", "NOT NULL")
        if not op.modify_nullable:
            model, database = database, model
        yield f"{where}: {model} in the models, {database} in the database"
    if op.modify_server_default is not False:
        yield (
            f"{where}: server default {_default(op.modify_server_default, dialect)} in the "
            f"models, {_default(op.existing_server_default, dialect)} in the database"
        )
    if op.modify_comment is not False:
        yield (
            f"{where}: comment {_quoted(op.modify_comment)} in the models, "
            f"{_quoted(op.existing_comment)} in the database"
        )


def type_name(type_: sa.types.TypeEngine | None, dialect: sa.Dialect) -> str:
    if type_ is None:
        return "unknown type"
    try:
        return type_.compile(dialect=dialect)
    except sa.exc.SQLAlchemyError:
        return type(type_).__name__.upper()


def _default(default, dialect: sa.Dialect) -> str:
    """A server default as people write it; a number shows unquoted whichever way it was
    given (`server_default="500"` and a reflected `'500'` are both 500)."""
    if default is None or default is False:
        return "none"
    if isinstance(default, sa.DefaultClause):
        default = default.arg
    if isinstance(default, str):
        text = "'" + default.replace("'", "''") + "'"
    elif isinstance(default, sa.sql.elements.TextClause):
        text = readable(default.text)
    elif isinstance(default, sa.sql.ClauseElement):
        compiled = default.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
        text = readable(str(compiled))
    else:
        text = readable(str(default))
    return re.sub(r"^'(-?\d+(?:\.\d+)?)'$", r"\1", text)


def _quoted(text: str | None) -> str:
    return "none" if text is None else repr(text)


# --- CHECK constraints --------------------------------------------------------------------


def check_difference(op: ReplaceCheckConstraintOp) -> str:
    """What the models' CHECK allows that the database's does not, or how they read."""
    model, database = op.model_rendering, op.database_rendering
    sides = [s for s in (model, database) if s]
    columns = {c.lower(): c for c in op.columns}
    used = {columns[n] for s in sides for n in names_in(s) if n in columns}
    where = f"{op.table_name}.{used.pop()}" if len(used) == 1 else op.table_name
    what = f"CHECK {op.constraint_name}"
    if model is None:
        return f"{where}: {what} ({readable(database)}) in the database, not in the models"
    if database is None:
        return f"{where}: {what} ({readable(model)}) in the models, not in the database"
    if op.database_not_valid and same_meaning(model, database):
        return (
            f"{where}: {what} is valid in the models, NOT VALID in the database "
            "(rows from before it were never checked)"
        )
    in_model, in_database = value_list(model), value_list(database)
    if in_model and in_database and in_model.shape == in_database.shape:
        added = [v for v in in_model.values if v not in in_database.values]
        removed = [v for v in in_database.values if v not in in_model.values]
        parts = []
        if added:
            parts.append(f"{', '.join(added)} in the models, not in the database")
        if removed:
            parts.append(f"{', '.join(removed)} in the database, not in the models")
        return f"{where}: {what} allows " + ", and ".join(parts)
    return (
        f"{where}: {what} reads {readable(model)} in the models, "
        f"{readable(database)} in the database"
    )


# --- indexes and constraints ----------------------------------------------------------------


def _partner(op, pending: list):
    """The op that, with `op`, says one thing changed: the same index or constraint dropped
    and created again."""
    name = _name_of(op)
    if name is None:
        return None
    for other in pending:
        if _name_of(other) == name and _kind(other) == _kind(op) and _adds(other) != _adds(op):
            return other
    return None


def _name_of(op) -> str | None:
    if isinstance(op, (ops.CreateIndexOp, ops.DropIndexOp)):
        return op.index_name
    if isinstance(op, (ops.AddConstraintOp, ops.DropConstraintOp)):
        return op.constraint_name
    return None


def _kind(op) -> str:
    if isinstance(op, (ops.CreateIndexOp, ops.DropIndexOp)):
        return "index"
    return op.constraint_type or "?"


def _adds(op) -> bool:
    return isinstance(op, (ops.CreateIndexOp, ops.AddConstraintOp))


def _changed(first, second, dialect: sa.Dialect) -> str:
    added, dropped = (first, second) if _adds(first) else (second, first)
    table = _table_of(added, None)
    if isinstance(added, ops.CreateIndexOp):
        model, database = added.to_index(), dropped.to_index()
        return f"{table}: {_index(model)} in the models, {_index_shape(database)} in the database"
    model, database = added.to_constraint(), _constraint_of(dropped)
    if isinstance(model, sa.ForeignKeyConstraint) and isinstance(
        database, sa.ForeignKeyConstraint
    ):
        return f"{table}: {_fk_change(model, database)}"
    return (
        f"{table}: {_constraint(model)} in the models, "
        f"{_constraint(database) if database is not None else 'another one'} in the database"
    )


def _constraint_of(op: ops.DropConstraintOp):
    try:
        return op.to_constraint()
    except (ValueError, AttributeError):
        return None


def _index(index: sa.Index) -> str:
    return f"index {index.name} {_index_shape(index)}"


def _index_shape(index: sa.Index) -> str:
    columns = ", ".join(_expression_name(e) for e in index.expressions)
    return f"{'UNIQUE ' if index.unique else ''}({columns})"


def _expression_name(expression) -> str:
    return getattr(expression, "name", None) or str(expression)


def _constraint(constraint: sa.Constraint) -> str:
    if isinstance(constraint, sa.ForeignKeyConstraint):
        return f"foreign key {constraint.name} {_fk_shape(constraint)}"
    if isinstance(constraint, sa.UniqueConstraint):
        return f"unique constraint {constraint.name} ({_column_names(constraint)})"
    if isinstance(constraint, sa.CheckConstraint):
        return f"CHECK {constraint.name} ({readable(str(constraint.sqltext))})"
    if isinstance(constraint, sa.PrimaryKeyConstraint):
        return f"primary key {constraint.name} ({_column_names(constraint)})"
    return f"constraint {constraint.name}"


def _dropped_constraint(op: ops.DropConstraintOp) -> str:
    constraint = _constraint_of(op)
    if constraint is not None:
        return _constraint(constraint)
    kind = (op.constraint_type or "constraint").replace("foreignkey", "foreign key")
    return f"{kind} {op.constraint_name}"


def _column_names(constraint: sa.ColumnCollectionConstraint) -> str:
    return ", ".join(c.name for c in constraint.columns)


def _fk_target(constraint: sa.ForeignKeyConstraint) -> str:
    targets = [e.target_fullname for e in constraint.elements]
    local = ", ".join(e.parent.name for e in constraint.elements)
    return f"({local}) → {', '.join(targets)}"


def _fk_shape(constraint: sa.ForeignKeyConstraint) -> str:
    shape = _fk_target(constraint)
    shape += f" ON DELETE {_rule(constraint.ondelete)}"
    if constraint.onupdate:
        shape += f" ON UPDATE {_rule(constraint.onupdate)}"
    return shape


def _rule(rule: str | None) -> str:
    return (rule or "NO ACTION").upper()


def _fk_change(model: sa.ForeignKeyConstraint, database: sa.ForeignKeyConstraint) -> str:
    what = f"foreign key {model.name}"
    if _fk_target(model) != _fk_target(database):
        return f"{what} {_fk_shape(model)} in the models, {_fk_shape(database)} in the database"
    parts = []
    for label, ours, theirs in (
        ("ON DELETE", model.ondelete, database.ondelete),
        ("ON UPDATE", model.onupdate, database.onupdate),
    ):
        if _rule(ours) != _rule(theirs):
            parts.append(f"{label} {_rule(theirs)} in the database, {_rule(ours)} in the models")
    for label, ours, theirs in (
        ("DEFERRABLE", model.deferrable, database.deferrable),
        ("INITIALLY", model.initially, database.initially),
    ):
        if bool(ours) != bool(theirs) or (ours and theirs and str(ours) != str(theirs)):
            parts.append(
                f"{label} {theirs or 'not set'} in the database, {ours or 'not set'} in the models"
            )
    return f"{what} " + (", and ".join(parts) if parts else "differs in its options")
