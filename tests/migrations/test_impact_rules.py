"""The analyser's rules that need no server: which column changes rewrite, which defaults are
volatile, how a script splits into statements and transactions, what a statement with several
subcommands locks, what stays unknown; and how the report turns estimates into verdicts and
`--fail-on` refusals (a lock lasts until its transaction commits)."""

from __future__ import annotations

import pytest

from pixcrawler.migrator.impact.column_rules import (
    ColumnType,
    default_rewrites,
    type_change_rewrites,
)
from pixcrawler.migrator.impact.locks import Lock
from pixcrawler.migrator.impact.report import (
    SAFE,
    Report,
    RevisionImpact,
    StatementImpact,
    TableImpact,
)
from pixcrawler.migrator.impact.schema import Schema
from pixcrawler.migrator.impact.statements import classify, split
from pixcrawler.migrator.impact.syntax import parse_one


@pytest.mark.parametrize(
    ("old", "new", "using", "utc", "rewrites"),
    [
        ("character varying(50)", "VARCHAR(100)", None, None, False),
        ("character varying(50)", "TEXT", None, None, False),
        ("character varying(50)", "VARCHAR", None, None, False),
        ("character varying(50)", "VARCHAR(20)", None, None, True),
        ("text", "VARCHAR", None, None, False),
        ("text", "VARCHAR(10)", None, None, True),
        ("numeric(10,2)", "NUMERIC(12,2)", None, None, False),
        ("numeric(10,2)", "NUMERIC(12,3)", None, None, True),
        ("numeric(10,2)", "NUMERIC", None, None, False),
        ("timestamp(3) without time zone", "TIMESTAMP(6)", None, None, False),
        ("timestamp without time zone", "TIMESTAMP WITH TIME ZONE", None, True, False),
        ("timestamp without time zone", "TIMESTAMP WITH TIME ZONE", None, False, True),
        ("timestamp without time zone", "TIMESTAMP WITH TIME ZONE", None, None, None),
        ("integer", "BIGINT", None, None, True),
        ("character(5)", "TEXT", None, None, True),
        ("character varying(50)", "VARCHAR(100)", "v", None, False),
        ("character varying(50)", "VARCHAR(100)", "v::varchar(100)", None, False),
        ("character varying(50)", "INTEGER", "length(v)", None, True),
        (None, "BIGINT", None, None, None),  # the old type is not known
    ],
)
def test_which_type_changes_rewrite(old, new, using, utc, rewrites):
    node = parse_one(
        f"ALTER TABLE t ALTER COLUMN v TYPE {new}" + (f" USING {using}" if using else "")
    ).cmds[0]
    old_type = ColumnType.parse(old) if old else None
    new_type = ColumnType.of(node.def_.typeName)
    assert type_change_rewrites(old_type, new_type, node.def_.raw_default, "v", utc) is rewrites


@pytest.mark.parametrize(
    ("default", "rewrites"),
    [
        ("'free'", False),
        ("0", False),
        ("now()", False),
        ("CURRENT_TIMESTAMP", False),
        ("'[]'::jsonb", False),
        ("random()", True),
        ("clock_timestamp()", True),
        ("gen_random_uuid()", True),
        ("nextval('s'::regclass)", True),
        ("my_own_function()", None),  # no server to ask what it is: not guessed
    ],
)
def test_which_defaults_rewrite_without_a_server(default, rewrites):
    node = parse_one(f"ALTER TABLE t ADD COLUMN c int DEFAULT {default}")
    expression = node.cmds[0].def_.constraints[0].raw_expr
    assert default_rewrites(expression, None) is rewrites


SCRIPT = """BEGIN;

CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL);

-- Running upgrade  -> 006

/* a note */ ALTER TABLE images ADD COLUMN caption TEXT;

DO $$ BEGIN PERFORM 1; END $$;

SAVEPOINT halfway;

INSERT INTO alembic_version (version_num) VALUES ('006');

COMMIT;

CREATE INDEX CONCURRENTLY ix_images_caption ON images (caption);

DROP INDEX CONCURRENTLY ix_images_old;
"""


def test_a_script_splits_into_statements_and_transactions():
    statements = split(SCRIPT)
    assert [s.sql for s in statements] == [
        "ALTER TABLE images ADD COLUMN caption TEXT",
        "DO $$ BEGIN PERFORM 1; END $$",
        "CREATE INDEX CONCURRENTLY ix_images_caption ON images (caption)",
        "DROP INDEX CONCURRENTLY ix_images_old",
    ]
    first, second, third, fourth = (s.transaction for s in statements)
    assert first == second and len({first, third, fourth}) == 3


def schema_of(sql: str) -> Schema:
    """The schema a script leaves, sizes unknown (as replayed for SQLite)."""
    schema = Schema()
    for statement in split(sql):
        schema.apply(statement.node)
    schema.forget_sizes()
    return schema


TABLES = """
CREATE TABLE authors (id int PRIMARY KEY);
CREATE TABLE books (id int PRIMARY KEY, author_id int, title varchar(50),
    CONSTRAINT fk_books_author FOREIGN KEY (author_id) REFERENCES authors (id));
CREATE INDEX ix_books_title ON books (title);
"""


def analysed(sql: str):
    (statement,) = split(sql)
    return classify(statement, schema_of(TABLES))


def test_several_subcommands_take_the_strongest_lock_each_table_its_own():
    statement = analysed(
        "ALTER TABLE books ADD CONSTRAINT fk_books_writer FOREIGN KEY (author_id) "
        "REFERENCES authors (id), ALTER COLUMN title TYPE varchar(100), "
        "ALTER COLUMN id TYPE bigint"
    )
    assert statement.locks == {"books": Lock.ACCESS_EXCLUSIVE, "authors": Lock.SHARE_ROW_EXCLUSIVE}
    assert statement.work == "rewrite"


@pytest.mark.parametrize(
    ("sql", "locks", "work"),
    [
        ("ALTER TABLE books ENABLE TRIGGER ALL", {"books": None}, "unknown"),
        ("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'", {}, "unknown"),
        ("DROP INDEX ix_nowhere", {}, "unknown"),
        ("DROP INDEX IF EXISTS ix_nowhere", {}, "catalog"),  # nothing to drop
        ("DROP INDEX ix_books_title", {"books": Lock.ACCESS_EXCLUSIVE}, "catalog"),
        ("ALTER TABLE books DROP CONSTRAINT fk_nowhere", {"books": None}, "unknown"),
        (
            "DROP TABLE books",
            {"books": Lock.ACCESS_EXCLUSIVE, "authors": Lock.ACCESS_EXCLUSIVE},
            "catalog",
        ),
        (
            "ALTER TABLE books ALTER COLUMN title TYPE text",
            {"books": Lock.ACCESS_EXCLUSIVE},
            "catalog",
        ),
    ],
)
def test_what_stays_unknown_and_what_the_schema_decides(sql, locks, work):
    statement = analysed(sql)
    assert (statement.locks, statement.work) == (locks, work)


def test_a_drop_is_reported_as_lost_data():
    assert analysed("ALTER TABLE books DROP COLUMN title").deletes == [
        ("books", "drops column books.title")
    ]
    assert analysed("DROP TABLE books").deletes == [("books", "drops table books")]


def impact(sql, seconds, transaction, *tables, work="catalog", rewrites=()):
    return StatementImpact(sql, work, seconds, list(tables), transaction, rewrites=rewrites)


def big(lock: Lock, name: str = "images", rows: int = 1_000_000) -> TableImpact:
    return TableImpact(name, lock, rows=rows, bytes=300_000_000)


def test_a_lock_lasts_until_its_transaction_commits():
    revision = RevisionImpact(
        "006",
        "backfill",
        [
            impact("ALTER TABLE images ADD COLUMN c int", 0.0, 1, big(Lock.ACCESS_EXCLUSIVE)),
            impact("UPDATE images SET c = 1", 12.0, 1, big(Lock.ROW_EXCLUSIVE), work="data"),
            impact("CREATE INDEX CONCURRENTLY …", 30.0, 2, big(Lock.SHARE_UPDATE_EXCLUSIVE)),
        ],
    )
    assert [s.held_seconds for s in revision.statements] == [12.0, 12.0, 30.0]
    assert revision.verdict == "blocks reads and writes on images for ~12 s"
    report = Report([revision])
    refused = report.failures("blocking", lock_timeout=5)
    assert refused == [
        "006: `ALTER TABLE images ADD COLUMN c int` blocks reads and writes on images for "
        "~12 s, longer than MIGRATION_LOCK_TIMEOUT (5 s)"
    ]
    assert report.failures("blocking", lock_timeout=20) == []


def test_a_long_backfill_holds_its_rows():
    update = impact("UPDATE images SET c = 1", 40.0, 1, big(Lock.ROW_EXCLUSIVE), work="data")
    update.row_locks = ("images",)
    revision = RevisionImpact("006", "backfill", [update])
    assert (
        revision.verdict == "locks the rows it changes in images for ~40 s (writes to them wait)"
    )
    assert Report([revision]).failures("blocking", 5) == []  # no table lock stops writers


def test_empty_and_new_tables_hold_nobody_up():
    revision = RevisionImpact(
        "006",
        "new table",
        [
            impact(
                "CREATE TABLE notes (…)",
                0.0,
                1,
                TableImpact("notes", Lock.ACCESS_EXCLUSIVE, 0, 0, new=True),
                big(Lock.SHARE_ROW_EXCLUSIVE, "profiles", rows=10),
            ),
            impact(
                "CREATE INDEX ix ON notes (x)",
                0.0,
                1,
                TableImpact("notes", Lock.SHARE, 0, 0, new=True),
            ),
            impact(
                "ALTER TABLE empty ALTER COLUMN x TYPE bigint",
                None,
                3,
                big(Lock.ACCESS_EXCLUSIVE, "empty", rows=0),
                work="rewrite",
                rewrites=("empty",),
            ),
        ],
    )
    assert revision.verdict == SAFE
    report = Report([revision])
    assert report.failures("blocking", 0) == report.failures("rewrite", 0) == []


def test_unknown_sizes_block_for_an_unknown_time_and_fail_the_gates():
    revision = RevisionImpact(
        "006",
        "on SQLite",
        [
            impact(
                "ALTER TABLE images ALTER COLUMN w TYPE bigint",
                None,
                1,
                big(Lock.ACCESS_EXCLUSIVE, rows=None),
                work="rewrite",
                rewrites=("images",),
            ),
            impact(
                "CREATE INDEX ix ON images (w)",
                None,
                2,
                big(Lock.SHARE, rows=None),
                work="index build",
            ),
        ],
    )
    assert revision.verdict == "blocks reads and writes on images for an unknown time"
    report = Report([revision])
    assert len(report.failures("blocking", 3600)) == 2
    assert report.failures("rewrite", 0) == [
        "006: `ALTER TABLE images ALTER COLUMN w TYPE bigint` rewrites images (rows unknown)"
    ]
