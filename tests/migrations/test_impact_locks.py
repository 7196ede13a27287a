"""`flask db impact` names the lock PostgreSQL really takes, and the work it really does.

Each kind of statement runs in a transaction (for CONCURRENTLY: runs, and waits while holding
its lock behind a session that has read the table) while a second connection reads `pg_locks`.
The strongest lock the analyser predicts on each table must be the strongest one PostgreSQL
holds there. Its work must be the one the case names, and PostgreSQL must show that work too:
a new relfilenode with rows in it for a rewrite, a new index for an index build, rows changed
for data, a sequential scan counted in the transaction's statistics for a scan, none of these
for a catalog change.

All cases share one scratch database; each starts from the same small tables.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import psycopg2
import pytest
import sqlalchemy as sa

from pixcrawler.migrator.impact.catalog import read_schema
from pixcrawler.migrator.impact.statements import classify, split
from tests.migrations.conftest import wait_until

pytestmark = pytest.mark.only_backend("postgresql")

TABLES = """
DROP SCHEMA public CASCADE;
CREATE SCHEMA public;
CREATE TABLE authors (id int PRIMARY KEY, name varchar(50));
CREATE TABLE books (
    id int PRIMARY KEY,
    author_id int,
    title varchar(50) NOT NULL,
    pages int,
    notes text,
    isbn varchar(50)
);
CREATE TABLE shelves (id int PRIMARY KEY, label text);
CREATE TABLE tags (id int, word text);
INSERT INTO authors SELECT g, 'author ' || g FROM generate_series(1, 50) AS g;
INSERT INTO books SELECT g, 1 + mod(g, 50), 'title ' || g, g, 'n', 'isbn-' || g
    FROM generate_series(1, 2000) AS g;
INSERT INTO shelves SELECT g, 'shelf' FROM generate_series(1, 20) AS g;
INSERT INTO tags SELECT g, 'w' FROM generate_series(1, 100) AS g;
CREATE INDEX ix_books_pages ON books (pages);
ALTER TABLE books ADD CONSTRAINT ck_books_pages CHECK (pages >= 0);
ALTER TABLE books ADD CONSTRAINT ck_books_isbn_present CHECK (isbn IS NOT NULL);
ALTER TABLE books ADD CONSTRAINT fk_books_author FOREIGN KEY (author_id) REFERENCES authors (id);
ALTER TABLE books ADD CONSTRAINT ck_books_title CHECK (title <> '') NOT VALID;
ALTER TABLE books ADD CONSTRAINT fk_books_first_author FOREIGN KEY (author_id)
    REFERENCES authors (id) NOT VALID;
ANALYZE;
"""

# PostgreSQL's names in pg_locks, weakest first, and the words of LOCK TABLE for each.
PG_MODES = {
    "AccessShareLock": "ACCESS SHARE",
    "RowShareLock": "ROW SHARE",
    "RowExclusiveLock": "ROW EXCLUSIVE",
    "ShareUpdateExclusiveLock": "SHARE UPDATE EXCLUSIVE",
    "ShareLock": "SHARE",
    "ShareRowExclusiveLock": "SHARE ROW EXCLUSIVE",
    "ExclusiveLock": "EXCLUSIVE",
    "AccessExclusiveLock": "ACCESS EXCLUSIVE",
}
STRENGTH = list(PG_MODES.values())

HELD = """
SELECT c.relname, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
WHERE l.pid = %s AND l.granted AND c.relkind IN ('r', 'p')
  AND c.relnamespace = 'public'::regnamespace
"""
TABLE_FACTS = """
SELECT c.relname, c.relfilenode, pg_relation_size(c.oid), pg_stat_get_xact_numscans(c.oid),
       pg_stat_get_xact_tuples_inserted(c.oid) + pg_stat_get_xact_tuples_updated(c.oid)
       + pg_stat_get_xact_tuples_deleted(c.oid)
FROM pg_class c WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace
"""
# Indexes with more than their first page: a TRUNCATE leaves new, empty ones.
INDEX_FACTS = """
SELECT i.relfilenode, t.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid WHERE t.relnamespace = 'public'::regnamespace
  AND pg_relation_size(i.oid) > current_setting('block_size')::int
"""


@dataclass(frozen=True)
class Case:
    sql: str
    work: str
    concurrently: bool = False


CASES = {
    "add column nullable": Case("ALTER TABLE books ADD COLUMN subtitle varchar(100)", "catalog"),
    "add column constant default": Case(
        "ALTER TABLE books ADD COLUMN edition int NOT NULL DEFAULT 1", "catalog"
    ),
    "add column now() default": Case(
        "ALTER TABLE books ADD COLUMN added_at timestamptz DEFAULT now()", "catalog"
    ),
    "add column volatile default": Case(
        "ALTER TABLE books ADD COLUMN shuffle float8 DEFAULT random()", "rewrite"
    ),
    "add column gen_random_uuid() default": Case(
        "ALTER TABLE books ADD COLUMN uid uuid DEFAULT gen_random_uuid()", "rewrite"
    ),
    "add column clock_timestamp() default": Case(
        "ALTER TABLE books ADD COLUMN seen timestamptz DEFAULT clock_timestamp()", "rewrite"
    ),
    "add column serial": Case("ALTER TABLE books ADD COLUMN seq serial", "rewrite"),
    "add column identity": Case(
        "ALTER TABLE books ADD COLUMN num bigint GENERATED ALWAYS AS IDENTITY", "rewrite"
    ),
    "drop column": Case("ALTER TABLE books DROP COLUMN notes", "catalog"),
    "alter type varchar(50) to varchar(100)": Case(
        "ALTER TABLE books ALTER COLUMN title TYPE varchar(100)", "catalog"
    ),
    "alter type varchar to text": Case(
        "ALTER TABLE books ALTER COLUMN title TYPE text", "catalog"
    ),
    "alter type int to bigint": Case(
        "ALTER TABLE books ALTER COLUMN pages TYPE bigint", "rewrite"
    ),
    "alter type varchar shrinks": Case(
        "ALTER TABLE books ALTER COLUMN title TYPE varchar(20)", "rewrite"
    ),
    "alter type using an expression": Case(
        "ALTER TABLE books ALTER COLUMN isbn TYPE int USING length(isbn)", "rewrite"
    ),
    "set not null": Case("ALTER TABLE books ALTER COLUMN pages SET NOT NULL", "scan"),
    "set not null behind a valid IS NOT NULL check": Case(
        "ALTER TABLE books ALTER COLUMN isbn SET NOT NULL", "catalog"
    ),
    "drop not null": Case("ALTER TABLE books ALTER COLUMN title DROP NOT NULL", "catalog"),
    "set default": Case("ALTER TABLE books ALTER COLUMN pages SET DEFAULT 100", "catalog"),
    "drop default": Case("ALTER TABLE books ALTER COLUMN pages DROP DEFAULT", "catalog"),
    "add check": Case("ALTER TABLE books ADD CONSTRAINT ck_books_id CHECK (id > 0)", "scan"),
    "add check not valid": Case(
        "ALTER TABLE books ADD CONSTRAINT ck_books_id CHECK (id > 0) NOT VALID", "catalog"
    ),
    "validate check": Case("ALTER TABLE books VALIDATE CONSTRAINT ck_books_title", "scan"),
    "validate a check that is valid already": Case(
        "ALTER TABLE books VALIDATE CONSTRAINT ck_books_pages", "catalog"
    ),
    "add foreign key": Case(
        "ALTER TABLE books ADD CONSTRAINT fk_books_writer FOREIGN KEY (author_id) "
        "REFERENCES authors (id)",
        "scan",
    ),
    "add foreign key not valid": Case(
        "ALTER TABLE books ADD CONSTRAINT fk_books_shelf FOREIGN KEY (pages) "
        "REFERENCES shelves (id) NOT VALID",
        "catalog",
    ),
    "validate foreign key": Case(
        "ALTER TABLE books VALIDATE CONSTRAINT fk_books_first_author", "scan"
    ),
    "drop check constraint": Case("ALTER TABLE books DROP CONSTRAINT ck_books_pages", "catalog"),
    "drop foreign key": Case("ALTER TABLE books DROP CONSTRAINT fk_books_author", "catalog"),
    "add unique": Case(
        "ALTER TABLE books ADD CONSTRAINT uq_books_isbn UNIQUE (isbn)", "index build"
    ),
    "add primary key": Case("ALTER TABLE tags ADD PRIMARY KEY (id)", "index build"),
    "two subcommands, two tables": Case(
        "ALTER TABLE books ADD COLUMN shelf_id int, "
        "ADD CONSTRAINT fk_books_shelf FOREIGN KEY (shelf_id) REFERENCES shelves (id)",
        "scan",
    ),
    "create index": Case("CREATE INDEX ix_books_title ON books (title)", "index build"),
    "create index concurrently": Case(
        "CREATE INDEX CONCURRENTLY ix_books_title ON books (title)", "index build", True
    ),
    "drop index": Case("DROP INDEX ix_books_pages", "catalog"),
    "drop index concurrently": Case("DROP INDEX CONCURRENTLY ix_books_pages", "catalog", True),
    "rename column": Case("ALTER TABLE books RENAME COLUMN notes TO remarks", "catalog"),
    "rename table": Case("ALTER TABLE books RENAME TO volumes", "catalog"),
    "rename constraint": Case(
        "ALTER TABLE books RENAME CONSTRAINT ck_books_pages TO ck_books_pages_positive", "catalog"
    ),
    "rename index": Case("ALTER INDEX ix_books_pages RENAME TO ix_books_page_count", "catalog"),
    "create table": Case(
        "CREATE TABLE reviews (id int PRIMARY KEY, book_id int NOT NULL "
        "REFERENCES books (id), body text)",
        "catalog",
    ),
    "drop table": Case("DROP TABLE books", "catalog"),
    "update backfill": Case("UPDATE books SET pages = pages + 1", "data"),
    "delete": Case("DELETE FROM books WHERE pages < 100", "data"),
    "insert select": Case("INSERT INTO shelves SELECT id + 100, name FROM authors", "data"),
    "truncate": Case("TRUNCATE tags", "catalog"),
    "lock table": Case("LOCK TABLE shelves IN SHARE ROW EXCLUSIVE MODE", "catalog"),
    "comment on table": Case("COMMENT ON TABLE books IS 'what we have'", "catalog"),
    "comment on column": Case("COMMENT ON COLUMN books.isbn IS 'ISBN-13'", "catalog"),
    "set statistics": Case("ALTER TABLE books ALTER COLUMN pages SET STATISTICS 500", "catalog"),
    "set a storage parameter": Case("ALTER TABLE books SET (fillfactor = 80)", "catalog"),
    "create extension": Case("CREATE EXTENSION IF NOT EXISTS pg_trgm", "catalog"),
    "create sequence": Case("CREATE SEQUENCE book_numbers", "catalog"),
    "create enum type": Case("CREATE TYPE book_state AS ENUM ('draft', 'out')", "catalog"),
    "create schema": Case("CREATE SCHEMA archive", "catalog"),
    "a setting": Case("SET lock_timeout = '2s'", "catalog"),
    "comment on constraint": Case(
        "COMMENT ON CONSTRAINT ck_books_pages ON books IS 'pages are counted'", "catalog"
    ),
    "comment on index": Case("COMMENT ON INDEX ix_books_pages IS 'by length'", "catalog"),
    "add column with a check": Case(
        "ALTER TABLE books ADD COLUMN rating int CHECK (rating BETWEEN 1 AND 5)", "scan"
    ),
    "add column with a foreign key": Case(
        "ALTER TABLE books ADD COLUMN shelf_id int REFERENCES shelves (id)", "catalog"
    ),
    "add column with a default and a foreign key": Case(
        "ALTER TABLE books ADD COLUMN shelf_id int DEFAULT 1 REFERENCES shelves (id)", "scan"
    ),
    "add column unique": Case("ALTER TABLE books ADD COLUMN barcode text UNIQUE", "index build"),
    "drop table cascade": Case("DROP TABLE authors CASCADE", "catalog"),
    "truncate cascade": Case("TRUNCATE authors CASCADE", "catalog"),
}


@pytest.fixture(scope="module")
def scratch_url(postgres):
    url = postgres.create()
    yield url
    postgres.drop(url)


@pytest.fixture(scope="module")
def engine(scratch_url):
    engine = sa.create_engine(scratch_url)
    yield engine
    engine.dispose()


def dbapi(engine: sa.Engine, autocommit: bool = False):
    """A plain psycopg2 connection: its own session, as a second client would have."""
    url = engine.url
    connection = psycopg2.connect(
        host=url.host, port=url.port, user=url.username, password=url.password, dbname=url.database
    )
    connection.autocommit = autocommit
    return connection


def predicted(engine: sa.Engine, sql: str) -> tuple[dict[str, str], str]:
    """The analyser's lock on each table that exists now, and its work."""
    with engine.connect() as connection:
        schema = read_schema(connection)
    (statement,) = split(sql)
    classify(statement, schema)
    locks = {
        name: lock.sql_name
        for name, lock in statement.locks.items()
        if lock is not None and schema.table(name) is not None
    }
    return locks, statement.work


def strongest_held(cursor, pid: int) -> dict[str, str]:
    cursor.execute(HELD, (pid,))
    held: dict[str, str] = {}
    for table, mode in cursor.fetchall():
        words = PG_MODES[mode]
        if table not in held or STRENGTH.index(words) > STRENGTH.index(held[table]):
            held[table] = words
    return held


def facts(cursor) -> tuple[dict, dict]:
    cursor.execute(TABLE_FACTS)
    tables = {row[0]: row[1:] for row in cursor.fetchall()}
    cursor.execute(INDEX_FACTS)
    return tables, dict(cursor.fetchall())


def work_done(before, after) -> str:
    """What PostgreSQL did to the tables that were there before, from its own records."""
    (tables_before, indexes_before), (tables_after, indexes_after) = before, after
    rewritten = changed = scanned = False
    for name, (filenode, _size, scans, tuples) in tables_before.items():
        if name not in tables_after:
            continue
        new_filenode, new_size, new_scans, new_tuples = tables_after[name]
        rewritten |= new_filenode != filenode and new_size > 0
        changed |= new_tuples > tuples
        # A table given a new file (TRUNCATE) counts the scans its empty indexes are built by.
        scanned |= new_scans > scans and new_filenode == filenode
    # An index file that was not there, on a table that was (a new table's own do not count).
    built = any(
        filenode not in indexes_before and table in tables_before
        for filenode, table in indexes_after.items()
    )
    if rewritten:
        return "rewrite"
    if built:
        return "index build"
    if changed:
        return "data"
    if scanned:
        return "scan"
    return "catalog"


def in_a_transaction(engine: sa.Engine, sql: str):
    """Run `sql` in an open transaction; return the locks it holds and the work it did."""
    runner, watcher = dbapi(engine), dbapi(engine, autocommit=True)
    try:
        cursor = runner.cursor()
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
        before = facts(cursor)
        cursor.execute(sql)
        held = strongest_held(watcher.cursor(), pid)
        after = facts(cursor)
        runner.rollback()
        return held, work_done(before, after)
    finally:
        runner.close()
        watcher.close()


def waiting_concurrently(engine: sa.Engine, sql: str):
    """Run `sql` (CONCURRENTLY) while a REPEATABLE READ transaction that has read books stays
    open, so that it waits holding its lock; read the locks then, and the work once done."""
    holder, runner = dbapi(engine), dbapi(engine, autocommit=True)
    watcher = dbapi(engine, autocommit=True)
    try:
        holder.set_session(isolation_level="REPEATABLE READ")
        holder.cursor().execute("SELECT count(*) FROM books")
        cursor = runner.cursor()
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
        before = facts(watcher.cursor())
        thread = threading.Thread(target=cursor.execute, args=(sql,))
        thread.start()
        look = watcher.cursor()

        def waiting() -> bool:
            look.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,))
            return look.fetchone()[0] == "Lock"

        wait_until(waiting, timeout=10)
        held = strongest_held(look, pid)
        holder.rollback()
        thread.join(timeout=10)
        return held, work_done(before, facts(look))
    finally:
        for connection in (holder, runner, watcher):
            connection.close()


@pytest.mark.parametrize("kind", list(CASES))
def test_the_predicted_lock_is_the_lock_postgresql_holds(kind, engine):
    case = CASES[kind]
    with engine.begin() as connection:
        connection.exec_driver_sql(TABLES)
    locks, work = predicted(engine, case.sql)
    run = waiting_concurrently if case.concurrently else in_a_transaction
    held, done = run(engine, case.sql)
    assert locks == held, f"{kind}: predicted {locks}, PostgreSQL holds {held}"
    assert work == case.work, f"{kind}: predicted {work}"
    assert done == case.work, f"{kind}: PostgreSQL did {done}"
