"""ALTER TABLE, subcommand by subcommand: the lock each one takes and the work it does.

One ALTER TABLE may hold several subcommands. PostgreSQL then takes, on each table, the
strongest lock any of them needs (each table its own: `ADD FOREIGN KEY` also locks the table it
references), and the statement's work is the heaviest of theirs. A subcommand not listed here
makes the whole statement `unknown`.
"""

from __future__ import annotations

from pglast import ast
from pglast.enums import AlterTableType as AT
from pglast.enums import ConstrType, ObjectType

from pixcrawler.migrator.impact.column_rules import (
    SERIAL,
    ColumnType,
    default_rewrites,
    type_change_rewrites,
)
from pixcrawler.migrator.impact.facts import Statement, Work
from pixcrawler.migrator.impact.locks import Lock
from pixcrawler.migrator.impact.schema import Schema, Table
from pixcrawler.migrator.impact.syntax import relation_name

# Storage parameters PostgreSQL changes under SHARE UPDATE EXCLUSIVE (`reloptions.c`); any
# other one is left unknown.
LIGHT_OPTIONS = frozenset(
    {
        "fillfactor",
        "parallel_workers",
        "toast_tuple_target",
        "vacuum_index_cleanup",
        "vacuum_truncate",
        "log_autovacuum_min_duration",
    }
)


INDEXED = (ConstrType.CONSTR_PRIMARY, ConstrType.CONSTR_UNIQUE, ConstrType.CONSTR_EXCLUSION)


def classify_alter(node: ast.AlterTableStmt, schema: Schema, out: Statement):
    if node.objtype != ObjectType.OBJECT_TABLE:
        return False
    name = relation_name(node.relation)
    table = schema.table(name)
    for cmd in node.cmds:
        handler = SUBCOMMANDS.get(cmd.subtype)
        if handler is None or handler(cmd, name, table, schema, out) is False:
            return False
    return None


def _add_column(cmd: ast.AlterTableCmd, name: str, table: Table | None, schema, out):
    out.lock(name, Lock.ACCESS_EXCLUSIVE)
    column: ast.ColumnDef = cmd.def_
    if cmd.missing_ok and table is not None and column.colname in table.columns:
        return None  # ADD COLUMN IF NOT EXISTS of a column that is there: a no-op
    rewrite = ColumnType.of(column.typeName).name in SERIAL  # a nextval() default per row
    constraints = column.constraints or ()
    defaults = [c.raw_expr for c in constraints if c.contype == ConstrType.CONSTR_DEFAULT]
    default = defaults[0] if defaults else None
    filled = default is not None and not _is_null(default)
    not_null = False
    for constraint in constraints:
        kind = constraint.contype
        if kind in (ConstrType.CONSTR_IDENTITY, ConstrType.CONSTR_GENERATED):
            rewrite = True  # a value computed for every row
        elif kind == ConstrType.CONSTR_NOTNULL:
            not_null = True
        elif kind == ConstrType.CONSTR_FOREIGN and not filled:
            _constraint(constraint, name, out, checked=False)  # all NULL: nothing to check
        elif kind != ConstrType.CONSTR_DEFAULT and _constraint(constraint, name, out) is False:
            return False
    volatile = default_rewrites(default, schema.volatility)
    if volatile is None:
        return False
    if rewrite or volatile:
        out.does(Work.REWRITE, name)
    elif not_null and default is None:
        out.does(Work.SCAN, name)  # every existing row would be NULL: checked, row by row
    return None


def _drop_column(cmd, name, table, schema, out):
    out.lock(name, Lock.ACCESS_EXCLUSIVE)
    if cmd.missing_ok and table is not None and cmd.name not in table.columns:
        return None
    out.deletes.append((name, f"drops column {name}.{cmd.name}"))
    return None


def _alter_type(cmd, name, table, schema, out):
    out.lock(name, Lock.ACCESS_EXCLUSIVE)
    new = ColumnType.of(cmd.def_.typeName)
    old = table.columns.get(cmd.name) if table is not None else None
    rewrite = type_change_rewrites(old, new, cmd.def_.raw_default, cmd.name, schema.utc)
    if rewrite is None:
        return False
    if rewrite:
        out.does(Work.REWRITE, name)
    return None


def _set_not_null(cmd, name, table, schema, out):
    out.lock(name, Lock.ACCESS_EXCLUSIVE)
    proven = table is not None and any(
        c.valid and c.not_null_of == cmd.name for c in table.constraints.values()
    )
    if not proven:  # a valid CHECK (col IS NOT NULL) spares the scan (PostgreSQL 12+)
        out.does(Work.SCAN, name)
    return None


def _catalog_only(lock: Lock):
    def handler(cmd, name, table, schema, out):
        out.lock(name, lock)

    return handler


def _add_constraint(cmd, name, table, schema, out):
    return _constraint(cmd.def_, name, out)


def _is_null(expression: ast.Node) -> bool:
    return isinstance(expression, ast.A_Const) and expression.isnull


def _constraint(constraint: ast.Constraint, name: str, out: Statement, checked: bool = True):
    """A table's new constraint, added by ADD CONSTRAINT or with a new column."""
    kind = constraint.contype
    checked = checked and not constraint.skip_validation  # NOT VALID skips the scan
    if kind == ConstrType.CONSTR_CHECK:
        out.lock(name, Lock.ACCESS_EXCLUSIVE)
        if checked:
            out.does(Work.SCAN, name)
    elif kind == ConstrType.CONSTR_FOREIGN:
        referenced = relation_name(constraint.pktable)
        out.lock(name, Lock.SHARE_ROW_EXCLUSIVE)
        out.lock(referenced, Lock.SHARE_ROW_EXCLUSIVE)
        if checked:
            out.does(Work.SCAN, name)
            out.does(Work.SCAN, referenced)
    elif kind in INDEXED:
        out.lock(name, Lock.ACCESS_EXCLUSIVE)
        if not constraint.indexname:  # USING INDEX adopts an index already built
            out.does(Work.INDEX_BUILD, name)
    else:
        return False
    return None


def _validate(cmd, name, table, schema, out):
    out.lock(name, Lock.SHARE_UPDATE_EXCLUSIVE)
    constraint = table.constraints.get(cmd.name) if table is not None else None
    if constraint is None:
        return False  # a foreign key would lock the table it references too
    if constraint.valid:
        return None  # valid already: PostgreSQL checks nothing
    out.does(Work.SCAN, name)
    if constraint.references:  # its check query reads the referenced rows FOR KEY SHARE
        out.lock(constraint.references, Lock.ROW_SHARE)
        out.does(Work.SCAN, constraint.references)
    return None


def _drop_constraint(cmd, name, table, schema, out):
    out.lock(name, Lock.ACCESS_EXCLUSIVE)
    constraint = table.constraints.get(cmd.name) if table is not None else None
    if constraint is None:
        return None if cmd.missing_ok else False  # a foreign key would lock one more table
    if constraint.references:
        out.lock(constraint.references, Lock.ACCESS_EXCLUSIVE)
    return None


def _storage_parameters(cmd, name, table, schema, out):
    names = [(option.defname or "").lower() for option in cmd.def_ or ()]
    light = [n in LIGHT_OPTIONS or n.startswith("autovacuum_") for n in names]
    if not names or not all(light):
        return False
    out.lock(name, Lock.SHARE_UPDATE_EXCLUSIVE)
    return None


SUBCOMMANDS = {
    AT.AT_AddColumn: _add_column,
    AT.AT_DropColumn: _drop_column,
    AT.AT_AlterColumnType: _alter_type,
    AT.AT_SetNotNull: _set_not_null,
    AT.AT_DropNotNull: _catalog_only(Lock.ACCESS_EXCLUSIVE),
    AT.AT_ColumnDefault: _catalog_only(Lock.ACCESS_EXCLUSIVE),  # SET DEFAULT, DROP DEFAULT
    AT.AT_SetStorage: _catalog_only(Lock.ACCESS_EXCLUSIVE),
    AT.AT_SetCompression: _catalog_only(Lock.ACCESS_EXCLUSIVE),
    AT.AT_SetStatistics: _catalog_only(Lock.SHARE_UPDATE_EXCLUSIVE),
    AT.AT_AddConstraint: _add_constraint,
    AT.AT_ValidateConstraint: _validate,
    AT.AT_DropConstraint: _drop_constraint,
    AT.AT_SetRelOptions: _storage_parameters,
    AT.AT_ResetRelOptions: _storage_parameters,
}
