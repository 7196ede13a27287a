"""Fast bulk writes of plain row tuples: COPY on PostgreSQL, executemany batches on SQLite.

Seed data and benchmarks write millions of rows; one ORM object per row would take minutes.
Rows are streamed: at most one chunk is held in memory at a time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from itertools import islice
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import Null

COPY_CHUNK_ROWS = 5_000
COPY_READ_BYTES = 1 << 16
EXECUTEMANY_BATCH_ROWS = 5_000

# Characters COPY's text format gives a meaning; everything else is taken literally.
_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")


def chunks(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """`rows` in lists of at most `size`, without materialising the whole iterable."""
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def insert_rows(
    connection: sa.Connection,
    table: sa.Table,
    columns: Sequence[str],
    rows: Iterable[tuple],
    copy_line: Callable[[tuple], str] | None = None,
) -> int:
    """Insert `rows` (tuples in the order of `columns`) into `table`; returns how many.

    :param copy_line: optional fast formatter of one row as a COPY text line (with its newline),
        for callers that know their values need no escaping; the generic converters are used
        otherwise.
    """
    if connection.dialect.name == "postgresql":
        return _copy_rows(connection, table, columns, rows, copy_line)
    return _executemany_rows(connection, table, columns, rows)


@contextmanager
def indexes_deferred(connection: sa.Connection, table: sa.Table) -> Iterator[list[str]]:
    """On PostgreSQL, drop `table`'s secondary indexes now and rebuild them on exit.

    PostgreSQL's own advice for populating a database: building an index once over all rows
    is cheaper than updating it row by row (about a fifth off a million-image COPY). Meant
    for loading into an empty table, inside the caller's transaction, so a failure brings the
    indexes back with the rollback. Indexes behind constraints (primary key, unique) stay.
    Yields the names of the deferred indexes; does nothing on other backends.
    """
    if connection.dialect.name != "postgresql":
        yield []
        return
    found = connection.execute(
        sa.text(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid = CAST(:table AS regclass) AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) "
            "ORDER BY c.relname"
        ),
        {"table": table.name},
    ).all()
    for name, _ in found:
        connection.exec_driver_sql(f'DROP INDEX "{name}"')
    yield [name for name, _ in found]
    # More memory than the default 64 MB lets each index be sorted in one pass.
    connection.exec_driver_sql("SET LOCAL maintenance_work_mem = '256MB'")
    for _, definition in found:
        connection.exec_driver_sql(definition)


def _executemany_rows(connection, table, columns, rows) -> int:
    # Core executemany still applies each column type's bind processing (UTC datetimes, UUIDs).
    statement = table.insert()
    written = 0
    for batch in chunks(rows, EXECUTEMANY_BATCH_ROWS):
        connection.execute(statement, [dict(zip(columns, row, strict=True)) for row in batch])
        written += len(batch)
    return written


def _copy_rows(connection, table, columns, rows, copy_line) -> int:
    names = ", ".join(f'"{name}"' for name in columns)
    sql = f'COPY "{table.name}" ({names}) FROM STDIN'
    converters = [copy_converter(table.c[name].type) for name in columns]
    stream = CopyStream(rows, converters, copy_line)
    cursor = connection.connection.driver_connection.cursor()
    try:
        # One COPY per table: the server parses while Python formats the next rows.
        cursor.copy_expert(sql, stream, size=COPY_READ_BYTES)
    finally:
        cursor.close()
    return stream.rows


class CopyStream:
    """A file-like `read()` over rows, formatted in COPY text format one chunk at a time."""

    def __init__(
        self,
        rows: Iterable[tuple],
        converters: Sequence[Callable[[Any], str]],
        copy_line: Callable[[tuple], str] | None = None,
    ):
        self.batches = chunks(rows, COPY_CHUNK_ROWS)
        self.converters = converters
        self.copy_line = copy_line
        self.rows = 0

    def read(self, size: int = -1) -> str:
        """The next chunk of rows ("" at the end); psycopg2 sends whatever length it gets."""
        batch = next(self.batches, None)
        if batch is None:
            return ""
        self.rows += len(batch)
        return self.format(batch)

    def format(self, batch: list[tuple]) -> str:
        if self.copy_line is not None:
            return "".join(map(self.copy_line, batch))
        converters = self.converters
        lines = [
            "\t".join([r"\N" if value is None else convert(value)
                       for convert, value in zip(converters, row, strict=True)])
            for row in batch
        ]  # fmt: skip
        lines.append("")
        return "\n".join(lines)


def copy_converter(column_type: sa.types.TypeEngine) -> Callable[[Any], str]:
    """The function that writes one non-NULL value of `column_type` as COPY text."""
    if isinstance(column_type, sa.TypeDecorator):
        column_type = column_type.impl
    if isinstance(column_type, sa.JSON):
        # sa.null() is how a caller asks for SQL NULL in a JSON column.
        return lambda value: r"\N" if isinstance(value, Null) else _escape(json_text(value))
    if isinstance(column_type, sa.Boolean):
        return lambda value: "t" if value else "f"
    if isinstance(column_type, sa.Integer):
        return str
    if isinstance(column_type, sa.DateTime):
        return _datetime_text()
    if isinstance(column_type, sa.String):  # Text too
        return _escape
    return lambda value: _escape(str(value))


def _datetime_text() -> Callable[[datetime], str]:
    # Neighbouring rows often share a timestamp; remembering the last one halves the cost.
    last: list[Any] = [None, ""]

    def convert(value: datetime) -> str:
        if value != last[0]:
            if value.tzinfo is None:
                raise ValueError(f"naive datetime {value!r}: timestamps must carry a timezone")
            last[0], last[1] = value, value.isoformat()
        return last[1]

    return convert


json_text = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def _escape(text: str) -> str:
    if _COPY_SPECIAL.search(text) is None:
        return text
    return (
        text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )
