"""Changed copies of the models' metadata, as a developer's edit of `pixcrawler/models/` would
make them, for the drift and autogenerate tests: they are handed to Alembic through
`config.attributes["target_metadata"]` (or `schema_drift(…, metadata)`), so the app's own
models stay as they are."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.sql.visitors import replacement_traverse

from pixcrawler.database import NAMING_CONVENTION
from pixcrawler.database.constraints import one_of
from pixcrawler.extensions import db
from pixcrawler.models import JobStatus


def copy_of_models() -> sa.MetaData:
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    for table in db.metadata.sorted_tables:
        copy = table.to_metadata(metadata)
        keep_backends(table.indexes, copy.indexes)
    return metadata


def keep_backends(originals, copies) -> None:
    """to_metadata() forgets an index's `ddl_if` (the backends it is built on): give it back."""
    by_name = {index.name: index for index in originals}
    for index in copies:
        index._ddl_if = by_name[index.name]._ddl_if


def check_named(table: sa.Table, name: str) -> sa.CheckConstraint:
    return next(c for c in table.constraints if c.name == name)


def replace_check(table: sa.Table, name: str, new: sa.CheckConstraint | None) -> None:
    table.constraints.discard(check_named(table, name))
    if new is not None:
        table.append_constraint(new)


def rebuild(
    metadata: sa.MetaData,
    name: str,
    *,
    new_name: str | None = None,
    columns: Callable[[list[sa.Column]], list[sa.Column]] = lambda columns: columns,
    skip_foreign_keys_of: str | None = None,
) -> sa.Table:
    """Table `name` defined again from copies of its columns, edited by `columns`; under
    `new_name` its keys and indexes get the names the naming convention gives the new name."""
    old = metadata.tables[name]
    metadata.remove(old)
    edited = columns([column._copy() for column in old.columns])
    kept = {column.name for column in edited}
    items: list[sa.SchemaItem] = []
    for constraint in old.constraints:
        if isinstance(constraint, sa.CheckConstraint):
            items.append(
                sa.CheckConstraint(sa.text(str(constraint.sqltext)), name=constraint.name)
            )
        elif isinstance(constraint, sa.UniqueConstraint):
            names = [c.name for c in constraint.columns]
            if set(names) <= kept:
                items.append(
                    sa.UniqueConstraint(*names, name=None if new_name else constraint.name)
                )
    for fk in old.foreign_key_constraints:
        names = [c.name for c in fk.columns]
        if set(names) <= kept and skip_foreign_keys_of not in names:
            targets = [element.target_fullname for element in fk.elements]
            items.append(
                sa.ForeignKeyConstraint(
                    names,
                    targets,
                    name=None if new_name else fk.name,
                    ondelete=fk.ondelete,
                    onupdate=fk.onupdate,
                )
            )
    table = sa.Table(new_name or name, metadata, *edited, *items)
    for index in old.indexes:
        names = [c.name for c in index.columns]
        if not getattr(index, "_column_flag", False) and set(names) <= kept:
            # Expressions, partial conditions and backends as they were, on the new columns.
            expressions = [on_table(expression, old, table) for expression in index.expressions]
            copy = sa.Index(
                None if new_name else index.name,
                *expressions,
                unique=index.unique,
                **index.kwargs,
            )
            copy._ddl_if = index._ddl_if
    return table


def on_table(expression, old: sa.Table, new: sa.Table):
    """The expression with the old table's columns swapped for the new table's."""

    def swap(element):
        if isinstance(element, sa.Column) and element.table is old:
            return new.c[element.name]
        return None

    return replacement_traverse(expression, {}, swap)


def column(table: sa.Table, column_name: str, **changes) -> sa.Column:
    """A copy of a column with `changes`: name, type_, nullable, server_default, index, and
    ondelete (of its foreign key)."""
    old = table.c[column_name]
    ondelete = changes.pop("ondelete", None)
    foreign_keys = [
        sa.ForeignKey(fk.target_fullname, ondelete=ondelete or fk.ondelete)
        for fk in old.foreign_keys
    ]
    return sa.Column(
        changes.pop("name", old.name),
        changes.pop("type_", old.type),
        *foreign_keys,
        nullable=changes.pop("nullable", old.nullable),
        server_default=changes.pop("server_default", _default_of(old)),
        index=changes.pop("index", old.index),
        primary_key=old.primary_key,
        **changes,
    )


def _default_of(column: sa.Column):
    default = column.server_default
    return default.arg if isinstance(default, sa.DefaultClause) else None


def swap_column(metadata: sa.MetaData, table: str, column_name: str, **changes) -> None:
    """Table `table` with one column changed in place (same position); a foreign key on
    that column comes with the column."""
    new = column(metadata.tables[table], column_name, **changes)
    rebuild(
        metadata,
        table,
        columns=lambda cs: [new if c.name == column_name else c for c in cs],
        skip_foreign_keys_of=column_name if new.foreign_keys else None,
    )


def job_statuses(*, add: tuple[str, ...] = (), remove: tuple[str, ...] = ()) -> sa.CheckConstraint:
    values = [s.value for s in JobStatus if s.value not in remove] + list(add)
    return one_of("status", values)
