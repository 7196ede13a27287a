"""A revision's PostgreSQL script, statement by statement: the exact text of each, the
transaction it runs in, the lock it takes on each table and the work it does there.

The script is what `flask sqlmigrate REV --dialect postgresql` prints. pglast (PostgreSQL's own
parser) splits and reads it; nothing here matches SQL with regular expressions. Alembic's
bookkeeping (BEGIN/COMMIT, which only mark transactions, and the writes to alembic_version) is
not reported. The lock each kind of statement takes is PostgreSQL's rule, checked statement by
statement against `pg_locks` by tests/migrations/test_impact_locks.py. A statement whose kind is
not known here is `unknown`, with the tables it names and no lock: never a guess.
"""

from __future__ import annotations

import pglast
from pglast import ast
from pglast.enums import DropBehavior, ObjectType, TransactionStmtKind
from pglast.visitors import referenced_relations

from pixcrawler.migrator.impact.alter_table import classify_alter
from pixcrawler.migrator.impact.facts import Statement, Work
from pixcrawler.migrator.impact.locks import Lock
from pixcrawler.migrator.impact.schema import Schema
from pixcrawler.migrator.impact.syntax import object_name, relation_name

BOOKKEEPING_TABLE = "alembic_version"
COMMENTS = frozenset({"SQL_COMMENT", "C_COMMENT"})
STARTS = frozenset({TransactionStmtKind.TRANS_STMT_BEGIN, TransactionStmtKind.TRANS_STMT_START})
ENDS = frozenset(
    {
        TransactionStmtKind.TRANS_STMT_COMMIT,
        TransactionStmtKind.TRANS_STMT_ROLLBACK,
        TransactionStmtKind.TRANS_STMT_PREPARE,
    }
)


def split(script: str) -> list[Statement]:
    """The statements of a rendered script, with their exact text and transaction, Alembic's
    bookkeeping left out."""
    found: list[Statement] = []
    transaction, in_block = 0, False
    for piece in pglast.split(script, with_parser=False, only_slices=True):
        sql = _without_comments(script[piece])
        if not sql:
            continue
        try:
            node = pglast.parse_sql(sql)[0].stmt
        except pglast.parser.ParseError:
            node = None
        if isinstance(node, ast.TransactionStmt):  # BEGIN, COMMIT, SAVEPOINT, …: not reported
            if node.kind in STARTS:
                in_block, transaction = True, transaction + 1
            elif node.kind in ENDS:
                in_block = False
            continue
        if node is not None and _is_bookkeeping(node):
            continue
        if not in_block:
            transaction += 1
        found.append(Statement(sql=sql, transaction=transaction, node=node))
    return found


def _without_comments(piece: str) -> str:
    """The statement from its first word: the comments before it (Alembic's "-- Running
    upgrade", a revision's own notes) are not part of it."""
    tokens = [t for t in pglast.parser.scan(piece) if t.name not in COMMENTS]
    if not tokens:
        return ""
    return piece.encode()[tokens[0].start :].decode().strip()  # the scanner counts bytes


def _is_bookkeeping(node: ast.Node) -> bool:
    try:
        return BOOKKEEPING_TABLE in referenced_relations(node)
    except Exception:
        return False


def classify(statement: Statement, schema: Schema) -> Statement:
    """Fill in the statement's locks, work and deletions, as of `schema` (before it runs)."""
    node = statement.node
    handler = HANDLERS.get(type(node))
    if isinstance(node, ast.AlterTableStmt):
        handler = classify_alter
    if handler is None or handler(node, schema, statement) is False:
        statement.cannot_tell()
    return statement


def _create_table(node: ast.CreateStmt, schema: Schema, out: Statement):
    if node.inhRelations or node.partbound or node.ofTypename:
        return False
    name = relation_name(node.relation)
    out.lock(name, Lock.ACCESS_EXCLUSIVE)  # new: nobody else sees it before the commit
    for element in node.tableElts or ():
        constraints = element.constraints if isinstance(element, ast.ColumnDef) else [element]
        for constraint in constraints or ():
            if getattr(constraint, "pktable", None) is not None:
                referenced = relation_name(constraint.pktable)
                if referenced != name:
                    out.lock(referenced, Lock.SHARE_ROW_EXCLUSIVE)
    return None


def _create_index(node: ast.IndexStmt, schema: Schema, out: Statement):
    table = relation_name(node.relation)
    out.lock(table, Lock.SHARE_UPDATE_EXCLUSIVE if node.concurrent else Lock.SHARE)
    existing = schema.table(table)
    if node.if_not_exists and existing is not None and node.idxname in existing.indexes:
        return None  # already there: PostgreSQL says so and builds nothing
    out.does(Work.INDEX_BUILD, table, rehearsal=node, concurrently=node.concurrent)
    return None


def _drop(node: ast.DropStmt, schema: Schema, out: Statement):
    if node.removeType == ObjectType.OBJECT_INDEX:
        for names in node.objects:
            owner = schema.index_owner(object_name(names))
            if owner is None:
                if node.missing_ok:
                    continue  # IF EXISTS of nothing: a no-op
                return False
            weak = Lock.SHARE_UPDATE_EXCLUSIVE
            out.lock(owner, weak if node.concurrent else Lock.ACCESS_EXCLUSIVE)
        return None
    if node.removeType != ObjectType.OBJECT_TABLE:
        return False
    for names in node.objects:
        name = object_name(names)
        table = schema.table(name)
        if table is None:
            if node.missing_ok:
                continue
            return False
        out.lock(name, Lock.ACCESS_EXCLUSIVE)
        out.deletes.append((name, f"drops table {name}"))
        for constraint in table.constraints.values():
            if constraint.references and constraint.references != name:
                out.lock(constraint.references, Lock.ACCESS_EXCLUSIVE)
        if node.behavior == DropBehavior.DROP_CASCADE:
            for other in schema.referencing(name):
                out.lock(other, Lock.ACCESS_EXCLUSIVE)
    return None


def _rename(node: ast.RenameStmt, schema: Schema, out: Statement):
    if node.renameType == ObjectType.OBJECT_INDEX:
        return None  # the index only: nothing on its table
    if node.renameType not in (
        ObjectType.OBJECT_TABLE,
        ObjectType.OBJECT_COLUMN,
        ObjectType.OBJECT_TABCONSTRAINT,
    ):
        return False
    out.lock(relation_name(node.relation), Lock.ACCESS_EXCLUSIVE)
    return None


def _comment(node: ast.CommentStmt, schema: Schema, out: Statement):
    if node.objtype == ObjectType.OBJECT_TABLE:
        out.lock(object_name(node.object), Lock.SHARE_UPDATE_EXCLUSIVE)
    elif node.objtype == ObjectType.OBJECT_COLUMN:
        out.lock(object_name(node.object[:-1]), Lock.SHARE_UPDATE_EXCLUSIVE)
    elif node.objtype == ObjectType.OBJECT_TABCONSTRAINT:
        out.lock(object_name(node.object[:-1]), Lock.ACCESS_SHARE)
    elif node.objtype != ObjectType.OBJECT_INDEX:
        return False
    return None


def _update_or_delete(node: ast.UpdateStmt | ast.DeleteStmt, schema: Schema, out: Statement):
    target = relation_name(node.relation)
    _read_locks(node, target, out)
    out.lock(target, Lock.ROW_EXCLUSIVE)
    out.does(Work.DATA, target, rehearsal=node)
    return None


def _insert(node: ast.InsertStmt, schema: Schema, out: Statement):
    target = relation_name(node.relation)
    sources = _read_locks(node.selectStmt, target, out) if node.selectStmt is not None else []
    out.lock(target, Lock.ROW_EXCLUSIVE)
    known = [schema.table(name) for name in sources if schema.table(name) is not None]
    biggest = max(known, key=lambda t: t.bytes or 0, default=None)
    out.does(Work.DATA, target, source=biggest.name if biggest else None)
    return None


def _read_locks(node: ast.Node, target: str, out: Statement) -> list[str]:
    """ACCESS SHARE on every other table the statement reads."""
    names = sorted(n.removeprefix("public.") for n in referenced_relations(node))
    sources = [name for name in names if name != target]
    for name in sources:
        out.lock(name, Lock.ACCESS_SHARE)
    return sources


def _truncate(node: ast.TruncateStmt, schema: Schema, out: Statement):
    for relation in node.relations:
        name = relation_name(relation)
        out.lock(name, Lock.ACCESS_EXCLUSIVE)
        out.deletes.append((name, f"empties {name}"))
        if node.behavior == DropBehavior.DROP_CASCADE:
            for other in schema.referencing(name):
                out.lock(other, Lock.ACCESS_EXCLUSIVE)
                out.deletes.append((other, f"empties {other}"))
    return None


def _lock_table(node: ast.LockStmt, schema: Schema, out: Statement):
    for relation in node.relations:
        out.lock(relation_name(relation), Lock(node.mode))
    return None


def _no_table(node: ast.Node, schema: Schema, out: Statement):
    """Objects that are not tables (an extension, a sequence, a type, a schema, a setting)."""
    return None


HANDLERS = {
    ast.CreateStmt: _create_table,
    ast.IndexStmt: _create_index,
    ast.DropStmt: _drop,
    ast.RenameStmt: _rename,
    ast.CommentStmt: _comment,
    ast.UpdateStmt: _update_or_delete,
    ast.DeleteStmt: _update_or_delete,
    ast.InsertStmt: _insert,
    ast.TruncateStmt: _truncate,
    ast.LockStmt: _lock_table,
    ast.CreateExtensionStmt: _no_table,
    ast.CreateSeqStmt: _no_table,
    ast.CreateEnumStmt: _no_table,
    ast.CreateSchemaStmt: _no_table,
    ast.VariableSetStmt: _no_table,
}
