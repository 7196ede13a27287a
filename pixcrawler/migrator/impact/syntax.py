"""Small readers of pglast's syntax tree (PostgreSQL's own parser, libpg_query): names,
walking a tree, and the text of a node; shared by the modules that classify statements."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast, parse_sql
from pglast.stream import RawStream

DEFAULT_SCHEMA = "public"


def relation_name(relation: ast.RangeVar) -> str:
    """A table as the report names it: `images`, or `other.images` outside `public`."""
    if relation.schemaname and relation.schemaname != DEFAULT_SCHEMA:
        return f"{relation.schemaname}.{relation.relname}"
    return relation.relname


def dotted(names) -> list[str]:
    """The parts of a qualified name given as a list of String nodes."""
    return [getattr(part, "sval", str(part)) for part in names or ()]


def object_name(names) -> str:
    """A table, index or column path (`String` nodes) as the report names it."""
    parts = dotted(names)
    if len(parts) > 1 and parts[0] == DEFAULT_SCHEMA:
        parts = parts[1:]
    return ".".join(parts)


def walk(node) -> Iterator[ast.Node]:
    """Every node under `node` (itself included), depth first."""
    if isinstance(node, ast.Node):
        yield node
        for slot in node.__slots__:
            yield from walk(getattr(node, slot, None))
    elif isinstance(node, tuple | list):
        for item in node:
            yield from walk(item)


def function_names(node) -> list[str]:
    """The functions an expression calls, unqualified and in lower case."""
    calls = [found for found in walk(node) if isinstance(found, ast.FuncCall)]
    return [dotted(call.funcname)[-1].lower() for call in calls]


def deparse(node: ast.Node) -> str:
    """SQL for a (possibly edited) statement node."""
    return RawStream()(node)


def parse_one(sql: str) -> ast.Node:
    """The single statement in `sql`."""
    return parse_sql(sql)[0].stmt


def type_name(text: str) -> ast.TypeName:
    """A type spelled as `format_type` or a revision spells it, as PostgreSQL's parser reads it."""
    return parse_one(f"CREATE TABLE t (c {text})").tableElts[0].typeName


def quoted(name: str) -> str:
    """A table name for SQL text, quoted as an identifier (`other.images` stays qualified)."""
    return ".".join('"' + part.replace('"', '""') + '"' for part in name.split("."))
