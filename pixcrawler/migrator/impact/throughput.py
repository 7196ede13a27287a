"""How fast this server copies, scans, indexes and updates a table: measured now, in under a
second, on a sample of the biggest table the revisions touch.

A fixed rate would be wrong on every server but the one it was measured on, so each run times
the work itself, on a sample of at most SAMPLE_ROWS rows (and SAMPLE_BYTES) of that table:

- a scan: the sample read from the table (what SET NOT NULL or a validation does per row);
- a copy: the sample written into a new table (what a rewrite does per byte);
- index builds: each of the table's own indexes, and each index a revision creates there,
  built on that copy (a rewrite rebuilds them all);
- updates: the revisions' own UPDATE and DELETE statements run on the copy, and a plain
  full-row update for the others.

All of it happens in one transaction that is rolled back, under a statement_timeout. The real
table is only read (ACCESS SHARE), under a short lock_timeout, so the probe never waits behind
a migration. A role that may not create a table in the schema gets a temporary table instead
(said in the report: it writes no WAL, so it runs faster than the real thing), and one that
may not do even that gets no estimate, and the report says why.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field

import sqlalchemy as sa
from pglast import ast

from pixcrawler.migrator.impact.schema import Table
from pixcrawler.migrator.impact.syntax import deparse, parse_one, quoted, relation_name, walk

SAMPLE_ROWS = 20_000
SAMPLE_BYTES = 8 * 1024 * 1024
STATEMENT_TIMEOUT_MS = 1000
LOCK_TIMEOUT_MS = 300
BUDGET_SECONDS = 0.8  # rehearsals stop once the probe has run this long
REPEATS = 2  # of each short timing; the quickest counts (the others waited for the CPU)
PROBE_TABLE = "pixcrawler_impact_probe"

INSUFFICIENT_PRIVILEGE = "42501"
LOCK_NOT_AVAILABLE = "55P03"
QUERY_CANCELED = "57014"


class ProbeFailed(Exception):
    """The throughput could not be measured: the reason, in words."""


@dataclass
class Throughput:
    """Seconds the sample took for each kind of work, and how to scale them to a table."""

    table: str
    rows: int  # in the sample
    heap_bytes: int  # of the sample's copy
    scan_seconds: float  # reading SAMPLE rows of the real table, in its order
    write_seconds: float  # writing the sample into a new table
    row_bytes: float  # the real table's bytes per row (dead rows included), for its scans
    index_seconds: dict[str, float] = field(default_factory=dict)  # by index name
    rehearsed: dict[int, float] = field(default_factory=dict)  # by id() of the statement node
    update_seconds: float | None = None
    elapsed: float = 0.0
    temporary: bool = False

    def scan(self, table: Table) -> float:
        return self.scan_seconds * (table.heap_bytes or 0) / (self.rows * self.row_bytes)

    def write(self, table: Table) -> float:
        """Writing the table's live rows anew: per row on the sampled table, per byte on others."""
        if table.name == self.table:
            return self.write_seconds * (table.rows or 0) / self.rows
        return self.write_seconds * (table.heap_bytes or 0) / self.heap_bytes

    def rewrite(self, table: Table) -> float:
        """A table rewrite: read it, write its rows anew, rebuild each of its indexes."""
        builds = sum(self.build(table, self._index(table, name)) for name in table.indexes)
        return self.scan(table) + self.write(table) + builds

    def build(self, table: Table, sample_seconds: float | None = None) -> float:
        """An index build on the table's rows: a sort, so n·log n from the sample's time (the
        mean of the sample's builds when this index was not built on it)."""
        if sample_seconds is None:
            sample_seconds = sum(self.index_seconds.values()) / len(self.index_seconds)
        return sample_seconds * _n_log_n(table.rows or 0) / _n_log_n(self.rows)

    def update(self, table: Table, sample_seconds: float | None = None) -> float | None:
        """An UPDATE or DELETE: its own time on the sample when it ran there, scaled by rows;
        else the sample's update of every row (an upper bound), by rows or, elsewhere, bytes."""
        if sample_seconds is not None and table.name == self.table:
            return sample_seconds * (table.rows or 0) / self.rows
        if self.update_seconds is None:
            return None
        if table.name == self.table:
            return self.update_seconds * (table.rows or 0) / self.rows
        return self.update_seconds * (table.heap_bytes or 0) / self.heap_bytes

    def _index(self, table: Table, name: str) -> float | None:
        return self.index_seconds.get(name) if table.name == self.table else None

    def describe(self) -> str:
        """One line: where and how it was measured, and the rates."""
        where = "a temporary copy, which skips the WAL" if self.temporary else "a copy"
        sample_mb = self.rows * self.row_bytes / 1e6
        writes = self.heap_bytes / 1e6 / self.write_seconds
        builds = self.rows * len(self.index_seconds) / sum(self.index_seconds.values())
        return (
            f"throughput measured on {self.table} in {self.elapsed:.2f} s "
            f"({self.rows:,}-row sample, {where}, rolled back): "
            f"scan {_rate(sample_mb / self.scan_seconds)}B/s, write {_rate(writes)}B/s, "
            f"index build {_rate(builds / 1e6)} rows/s"
        )


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
    kind = "TEMPORARY TABLE" if temporary else "TABLE"
    empty, copies = f"{probe}_empty", [f"{probe}_copy{n}" for n in range(REPEATS)]
    overhead = _timed(connection, f"CREATE {kind} {empty} AS SELECT * FROM {probe} LIMIT 0")
    write = min(_timed(connection, f"CREATE {kind} {c} AS SELECT * FROM {probe}") for c in copies)
    heap = connection.exec_driver_sql(f"SELECT pg_table_size('{probe}')").scalar()
    found = Throughput(
        table=table.name,
        rows=rows,
        heap_bytes=heap,
        scan_seconds=scan,
        write_seconds=_less(write, overhead),
        row_bytes=(table.heap_bytes or heap) / max(table.rows or rows, 1),
        temporary=temporary,
    )
    # The table's own indexes stay on the sample, so that updates rehearsed there maintain
    # them as they will on the table.
    definitions = {k: v for k, v in table.indexes.items() if v is not None}
    for name, definition in definitions.items():
        seconds = _build(connection, definition, table.name, probe, empty, keep=True)
        if seconds is not None:
            found.index_seconds[name] = seconds
    if not found.index_seconds:  # none to copy: time one on the first column
        first = f'CREATE INDEX ON {source} ("{_columns(connection, probe)[0]}")'
        found.index_seconds["(first column)"] = _build(connection, first, table.name, probe, empty)
    if updates:
        column = _columns(connection, probe)[0]
        found.update_seconds = _try(connection, f'UPDATE {probe} SET "{column}" = "{column}"')
    for node in rehearsals:
        if time.perf_counter() - started > BUDGET_SECONDS:
            break
        if isinstance(node, ast.IndexStmt):
            seconds = _build(connection, node, table.name, probe, empty)
        else:
            seconds = _try(connection, _on_sample(node, table.name, probe))
        if seconds is not None:
            found.rehearsed[id(node)] = seconds
    return found


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


def _build(connection, definition, table: str, probe: str, empty: str, keep=False):
    """Seconds an index takes on the sample, less what the same build takes on no rows;
    None when it cannot be built there. With `keep`, the last build stays."""
    sql = _on_sample(definition, table, probe)
    if sql is None:
        return None
    fixed = _try(connection, _on_sample(definition, table, empty))
    times = [_try(connection, sql, keep=keep and n == REPEATS - 1) for n in range(REPEATS)]
    if fixed is None or None in times:
        return None
    return _less(min(times), fixed)


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
    """The statement with `table` replaced by the sample's copy (under the table's name as an
    alias, so its column references still resolve); None when it does not name the table."""
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
    return deparse(node) if found else None


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


def _n_log_n(rows: int) -> float:
    return max(rows, 2) * math.log2(max(rows, 2))


def _rate(value: float) -> str:
    """1.2 G, 45 M, 800 k: per second, in the units people read."""
    for unit, size in (("G", 1e3), ("M", 1.0), ("k", 1e-3)):
        if value >= size:
            return f"{value / size:.3g} {unit}"
    return f"{value * 1e6:.3g} "
