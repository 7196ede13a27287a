"""The tables as they stand before each statement: columns and their types, constraints,
indexes, and sizes. What a statement does depends on them (is this constraint a foreign key,
and to which table? which table does this index belong to? what type is the column now?).

A `Schema` starts from the live catalog (`catalog.read_schema`) or, with no PostgreSQL to ask,
from the SQL of the revisions already applied, replayed here (sizes then unknown). Each analysed
statement is then applied to it, so a later statement sees what an earlier one created, renamed
or dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from pglast import ast
from pglast.enums import AlterTableType as AT
from pglast.enums import ConstrType, DropBehavior, NullTestType, ObjectType

from pixcrawler.migrator.impact.column_rules import ColumnType
from pixcrawler.migrator.impact.syntax import deparse, dotted, object_name, relation_name, walk

CONSTRAINT_KINDS = {
    ConstrType.CONSTR_CHECK: "c",
    ConstrType.CONSTR_FOREIGN: "f",
    ConstrType.CONSTR_PRIMARY: "p",
    ConstrType.CONSTR_UNIQUE: "u",
    ConstrType.CONSTR_EXCLUSION: "x",
}
SUFFIXES = {"c": "check", "f": "fkey", "u": "key", "x": "excl"}


@dataclass
class Constraint:
    kind: str  # pg_constraint.contype: c, f, p, u, x
    references: str | None = None  # the table a foreign key points to
    not_null_of: str | None = None  # the column of a CHECK that reads exactly `col IS NOT NULL`
    valid: bool = True


@dataclass
class Table:
    name: str
    columns: dict[str, ColumnType | None] = field(default_factory=dict)
    constraints: dict[str, Constraint] = field(default_factory=dict)
    indexes: dict[str, str | None] = field(default_factory=dict)  # name -> CREATE INDEX text
    rows: int | None = None  # estimated (pg_class.reltuples); None when not known
    bytes: int | None = None  # pg_total_relation_size
    heap_bytes: int | None = None  # pg_table_size: the table without its indexes
    new: bool = False  # created by a statement under analysis: empty, and nobody else sees it

    def is_empty(self) -> bool | None:
        return None if self.rows is None else self.rows == 0


@dataclass
class Schema:
    tables: dict[str, Table] = field(default_factory=dict)
    volatility: Mapping[str, str] | None = None  # pg_proc.provolatile by name, from a server
    utc: bool | None = None  # the server's TimeZone is UTC; None without a server
    sized: bool = False  # the tables' sizes come from a live catalog

    def table(self, name: str) -> Table | None:
        return self.tables.get(name)

    def index_owner(self, index: str) -> str | None:
        for table in self.tables.values():
            if index in table.indexes:
                return table.name
        return None

    def referencing(self, name: str) -> list[str]:
        """Tables with a foreign key to `name`."""
        return [
            table.name
            for table in self.tables.values()
            if table.name != name and any(c.references == name for c in table.constraints.values())
        ]

    def forget_sizes(self) -> None:
        """After a replay: the tables exist, their sizes are not known."""
        for table in self.tables.values():
            table.rows = table.bytes = table.heap_bytes = None
            table.new = False

    def apply(self, node: ast.Node) -> None:
        """Change the model as the statement changes the database."""
        if isinstance(node, ast.CreateStmt):
            self._create(node)
        elif isinstance(node, ast.AlterTableStmt) and node.objtype == ObjectType.OBJECT_TABLE:
            table = self.table(relation_name(node.relation))
            for cmd in node.cmds if table else ():
                self._alter(table, cmd)
        elif isinstance(node, ast.IndexStmt):
            table = self.table(relation_name(node.relation))
            if table is not None and node.idxname:
                table.indexes[node.idxname] = deparse(node)
        elif isinstance(node, ast.RenameStmt):
            self._rename(node)
        elif isinstance(node, ast.DropStmt):
            self._drop(node)

    def _create(self, node: ast.CreateStmt) -> None:
        existing = self.table(relation_name(node.relation))
        if existing is not None and not existing.new:
            return  # already there (IF NOT EXISTS, or a range that ran before): as it is
        table = Table(relation_name(node.relation), rows=0, bytes=0, heap_bytes=0, new=True)
        self.tables[table.name] = table
        for element in node.tableElts or ():
            if isinstance(element, ast.ColumnDef):
                add_column(table, element)
            elif isinstance(element, ast.Constraint):
                add_constraint(table, element)

    def _alter(self, table: Table, cmd: ast.AlterTableCmd) -> None:
        if cmd.subtype == AT.AT_AddColumn:
            add_column(table, cmd.def_)
        elif cmd.subtype == AT.AT_DropColumn:
            table.columns.pop(cmd.name, None)
        elif cmd.subtype == AT.AT_AlterColumnType:
            table.columns[cmd.name] = ColumnType.of(cmd.def_.typeName)
        elif cmd.subtype == AT.AT_AddConstraint:
            add_constraint(table, cmd.def_)
        elif cmd.subtype == AT.AT_DropConstraint:
            table.constraints.pop(cmd.name, None)
            table.indexes.pop(cmd.name, None)
        elif cmd.subtype == AT.AT_ValidateConstraint and cmd.name in table.constraints:
            table.constraints[cmd.name].valid = True

    def _rename(self, node: ast.RenameStmt) -> None:
        if node.renameType == ObjectType.OBJECT_INDEX:
            owner = self.table(self.index_owner(node.relation.relname) or "")
            if owner is not None:
                owner.indexes[node.newname] = owner.indexes.pop(node.relation.relname)
            return
        table = self.table(relation_name(node.relation)) if node.relation else None
        if table is None:
            return
        if node.renameType == ObjectType.OBJECT_TABLE:
            old = table.name
            table.name = node.newname
            self.tables = {(node.newname if k == old else k): t for k, t in self.tables.items()}
            for other in self.tables.values():
                for constraint in other.constraints.values():
                    if constraint.references == old:
                        constraint.references = node.newname
        elif node.renameType == ObjectType.OBJECT_COLUMN and node.subname in table.columns:
            table.columns[node.newname] = table.columns.pop(node.subname)
            for constraint in table.constraints.values():
                if constraint.not_null_of == node.subname:
                    constraint.not_null_of = node.newname
        elif node.renameType == ObjectType.OBJECT_TABCONSTRAINT:
            if node.subname in table.constraints:
                table.constraints[node.newname] = table.constraints.pop(node.subname)
            if node.subname in table.indexes:
                table.indexes[node.newname] = table.indexes.pop(node.subname)

    def _drop(self, node: ast.DropStmt) -> None:
        for names in node.objects or ():
            name = object_name(names)
            if node.removeType == ObjectType.OBJECT_TABLE and name in self.tables:
                del self.tables[name]
                if node.behavior == DropBehavior.DROP_CASCADE:
                    for other in self.tables.values():
                        other.constraints = {
                            k: c for k, c in other.constraints.items() if c.references != name
                        }
            elif node.removeType == ObjectType.OBJECT_INDEX:
                owner = self.table(self.index_owner(name) or "")
                if owner is not None:
                    owner.indexes.pop(name, None)


def add_column(table: Table, column: ast.ColumnDef) -> None:
    table.columns[column.colname] = ColumnType.of(column.typeName)
    for constraint in column.constraints or ():
        add_constraint(table, constraint, column.colname)


def add_constraint(table: Table, node: ast.Constraint, column: str | None = None) -> None:
    kind = CONSTRAINT_KINDS.get(node.contype)
    if kind is None:
        return
    name = node.conname or default_name(table.name, kind, node, column)
    references = relation_name(node.pktable) if kind == "f" else None
    table.constraints[name] = Constraint(
        kind,
        references=references,
        not_null_of=is_not_null_check(node.raw_expr) if kind == "c" else None,
        valid=not node.skip_validation,
    )
    if kind in ("p", "u", "x"):
        table.indexes[name] = None  # the index behind the constraint, named after it


def default_name(table: str, kind: str, node: ast.Constraint, column: str | None) -> str:
    """The name PostgreSQL gives an unnamed constraint (short names only; enough here)."""
    if kind == "p":
        return f"{table}_pkey"
    columns = [column] if column else dotted(node.keys or node.fk_attrs)
    if kind == "c" and not columns:
        refs = [n for n in walk(node.raw_expr) if isinstance(n, ast.ColumnRef)]
        columns = [dotted(refs[0].fields)[-1]] if refs else []
    return "_".join([table, *columns, SUFFIXES[kind]])


def is_not_null_check(expression: ast.Node | None) -> str | None:
    """`col IS NOT NULL` alone: PostgreSQL 12+ then skips the scan of SET NOT NULL."""
    if (
        isinstance(expression, ast.NullTest)
        and expression.nulltesttype == NullTestType.IS_NOT_NULL
        and isinstance(expression.arg, ast.ColumnRef)
    ):
        return dotted(expression.arg.fields)[-1]
    return None
