"""What the live PostgreSQL catalog says about the tables: columns, constraints, indexes, and
sizes (`pg_class.reltuples` and `pg_total_relation_size`, never a COUNT(*), which would read
every row). Like the planner, the row count is scaled to the pages the table has now, so a
bulk load since the last ANALYZE counts.

Reading sizes opens each table under ACCESS SHARE, which waits behind a lock another session
holds or has queued for (a running migration). So it runs under a short `lock_timeout` and, when
that runs out, reports the sizes as unknown rather than wait as long as the migration.
"""

from __future__ import annotations

from pglast.parser import ParseError

from pixcrawler.database.errors import is_lock_timeout
from pixcrawler.migrator.impact.column_rules import ColumnType
from pixcrawler.migrator.impact.schema import Constraint, Schema, Table, is_not_null_check
from pixcrawler.migrator.impact.syntax import parse_one, quoted

LOCK_TIMEOUT_MS = 1000

# Zones whose offset is zero at every date: PostgreSQL 12+ then changes timestamp to
# timestamptz (and back) in the catalog only.
UTC_ZONES = frozenset(
    {"utc", "etc/utc", "uct", "etc/uct", "gmt", "etc/gmt", "zulu", "etc/zulu", "universal"}
    | {"etc/universal", "greenwich", "etc/greenwich", "gmt0", "etc/gmt0", "gmt+0", "gmt-0"}
)

TABLES = """
SELECT c.relname, c.reltuples, c.relpages, pg_total_relation_size(c.oid),
       pg_table_size(c.oid), pg_relation_size(c.oid) / current_setting('block_size')::int
FROM pg_class c
WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
"""
COLUMNS = """
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod)
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
  AND a.attnum > 0 AND NOT a.attisdropped
"""
CONSTRAINTS = """
SELECT con.conname, c.relname, con.contype, r.relname, con.convalidated,
       pg_get_constraintdef(con.oid)
FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
LEFT JOIN pg_class r ON r.oid = con.confrelid
WHERE c.relnamespace = current_schema()::regnamespace
"""
INDEXES = """
SELECT i.relname, c.relname, pg_get_indexdef(i.oid)
FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid
WHERE c.relnamespace = current_schema()::regnamespace
"""
# 'v' > 's' > 'i': the most volatile of a name's overloads.
VOLATILITY = "SELECT proname, max(provolatile) FROM pg_proc GROUP BY proname"


class CatalogLocked(Exception):
    """A table's size could not be read within the lock timeout."""


def read_schema(connection) -> Schema:
    """The current schema's tables with their sizes, from a PostgreSQL connection (a
    SQLAlchemy Connection). Reads only; its transaction is rolled back."""
    with connection.begin() as transaction:
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT_MS}ms'")
        rows = connection.exec_driver_sql(VOLATILITY).all()
        zone = connection.exec_driver_sql("SELECT current_setting('TimeZone')").scalar()
        schema = Schema(volatility=dict(rows), utc=zone.lower() in UTC_ZONES)
        try:
            sizes = connection.exec_driver_sql(TABLES).all()
        except Exception as exc:
            if is_lock_timeout(exc):
                raise CatalogLocked(str(exc)) from None
            raise
        for name, reltuples, relpages, total, heap, pages in sizes:
            rows = _rows(connection, name, reltuples, relpages, pages)
            schema.tables[name] = Table(name, rows=rows, bytes=total, heap_bytes=heap)
        for table, column, type_text in connection.exec_driver_sql(COLUMNS):
            schema.tables[table].columns[column] = _column_type(type_text)
        for name, table, kind, references, valid, definition in connection.exec_driver_sql(
            CONSTRAINTS
        ):
            schema.tables[table].constraints[name] = Constraint(
                kind,
                references=references,
                not_null_of=_not_null_of(definition) if kind == "c" else None,
                valid=valid,
            )
        for index, table, definition in connection.exec_driver_sql(INDEXES):
            schema.tables[table].indexes[index] = definition
        transaction.rollback()
    return schema


def _rows(connection, table: str, reltuples: float, relpages: int, pages: int) -> int:
    """reltuples, scaled to the pages the table has now as the planner scales it (a bulk load
    since the last ANALYZE counts); for a table never analysed (-1), the planner's own
    estimate. No pages: empty."""
    if not pages:
        return 0
    if reltuples >= 0 and relpages > 0:
        return round(reltuples / relpages * pages)
    explain = f"EXPLAIN (FORMAT JSON) SELECT * FROM {quoted(table)}"
    plan = connection.exec_driver_sql(explain).scalar()
    return round(plan[0]["Plan"]["Plan Rows"])


def _column_type(text: str) -> ColumnType | None:
    try:
        return ColumnType.parse(text)
    except ParseError:
        return None


def _not_null_of(definition: str) -> str | None:
    try:
        node = parse_one(f"ALTER TABLE t ADD {definition}")
    except ParseError:
        return None
    return is_not_null_check(node.cmds[0].def_.raw_expr)
