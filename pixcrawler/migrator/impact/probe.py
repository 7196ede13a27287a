"""How fast this server reads, writes, indexes and updates a table: measured now, in under a
second, on a sample of the biggest table the revisions touch (`Throughput` scales it).

A fixed rate would be wrong on every server but the one it was measured on, so each run times
the work itself, on a sample of at most SAMPLE_ROWS rows (and SAMPLE_BYTES) of that table:

- a scan: the sample read from the table, in its order (what SET NOT NULL or a validation
  does per row);
- a write: random pages of the table copied into a new table, then that copy written again
  (what a rewrite does per row);
- index builds: each of the table's own indexes, and each index a revision creates there,
  built on that copy (a rewrite rebuilds them all);
- updates: the revisions' own UPDATE and DELETE statements run on the copy's first quarter of
  pages (with its indexes), and a plain update of those rows for the others.

Each short timing is repeated and the quickest counts (the others waited for the CPU), less
what the same work takes on no rows (creating files and catalog rows, which a big table pays
once too). All of it happens in one transaction that is rolled back, under a
statement_timeout. The real table is only read (ACCESS SHARE), under a short lock_timeout, so
the probe never waits behind a migration. A role that may not create a table in the schema
gets a temporary table instead (the report says so: it writes no WAL, so it runs faster than
the real thing), and one that may not do even that gets no estimate, and the report says why.
"""

from __future__ import annotations

import copy
import time

import sqlalchemy as sa
from pglast import ast
from pglast.enums import BoolExprType

from pixcrawler.database.errors import LOCK_NOT_AVAILABLE
from pixcrawler.migrator.impact.schema import Table
from pixcrawler.migrator.impact.syntax import deparse, parse_one, quoted, relation_name, walk
from pixcrawler.migrator.impact.throughput import Throughput

SAMPLE_ROWS = 50_000
SAMPLE_BYTES = 16 * 1024 * 1024
STATEMENT_TIMEOUT_MS = 1000
LOCK_TIMEOUT_MS = 300
BUDGET_SECONDS = 0.8  # rehearsals stop once the probe has run this long
REPEATS = 4  # of each short timing; the quickest counts (the others waited for the CPU)
PROBE_TABLE = "pixcrawler_impact_probe"

INSUFFICIENT_PRIVILEGE = "42501"
QUERY_CANCELED = "57014"


class ProbeFailed(Exception):
    """The throughput could not be measured: the reason, in words."""


def measure(
    connection: sa.Connection, table: Table, rehearsals: list[ast.Node], updates: bool
) -> Throughput:
    """Time the sample's work on `table` (see the module's docstring); raises ProbeFailed."""
    started = time.perf_counter()
    try:
        with connection.begin() as transaction:
            connection.exec_driver_sql(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}")
            connection.exec_driver_sql(f"SET LOCAL lock_timeout = {LOCK_TIMEOUT_MS}")
            found = _measure(connection, table, rehearsals, updates, started)
            transaction.rollback()
    except sa.exc.DBAPIError as exc:
        raise ProbeFailed(_reason(exc, table.name)) from None
    found.elapsed = time.perf_counter() - started
    return found


def _measure(connection, table: Table, rehearsals, updates: bool, started: float):
    source = quoted(table.name)
    rows = _sample_rows(table)
    pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    probe = f"{PROBE_TABLE}_{pid}"
    scan = _timed(connection, f"SELECT count(*) FROM (SELECT * FROM {source} LIMIT {rows}) s")
    # Random pages across the table, so that the indexes are built on values as they are
    # spread (the first rows of a table are often its oldest, and sorted).
    sample = f"SELECT * FROM {source}"
    if rows < (table.rows or 0):
        sample += f" TABLESAMPLE SYSTEM ({100 * rows / table.rows:.6f})"
    temporary = not _create(connection, probe, sample)
    rows = connection.exec_driver_sql(f"SELECT count(*) FROM {probe}").scalar()
    if not rows:
        raise ProbeFailed(f"the sample of {table.name} came out empty")
    timer = _Timer(
        connection, table.name, probe, "TEMPORARY TABLE" if temporary else "TABLE", started
    )
    found = Throughput(
        table=table.name,
        rows=rows,
        heap_bytes=connection.exec_driver_sql(f"SELECT pg_table_size('{probe}')").scalar(),
        scan_seconds=scan,
        write_seconds=timer.write(),
        row_bytes=(table.heap_bytes or 1) / max(table.rows or rows, 1),
        temporary=temporary,
    )
    for node in rehearsals:  # the revisions' own indexes, built on the sample first
        if isinstance(node, ast.IndexStmt) and not timer.late():
            _record(found.rehearsed, id(node), timer.build(node))
    # The table's own indexes stay on the sample, so that updates rehearsed there maintain
    # them as they will on the table.
    for name, definition in table.indexes.items():
        if timer.late():
            break  # the others count as the mean of those built
        _record(found.index_seconds, name, timer.build(definition, keep=True))
    if not found.index_seconds:  # none to copy: time one on the first column
        first = f'CREATE INDEX ON {source} ("{_columns(connection, probe)[0]}")'
        _record(found.index_seconds, "(first column)", timer.build(first))
    if updates and not timer.late():
        found.update_seconds = timer.change_rows(None, rows)
    for node in rehearsals:
        if not isinstance(node, ast.IndexStmt) and not timer.late():
            _record(found.rehearsed, id(node), timer.change_rows(node, rows))
    return found


def _record(found: dict, key, seconds: float | None) -> None:
    if seconds is not None:
        found[key] = seconds


class _Timer:
    """Times work on the sample: each short timing a few times, the quickest counting (the
    others waited for the CPU), less what the same work takes on no rows; once half the
    budget is spent, each is timed once, so the whole stays under a second."""

    def __init__(self, connection, table: str, probe: str, kind: str, started: float):
        self.connection, self.table, self.probe, self.kind = connection, table, probe, kind
        self.started = started
        self.empty = f"{probe}_empty"
        connection.exec_driver_sql(f"CREATE {kind} {self.empty} AS SELECT * FROM {probe} LIMIT 0")
        self.copies = 0

    def late(self) -> bool:
        return time.perf_counter() - self.started > BUDGET_SECONDS

    def repeats(self) -> int:
        return 1 if time.perf_counter() - self.started > BUDGET_SECONDS / 2 else REPEATS

    def change_rows(self, statement: ast.Node | None, rows: int) -> float | None:
        """An UPDATE or DELETE of the revision's on the sample, or without one an update of
        every row (new row versions, index entries): run on the sample's first quarter of
        pages, and scaled to the whole sample by rows. None when it cannot run there."""
        if statement is None:
            column = _columns(self.connection, self.probe)[0]
            statement = parse_one(f'UPDATE {self.table} SET "{column}" = "{column}"')
        node = _retarget(statement, self.table, self.probe)
        if node is None:
            return None
        pages = self.connection.exec_driver_sql(
            f"SELECT pg_relation_size('{self.probe}') / current_setting('block_size')::int"
        ).scalar()
        quarter = f"ctid < '({max(1, pages // 4)},0)'::tid"
        counted = self.connection.exec_driver_sql(
            f"SELECT count(*) FROM {self.probe} WHERE {quarter}"
        ).scalar()
        alias = node.relation.alias.aliasname
        limit = parse_one(f"SELECT 1 WHERE {quoted(alias)}.{quarter}").whereClause
        if node.whereClause is not None:
            limit = ast.BoolExpr(boolop=BoolExprType.AND_EXPR, args=(limit, node.whereClause))
        node.whereClause = limit
        seconds = _try(self.connection, deparse(node))
        if seconds is None or not counted:
            return None
        return seconds * rows / counted

    def write(self) -> float:
        """Writing the sample into a new table: a rewrite's work per row."""
        times, fixed = [], []
        for _ in range(min(2, self.repeats())):  # tens of ms each: less noisy than builds
            self.copies += 1
            copy_ = f"{self.probe}_copy{self.copies}"
            fixed.append(
                _timed(self.connection, f"CREATE {self.kind} {copy_}_0 AS {self._from(0)}")
            )
            times.append(_timed(self.connection, f"CREATE {self.kind} {copy_} AS {self._from()}"))
        return _less(min(times), min(fixed))

    def _from(self, limit: int | None = None) -> str:
        return f"SELECT * FROM {self.probe}" + ("" if limit is None else f" LIMIT {limit}")

    def build(self, definition, keep: bool = False) -> float | None:
        """Seconds an index takes on the sample, less the same build on no rows; None when
        it cannot be built there. With `keep`, the last build stays."""
        sql = self.on_sample(definition)
        if sql is None:
            return None
        empty_sql = _on_sample(definition, self.table, self.empty)
        count = self.repeats()
        fixed = [_try(self.connection, empty_sql) for _ in range(count)]
        times = [_try(self.connection, sql, keep=keep and n == count - 1) for n in range(count)]
        if None in fixed or None in times:
            return None
        return _less(min(times), min(fixed))

    def on_sample(self, statement) -> str | None:
        return _on_sample(statement, self.table, self.probe)


def _create(connection: sa.Connection, probe: str, sample: str) -> bool:
    """The sample as a table of its own: True, or a temporary one (False) when the role may
    not create tables in the schema."""
    try:
        with connection.begin_nested():
            connection.exec_driver_sql(f"CREATE TABLE {probe} AS {sample}")
        return True
    except sa.exc.DBAPIError as exc:
        if _code(exc) != INSUFFICIENT_PRIVILEGE:
            raise
    connection.exec_driver_sql(f"CREATE TEMPORARY TABLE {probe} AS {sample}")
    return False


def _less(total: float, overhead: float) -> float:
    """The part of `total` that grows with rows: without the fixed cost (creating files and
    catalog rows), which a big table pays once too. Never below a tenth of the total, since
    both are noisy."""
    return max(total - overhead, total / 10)


def _columns(connection: sa.Connection, probe: str) -> list[str]:
    return list(connection.exec_driver_sql(f"SELECT * FROM {probe} LIMIT 0").keys())


def _sample_rows(table: Table) -> int:
    rows = table.rows or 0
    if table.heap_bytes and rows:
        rows = min(rows, max(1, SAMPLE_BYTES * rows // table.heap_bytes))
    return max(1, min(rows, SAMPLE_ROWS))


def _on_sample(statement: ast.Node | str | None, table: str, probe: str) -> str | None:
    """The statement's SQL with `table` replaced by the sample's copy; None when it does not
    name the table."""
    node = _retarget(statement, table, probe)
    return None if node is None else deparse(node)


def _retarget(statement: ast.Node | str | None, table: str, probe: str) -> ast.Node | None:
    """A copy of the statement with `table` replaced by the sample's copy (under the table's
    name as an alias, so its column references still resolve); None when it does not name
    the table."""
    if statement is None:
        return None
    node = parse_one(statement) if isinstance(statement, str) else copy.deepcopy(statement)
    found = False
    for part in walk(node):
        if isinstance(part, ast.RangeVar) and relation_name(part) == table:
            part.relname, part.schemaname, found = probe, None, True
            if not isinstance(node, ast.IndexStmt) and part.alias is None:
                part.alias = ast.Alias(aliasname=table.split(".")[-1])
    if isinstance(node, ast.IndexStmt):
        node.idxname, node.concurrent, node.if_not_exists = None, False, False
    return node if found else None


def _try(connection: sa.Connection, sql: str | None, keep: bool = False) -> float | None:
    """Seconds `sql` took on the sample, undone at once unless `keep`; None when it cannot run
    there (it names a column a revision adds before it, say)."""
    if sql is None:
        return None
    try:
        with connection.begin_nested() as savepoint:
            seconds = _timed(connection, sql)
            if not keep:
                savepoint.rollback()
    except sa.exc.DBAPIError as exc:
        if _code(exc) == QUERY_CANCELED:
            raise
        return None
    return seconds


def _timed(connection: sa.Connection, sql: str) -> float:
    started = time.perf_counter()
    connection.exec_driver_sql(sql)
    return max(time.perf_counter() - started, 1e-6)


def _code(exc: sa.exc.DBAPIError) -> str | None:
    return getattr(exc.orig, "pgcode", None)


def _reason(exc: sa.exc.DBAPIError, table: str) -> str:
    code = _code(exc)
    if code == LOCK_NOT_AVAILABLE:
        return f"{table} is locked by another session (a migration?)"
    if code == QUERY_CANCELED:
        return f"the sample of {table} took longer than {STATEMENT_TIMEOUT_MS / 1000:g} s"
    if code == INSUFFICIENT_PRIVILEGE:
        return "the role may not create a table here, not even a temporary one"
    return str(exc.orig).strip().splitlines()[0]
