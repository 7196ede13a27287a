"""What Alembic's autogenerate does not compare by itself: CHECK constraints and server defaults.

This project declares every status list, range and counter rule as a named CHECK constraint,
and Alembic compares CHECK constraints not at all and server defaults only on request. This
module adds both to every comparison the app makes (`flask db check`, `flask db migrate`,
`flask check`, the admin's drift panel), through Alembic's own extension points:

- CHECK constraints: an autogenerate plugin (`PLUGIN`, named in `context_options`) whose
  comparator runs for every table both sides have, and emits a `ReplaceCheckConstraintOp`
  (see `operations`) for a CHECK added, removed or changed;
- server defaults: the `compare_server_default` callable of `EnvironmentContext.configure`.

Both compare meaning, not spelling (`sql_meaning`). The database side is what SQLAlchemy
reflects. The models' side is written the way the database would write it: on SQLite, the
text SQLAlchemy emits in CREATE TABLE (SQLite stores that text as given); on PostgreSQL, the
server's own rendering of the models' expressions, read back with `pg_get_expr` from
temporary tables created inside a savepoint that is then rolled back. So nothing is left
behind and no real table is touched or locked. A session that may not create temporary
tables (no TEMP privilege, a read-only transaction) compares CHECKs by name only, and leaves
defaults to Alembic's own comparison, rather than call everything different.
"""

from __future__ import annotations

import logging
import sys
import uuid
import weakref
from typing import Any

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from alembic.runtime.plugins import Plugin
from alembic.util import PriorityDispatchResult
from sqlalchemy.sql.elements import conv

from pixcrawler.database.errors import first_line
from pixcrawler.migrator import operations
from pixcrawler.migrator.differences import check_difference
from pixcrawler.migrator.sql_meaning import canonical, same_meaning

log = logging.getLogger("alembic.autogenerate.compare")

PLUGIN = "pixcrawler.checks_and_defaults"
TEMP_PREFIX = "pixcrawler_model_"


# --- the models' side, as the database writes it ------------------------------------------


def check_constraints(table: sa.Table) -> list[sa.CheckConstraint]:
    """The table's named CHECK constraints, table- and column-level, by name."""
    found = {c for c in table.constraints if isinstance(c, sa.CheckConstraint)}
    for column in table.columns:
        found |= {c for c in column.constraints if isinstance(c, sa.CheckConstraint)}
    return sorted((c for c in found if is_named(c)), key=lambda c: str(c.name))


def is_named(constraint: sa.Constraint) -> bool:
    return isinstance(constraint.name, str) and bool(constraint.name)


def check_source(constraint: sa.CheckConstraint, dialect: sa.Dialect) -> str:
    """The condition as SQLAlchemy writes it in CREATE TABLE for this dialect."""
    compiler = dialect.ddl_compiler(dialect, None)
    return compiler.sql_compiler.process(
        constraint.sqltext, include_table=False, literal_binds=True
    )


def default_source(column: sa.Column, dialect: sa.Dialect) -> str | None:
    """The column's server default as SQLAlchemy writes it; None for none (or an identity,
    a computed column, a value only the server knows: Alembic handles those)."""
    if not isinstance(column.server_default, sa.DefaultClause):
        return None
    return dialect.ddl_compiler(dialect, None).get_column_default_string(column)


class NotRendered(Exception):
    """The server could not write out this part of the models (no TEMP privilege, a read-only
    transaction, an expression it refuses): it is not compared rather than called different."""


class ModelRenderings:
    """The models' CHECK conditions and server defaults, written as this database writes them."""

    def __init__(self, connection: sa.Connection):
        self.connection = connection
        self.dialect = connection.dialect
        self.rendered: dict[tuple[sa.Table, str, str], str] = {}
        self.rendered_tables: set[sa.Table] = set()
        self.rendered_metadata: set[sa.MetaData] = set()

    def check(self, constraint: sa.CheckConstraint) -> str:
        source = check_source(constraint, self.dialect)
        return self._by_server(constraint.table, "check", str(constraint.name), source)

    def default(self, column: sa.Column) -> str | None:
        source = default_source(column, self.dialect)
        if source is None:
            return None
        return self._by_server(column.table, "default", column.name, source)

    def _by_server(self, table: sa.Table, kind: str, name: str, source: str) -> str:
        if self.dialect.name != "postgresql":
            return source  # SQLite keeps the text it was given: nothing to render
        if table.metadata not in self.rendered_metadata:
            self.rendered_metadata.add(table.metadata)
            self._render_on_postgresql(table.metadata)
        rendered = self.rendered.get((table, kind, name))
        if table not in self.rendered_tables or rendered is None:
            raise NotRendered(table.name)
        return rendered

    def _render_on_postgresql(self, metadata: sa.MetaData) -> None:
        """One temporary table per model table, in a savepoint that is rolled back."""
        run = uuid.uuid4().hex[:8]
        temporary = {f"{TEMP_PREFIX}{run}_{i}": t for i, t in enumerate(metadata.sorted_tables)}
        statements = {name: self._create_sql(name, t) for name, t in temporary.items()}
        savepoint = self.connection.begin_nested()
        try:
            created = self._create_all(statements, temporary)
            rows = self.connection.execute(RENDERINGS_SQL, {"prefix": f"{TEMP_PREFIX}{run}_%"})
            for table_name, kind, name, sql in rows:
                self.rendered[(temporary[table_name], kind, name)] = sql
            self.rendered_tables |= {temporary[name] for name in created}
        finally:
            savepoint.rollback()

    def _create_all(self, statements: dict[str, str], tables: dict[str, sa.Table]) -> list[str]:
        """Create the temporary tables, all at once if the server takes them; the names of
        those created. One it refuses is left out with a warning."""
        try:
            with self.connection.begin_nested():
                self.connection.exec_driver_sql(";\n".join(statements.values()))
            return list(statements)
        except sa.exc.DBAPIError:
            pass
        created = []
        for name, statement in statements.items():
            try:
                with self.connection.begin_nested():
                    self.connection.exec_driver_sql(statement)
                created.append(name)
            except sa.exc.DBAPIError as exc:
                log.warning(
                    "CHECK constraints and server defaults of %s not compared: the server "
                    "cannot write out the models' side (%s)",
                    tables[name].name,
                    first_line(exc),
                )
        return created

    def _create_sql(self, name: str, table: sa.Table) -> str:
        """CREATE TEMPORARY TABLE with the model's columns, defaults and CHECKs, nothing else."""
        columns = []
        for column in table.columns:
            default = default_source(column, self.dialect)
            server_default = sa.text(default) if default is not None else None
            columns.append(sa.Column(column.name, column.type, server_default=server_default))
        checks = [
            sa.CheckConstraint(sa.text(check_source(c, self.dialect)), name=conv(str(c.name)))
            for c in check_constraints(table)
        ]
        temporary = sa.Table(name, sa.MetaData(), *columns, *checks, prefixes=["TEMPORARY"])
        return str(sa.schema.CreateTable(temporary).compile(dialect=self.dialect))


# Pretty-printed CHECKs and plain defaults: as SQLAlchemy reflects the database's side.
RENDERINGS_SQL = sa.text(
    """
    SELECT c.relname, 'default', a.attname, pg_get_expr(d.adbin, d.adrelid)
    FROM pg_attrdef d
    JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
    JOIN pg_class c ON c.oid = d.adrelid
    WHERE c.relnamespace = pg_my_temp_schema() AND c.relname LIKE :prefix
    UNION ALL
    SELECT c.relname, 'check', k.conname, pg_get_expr(k.conbin, k.conrelid, true)
    FROM pg_constraint k
    JOIN pg_class c ON c.oid = k.conrelid
    WHERE k.contype = 'c' AND c.relnamespace = pg_my_temp_schema() AND c.relname LIKE :prefix
    """
)

# One set of renderings per Alembic run (a MigrationContext), shared by both comparisons.
_renderings: weakref.WeakKeyDictionary[MigrationContext, ModelRenderings] = (
    weakref.WeakKeyDictionary()
)


def renderings_for(context: MigrationContext) -> ModelRenderings:
    found = _renderings.get(context)
    if found is None:
        found = _renderings[context] = ModelRenderings(context.bind)
    return found


# --- server defaults ----------------------------------------------------------------------


def compare_server_default(
    context: MigrationContext,
    inspected_column: sa.Column,
    metadata_column: sa.Column,
    inspected_default: str | None,
    metadata_default: Any,
    rendered_metadata_default: str | None,
) -> bool | None:
    """Alembic's `compare_server_default` hook: True when the defaults differ in meaning.

    None leaves identity and computed columns to Alembic.
    """
    identity = (sa.Identity, sa.Computed)
    if isinstance(metadata_column.server_default, identity) or isinstance(
        inspected_column.server_default, identity
    ):
        return None
    table = metadata_column.table
    if metadata_column is table.autoincrement_column and (inspected_default or "").startswith(
        "nextval("
    ):
        return False  # a SERIAL column's sequence, which the models leave implicit
    try:
        model = renderings_for(context).default(metadata_column)
    except NotRendered:
        return None  # Alembic's own comparison then runs (on PostgreSQL, on the server)
    if model is None or inspected_default is None:
        return (model is None) != (inspected_default is None)
    return not same_default(model, inspected_default)


def same_default(first: str, second: str) -> bool:
    """Same meaning; a lone literal matches whatever its quoting (`'0'` and `0`): the column's
    type decides what is stored."""
    a, b = canonical(first), canonical(second)
    if len(a) == len(b) == 1 and {a[0].kind, b[0].kind} <= {"str", "num"}:
        return a[0].value == b[0].value
    return a == b


# --- CHECK constraints --------------------------------------------------------------------


def compare_check_constraints(
    autogen_context,
    modify_table_ops,
    schema: str | None,
    table_name: str,
    conn_table: sa.Table | None,
    metadata_table: sa.Table | None,
) -> PriorityDispatchResult:
    """For a table both sides have: every CHECK added, removed or changed, by name."""
    if conn_table is None or metadata_table is None:
        return PriorityDispatchResult.CONTINUE  # created or dropped with its table
    parents = {"table_name": table_name, "schema_name": schema}
    reflected = autogen_context.inspector.get_check_constraints(table_name, schema=schema)
    reflected = [
        ck
        for ck in reflected
        if ck.get("name")
        and autogen_context.run_name_filters(ck["name"], "check_constraint", parents)
    ]
    in_database = {ck["name"]: ck["sqltext"] for ck in reflected}
    # NOT VALID (PostgreSQL): a migration added it and never validated it (it was interrupted),
    # so rows from before it were never checked; the models say every row obeys.
    unchecked = {ck["name"] for ck in reflected if ck.get("dialect_options", {}).get("not_valid")}
    in_models = {str(c.name): c for c in check_constraints(metadata_table)}
    renderings = renderings_for(autogen_context.migration_context)
    dialect = autogen_context.dialect
    for name in sorted(set(in_database) | set(in_models)):
        model = in_models.get(name)
        if model is not None and not autogen_context.run_object_filters(
            model, name, "check_constraint", False, None
        ):
            continue
        database_sql = in_database.get(name)
        try:
            model_sql = renderings.check(model) if model is not None else None
        except NotRendered:
            if database_sql is not None:
                continue  # on both sides; what it says cannot be compared (see the warning)
            model_sql = check_source(model, dialect)
        both = model_sql is not None and database_sql is not None
        if both and same_meaning(model_sql, database_sql) and name not in unchecked:
            continue
        op = operations.ReplaceCheckConstraintOp(
            name,
            table_name,
            check_source(model, dialect) if model is not None else None,
            previous=operations.portable(database_sql) if database_sql else None,
            schema=schema,
            model_rendering=model_sql,
            database_rendering=database_sql,
            columns=tuple(c.name for c in metadata_table.columns),
            database_not_valid=name in unchecked,
        )
        op.note = check_difference(op)
        modify_table_ops.ops.append(op)
        log.info(
            "Detected %s check constraint %r on %r",
            _what(model_sql, database_sql),
            name,
            table_name,
        )
    return PriorityDispatchResult.CONTINUE


def _what(model_sql: str | None, database_sql: str | None) -> str:
    if database_sql is None:
        return "added"
    return "removed" if model_sql is None else "changed"


def setup(plugin: Plugin) -> None:
    plugin.add_autogenerate_comparator(compare_check_constraints, "table", "pixcrawler_checks")


Plugin.setup_plugin_from_module(sys.modules[__name__], PLUGIN)
