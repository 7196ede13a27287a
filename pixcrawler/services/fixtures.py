"""Fixtures: the app's rows written to, and read back from, JSON Lines or JSON files.

A record is `{"table": "images", "row": {...}}`. JSON Lines holds one record per line; JSON
holds an array of them. Both directions stream: dumping reads through a server-side cursor
(PostgreSQL) in primary-key order, loading parses one record at a time and inserts in
batches (new rows by COPY on PostgreSQL, executemany on SQLite and for overwritten rows), so a
million images never sit in memory.

Dumps are deterministic: tables in foreign-key order, rows by primary key, timestamps in UTC
ISO 8601 with their offset, JSON values with sorted keys. Dumping a loaded dump gives the same
bytes, on SQLite and PostgreSQL alike.

Which tables: never `admin_sessions` (`app_tables.STATE_TABLES`: a restore must not bring back
a session that was logged out). The credential tables of DUMPED_ONLY_WHEN_NAMED
(`admin_accounts`: salted password hashes) only when named: a dump made for a demo or a bug
report must not carry them by accident. A named one is written to a file created owner-only
(0600). `alembic_version` is never dumped nor loaded: it describes the
schema, which `flask db upgrade` owns, not data.
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from pixcrawler.database.errors import first_line
from pixcrawler.extensions import db
from pixcrawler.services.app_tables import data_tables, require_schema
from pixcrawler.services.bulk_insert import insert_rows
from pixcrawler.services.sequences import advance_sequences

FORMATS = ("jsonl", "json")
DUMP_BATCH_ROWS = 2_000
LOAD_BATCH_ROWS = 1_000
READ_CHUNK_CHARS = 1 << 20


# Tables a dump leaves out unless they are named on the command line: credentials.
DUMPED_ONLY_WHEN_NAMED = frozenset({"admin_accounts"})


class FixtureError(ValueError):
    """A fixture or a request the operator has to fix; the message is one line."""


# -- which tables -------------------------------------------------------------------------


def select_tables(names: Iterable[str] = ()) -> list[sa.Table]:
    """The named tables, always in foreign-key order; with no names, every app table but the
    credential ones (DUMPED_ONLY_WHEN_NAMED)."""
    tables = data_tables()
    wanted = list(dict.fromkeys(names))
    if not wanted:
        return [table for table in tables if table.name not in DUMPED_ONLY_WHEN_NAMED]
    known = {table.name for table in tables}
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise FixtureError(
            f"unknown table {', '.join(repr(n) for n in unknown)}; "
            f"choose from: {', '.join(sorted(known))}"
        )
    return [table for table in tables if table.name in wanted]


def format_for(path: str | None, requested: str | None) -> str:
    """The explicit --format, else json for a `.json` file, else JSON Lines."""
    if requested:
        return requested
    return "json" if path and path.lower().endswith(".json") else "jsonl"


# -- values -------------------------------------------------------------------------------


def encode_value(value: Any) -> Any:
    """A column value as JSON: UUIDs as text, timestamps in UTC ISO 8601 with the offset."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def sorted_json(value: Any) -> Any:
    """JSON with object keys sorted at every level: JSONB reorders keys, SQLite keeps them."""
    if isinstance(value, dict):
        return {key: sorted_json(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [sorted_json(item) for item in value]
    return value


def _type_of(column: sa.Column) -> sa.types.TypeEngine:
    column_type = column.type
    if isinstance(column_type, sa.TypeDecorator):
        return column_type.impl_instance
    return column_type


def decode_value(column: sa.Column, value: Any) -> Any:
    """A JSON value as the Python value `column` takes; FixtureError explains a bad one."""
    return column_decoder(column)(value)


def column_decoder(column: sa.Column) -> Callable[[Any], Any]:
    """The function that turns a JSON value into `column`'s value (chosen once per column:
    a million-row load calls it for every value)."""
    column_type = _type_of(column)
    if isinstance(column_type, sa.JSON):

        def json_value(value: Any) -> Any:
            # null means SQL NULL, as dumpdata writes it; the JSON type would store JSON 'null'.
            if value is None:
                return sa.null()
            if _has_nul(value):  # PostgreSQL's jsonb refuses \u0000 too
                raise _nul(column)
            return value

        return json_value

    def checked(accept: Callable[[Any], Any], expected: str) -> Callable[[Any], Any]:
        def decode(value: Any) -> Any:
            if value is None:
                return None
            try:
                return accept(value)
            except FixtureError:
                raise
            except (ValueError, TypeError):
                raise _bad(column, value, expected) from None

        return decode

    if isinstance(column_type, sa.Boolean):
        return checked(partial(_exactly, bool), "true or false")
    if isinstance(column_type, sa.Integer):
        return checked(partial(_exactly, int), "an integer")
    if isinstance(column_type, sa.DateTime):
        return checked(_aware_datetime, "an ISO 8601 timestamp with an offset")
    if isinstance(column_type, sa.Uuid):
        return checked(lambda value: uuid.UUID(_exactly(str, value)), "a UUID")
    if isinstance(column_type, sa.String):
        length = column_type.length

        def text(value: Any) -> str:
            value = _exactly(str, value)
            # SQLite would store an over-long string silently; PostgreSQL would refuse it.
            if length is not None and len(value) > length:
                raise FixtureError(
                    f"value for {column.name!r} is longer than {length} characters ({len(value)})"
                )
            if "\x00" in value:  # PostgreSQL text cannot hold it; SQLite would keep it
                raise _nul(column)
            return value

        return checked(text, "a string")
    return lambda value: value


def _exactly(kind: type, value: Any) -> Any:
    # type() rather than isinstance(): True is an int to Python, not to a fixture.
    if type(value) is not kind:
        raise TypeError
    return value


def _aware_datetime(value: Any) -> datetime:
    parsed = datetime.fromisoformat(_exactly(str, value))
    if parsed.tzinfo is None:
        raise ValueError
    return parsed


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def _nul(column: sa.Column) -> FixtureError:
    return FixtureError(f"value for {column.name!r} contains a NUL character (\\u0000)")


def _bad(column: sa.Column, value: Any, expected: str) -> FixtureError:
    shown = json.dumps(value)
    if len(shown) > 40:
        shown = shown[:37] + "..."
    return FixtureError(f"bad value for {column.name!r}: {shown} is not {expected}")


# -- dump ---------------------------------------------------------------------------------


@dataclass
class DumpResult:
    """Rows written per table."""

    counts: dict[str, int] = field(default_factory=dict)


def count_rows(tables: Iterable[sa.Table]) -> int:
    """Rows in `tables` (for the progress bar's length)."""
    with db.engine.connect() as connection:
        return sum(
            connection.scalar(sa.select(sa.func.count()).select_from(table)) for table in tables
        )


def dump(
    out: IO[str],
    tables: list[sa.Table],
    fmt: str = "jsonl",
    indent: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> DumpResult:
    """Write every row of `tables` to `out` as fixture records."""
    if fmt not in FORMATS:
        raise FixtureError(f"unknown format {fmt!r}; choose jsonl or json")
    if indent is not None and fmt != "json":
        raise FixtureError("--indent applies to --format json; JSON Lines keep one record a line")
    result = DumpResult()
    records = _records(tables, result, progress)
    if fmt == "jsonl":
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False))
            out.write("\n")
        return result
    # A JSON array written record by record: never built in memory.
    pad = " " * (indent or 0)
    separator = "[\n"
    for record in records:
        text = json.dumps(record, ensure_ascii=False, indent=indent)
        out.write(separator + pad + text.replace("\n", "\n" + pad))
        separator = ",\n"
    out.write("[]\n" if separator == "[\n" else "\n]\n")
    return result


def _records(
    tables: list[sa.Table], result: DumpResult, progress: Callable[[int], None] | None
) -> Iterator[dict[str, Any]]:
    with db.engine.connect() as connection:
        # One snapshot for every table, so that children always find their parents.
        if connection.dialect.name == "postgresql":
            connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            require_schema(connection)
            for table in tables:
                columns = list(table.columns)
                json_columns = {c.name for c in columns if isinstance(_type_of(c), sa.JSON)}
                query = sa.select(table).order_by(*table.primary_key.columns)
                # A server-side cursor on PostgreSQL: rows arrive in batches, not all at once.
                rows = connection.execute(
                    query.execution_options(stream_results=True, yield_per=DUMP_BATCH_ROWS)
                )
                count = 0
                for row in _readable(rows, table):
                    values = {}
                    for column, value in zip(columns, row, strict=True):
                        name = column.name
                        if name in json_columns:
                            values[name] = sorted_json(value)
                        else:
                            values[name] = encode_value(value)
                    yield {"table": table.name, "row": values}
                    count += 1
                    if progress and count % DUMP_BATCH_ROWS == 0:
                        progress(DUMP_BATCH_ROWS)
                if progress:
                    progress(count % DUMP_BATCH_ROWS)
                result.counts[table.name] = count


def _readable(rows: Iterable[sa.Row], table: sa.Table) -> Iterator[sa.Row]:
    """`rows`, or one FixtureError for a stored value its column type cannot read back (SQLite
    keeps any text in a timestamp column, say), instead of a ValueError deep in SQLAlchemy."""
    iterator = iter(rows)
    while True:
        try:
            row = next(iterator)
        except StopIteration:
            return
        except (ValueError, TypeError) as exc:
            raise FixtureError(
                f"table {table.name} holds a value that cannot be read: {exc}"
            ) from None
        yield row


def dump_to_path(path: str, **kwargs: Any) -> DumpResult:
    """`dump` into a file that appears only when complete, readable by its owner only."""
    target = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or ".")
    try:
        os.fchmod(handle, 0o600)  # a named admin_accounts holds password hashes
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            result = dump(out, **kwargs)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return result


# -- load ---------------------------------------------------------------------------------


@dataclass
class LoadResult:
    """Rows loaded per table, and how many replaced an existing row."""

    counts: dict[str, int] = field(default_factory=dict)
    overwritten: int = 0

    @property
    def total(self) -> int:
        return sum(self.counts.values())


class RecordError(FixtureError):
    """A bad record: names the file, the record's number and, when known, its table."""

    def __init__(self, source: str, number: int, table: str | None, problem: str):
        where = f"{source}, record {number}" + (f" ({table})" if table else "")
        super().__init__(f"{where}: {problem}")


@dataclass
class _Pending:
    """Consecutive records for one table with the same columns: one batch (COPY or executemany)."""

    table: sa.Table
    keys: tuple[str, ...]
    numbers: list[int] = field(default_factory=list)
    params: list[dict[str, Any]] = field(default_factory=list)
    seen: set[tuple] = field(default_factory=set)


class _Loader:
    def __init__(
        self,
        connection: sa.Connection,
        confirm_overwrite: Callable[[str], None],
        progress: Callable[[int], None] | None,
    ):
        self.connection = connection
        self.tables = {table.name: table for table in data_tables()}
        self.confirm_overwrite = confirm_overwrite
        self.progress = progress
        self.confirmed = False
        self.result = LoadResult()
        self.source = ""
        self.pending: _Pending | None = None
        self.decoders: dict[str, dict[str, Callable[[Any], Any]]] = {}

    def load_file(self, path: str) -> None:
        self.source = path
        for number, record in read_records(path, self.progress):
            table, params = self.check(number, record)
            keys = tuple(params)
            key = tuple(params[c.name] for c in table.primary_key.columns)
            pending = self.pending
            # A key seen again in the same batch ends the batch: one statement must not
            # write a row twice, and the repeat then overwrites like any existing row.
            if (
                pending is None
                or pending.table is not table
                or pending.keys != keys
                or key in pending.seen
            ):
                self.flush()
                pending = self.pending = _Pending(table, keys)
            pending.numbers.append(number)
            pending.params.append(params)
            pending.seen.add(key)
            if len(pending.params) >= LOAD_BATCH_ROWS:
                self.flush()
        self.flush()

    def check(self, number: int, record: Any) -> tuple[sa.Table, dict[str, Any]]:
        """The record's table and its row as column values, or a RecordError."""
        if not (
            isinstance(record, dict)
            and isinstance(record.get("table"), str)
            and isinstance(record.get("row"), dict)
            and len(record) == 2
        ):
            raise RecordError(
                self.source, number, None, 'a record is {"table": NAME, "row": {COLUMN: VALUE}}'
            )
        name, row = record["table"], record["row"]
        table = self.tables.get(name)
        if table is None:
            raise RecordError(self.source, number, None, f"unknown table {name!r}")
        decoders = self.decoders.get(name)
        if decoders is None:
            decoders = self.decoders[name] = {c.name: column_decoder(c) for c in table.columns}
        params = {}
        for column_name, value in row.items():
            decode = decoders.get(column_name)
            if decode is None:
                raise RecordError(self.source, number, name, f"unknown column {column_name!r}")
            try:
                params[column_name] = decode(value)
            except FixtureError as exc:
                raise RecordError(self.source, number, name, str(exc)) from None
        missing = [c.name for c in table.primary_key.columns if c.name not in params]
        if missing:
            raise RecordError(
                self.source, number, name, f"missing primary key {', '.join(missing)}"
            )
        return table, params

    def flush(self) -> None:
        pending, self.pending = self.pending, None
        if pending is None or not pending.params:
            return
        table = pending.table
        existing = self.existing_keys(table, pending.params)
        if existing:
            self.ask_before_overwriting(pending, existing)
        statement = self.statement(table, pending.keys, upsert=bool(existing))
        savepoint = self.connection.begin_nested()
        try:
            if existing:
                self.connection.execute(statement, pending.params)
            else:
                # New rows: COPY on PostgreSQL, executemany on SQLite (bulk_insert decides).
                rows = [tuple(params.values()) for params in pending.params]
                insert_rows(self.connection, table, pending.keys, rows)
            savepoint.commit()
        except (sa.exc.DBAPIError, self.connection.dialect.loaded_dbapi.Error):
            # A raw driver error comes from COPY; the row-by-row replay names the record.
            savepoint.rollback()
            self.find_bad_record(pending, statement)  # raises a RecordError naming the row
        self.result.counts[table.name] = self.result.counts.get(table.name, 0) + len(
            pending.params
        )
        self.result.overwritten += len(existing)

    def existing_keys(self, table: sa.Table, params: list[dict[str, Any]]) -> set[tuple]:
        pk = list(table.primary_key.columns)
        keys = [tuple(p[c.name] for c in pk) for p in params]
        if len(pk) == 1:
            condition = pk[0].in_([key[0] for key in keys])
        else:
            condition = sa.tuple_(*pk).in_(keys)
        found = self.connection.execute(sa.select(*pk).where(condition))
        return {tuple(row) for row in found}

    def ask_before_overwriting(self, pending: _Pending, existing: set[tuple]) -> None:
        if self.confirmed:
            return
        pk = [c.name for c in pending.table.primary_key.columns]
        first = next(
            number
            for number, params in zip(pending.numbers, pending.params, strict=True)
            if tuple(params[name] for name in pk) in existing
        )
        self.confirm_overwrite(
            f"{self.source}, record {first} ({pending.table.name}) has the primary key of an "
            "existing row; existing rows will be overwritten. Continue?"
        )
        self.confirmed = True

    def statement(self, table: sa.Table, keys: tuple[str, ...], upsert: bool):
        if not upsert:
            return table.insert()
        dialect = postgresql if self.connection.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(table)
        pk = [c.name for c in table.primary_key.columns]
        changes = {key: statement.excluded[key] for key in keys if key not in pk}
        if not changes:
            return statement.on_conflict_do_nothing(index_elements=pk)
        return statement.on_conflict_do_update(index_elements=pk, set_=changes)

    def find_bad_record(self, pending: _Pending, statement) -> None:
        """Replay the failed batch row by row; the first row that fails is the culprit."""
        for number, params in zip(pending.numbers, pending.params, strict=True):
            savepoint = self.connection.begin_nested()
            try:
                self.connection.execute(statement, params)
            except sa.exc.DBAPIError as exc:
                savepoint.rollback()
                raise RecordError(
                    self.source, number, pending.table.name, database_problem(exc)
                ) from None
            savepoint.commit()
        raise RecordError(
            self.source, pending.numbers[0], pending.table.name, "the batch failed as a whole"
        )


def database_problem(exc: sa.exc.DBAPIError) -> str:
    """The database's own reason, one line, prefixed with what kind of problem it is."""
    text = first_line(exc)
    if isinstance(exc, sa.exc.IntegrityError):
        return f"constraint violation: {text}"
    if isinstance(exc, sa.exc.DataError):
        return f"bad value: {text}"
    return text


def load(
    paths: list[str],
    confirm_overwrite: Callable[[str], None],
    progress: Callable[[int], None] | None = None,
) -> LoadResult:
    """Load fixture files in one transaction: all their records, or nothing at all."""
    for path in paths:
        if not os.path.isfile(path):
            raise FixtureError(f"{path}: no such fixture file")
    with db.engine.connect() as connection:
        # Take SQLite's write lock up front, as the whole load is one write transaction.
        connection.info["sqlite_begin"] = "IMMEDIATE"
        with connection.begin():
            require_schema(connection)
            loader = _Loader(connection, confirm_overwrite, progress)
            for path in paths:
                loader.load_file(path)
            advance_sequences(connection, [loader.tables[name] for name in loader.result.counts])
        return loader.result


# -- reading ------------------------------------------------------------------------------


def read_records(
    path: str, progress: Callable[[int], None] | None = None
) -> Iterator[tuple[int, Any]]:
    """(record number, parsed record) from a JSON Lines or JSON file, one at a time.

    The format is told by the first character: `[` starts a JSON array; anything else is
    JSON Lines, where the record number is the line number.
    """
    try:
        # utf-8-sig: a byte-order mark some editors add is skipped, not taken for a record.
        with open(path, encoding="utf-8-sig") as handle:
            first = _first_character(handle)
            if first == "[":
                yield from _json_array_records(path, handle, progress)
            else:
                yield from _json_lines_records(path, handle, progress)
    except UnicodeDecodeError as exc:
        raise FixtureError(f"{path}: not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise FixtureError(f"{path}: {exc.strerror}") from None


def _first_character(handle: IO[str]) -> str:
    while True:
        char = handle.read(1)
        if not char or not char.isspace():
            handle.seek(0)
            return char


def _json_lines_records(path, handle, progress) -> Iterator[tuple[int, Any]]:
    for number, line in enumerate(handle, start=1):
        if progress:
            progress(len(line))
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            raise RecordError(path, number, None, f"malformed JSON ({exc.msg})") from None


def _json_array_records(path, handle, progress) -> Iterator[tuple[int, Any]]:
    """The elements of a top-level JSON array, decoded one by one from a sliding buffer."""
    decoder = json.JSONDecoder()
    reader = _Buffer(handle, progress)
    reader.skip_space()
    reader.expect("[")
    number = 0
    while True:
        reader.skip_space()
        if reader.peek() == "]":
            reader.advance(1)
            reader.skip_space()
            if reader.peek():
                raise RecordError(path, number, None, "text after the closing ]")
            return
        if number:
            if reader.peek() != ",":
                raise RecordError(path, number + 1, None, "malformed JSON (expected , or ])")
            reader.advance(1)
            reader.skip_space()
        number += 1
        while True:
            try:
                record, end = decoder.raw_decode(reader.text, reader.position)
                break
            except json.JSONDecodeError as exc:
                if not reader.more():
                    raise RecordError(path, number, None, f"malformed JSON ({exc.msg})") from None
        reader.position = end
        yield number, record


class _Buffer:
    """A window on a text file: what is not yet parsed, refilled in large chunks."""

    def __init__(self, handle: IO[str], progress: Callable[[int], None] | None):
        self.handle = handle
        self.progress = progress
        self.text = ""
        self.position = 0
        self.more()

    def more(self) -> bool:
        """Read another chunk, dropping what was parsed; False at the end of the file."""
        chunk = self.handle.read(READ_CHUNK_CHARS)
        if not chunk:
            return False
        if self.progress:
            self.progress(len(chunk))
        self.text = self.text[self.position :] + chunk
        self.position = 0
        return True

    def peek(self) -> str:
        if self.position >= len(self.text) and not self.more():
            return ""
        return self.text[self.position]

    def advance(self, count: int) -> None:
        self.position += count

    def skip_space(self) -> None:
        while (char := self.peek()) and char.isspace():
            self.position += 1

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise FixtureError(f"expected {char!r} at the start of the JSON fixture")
        self.position += 1
