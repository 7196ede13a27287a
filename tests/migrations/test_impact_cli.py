"""`flask db impact`, as operators and deploy scripts use it: the table and the verdict, the
JSON shape, `--fail-on` exit codes, nothing pending, SQLite and an unreachable database in one
line, mistakes in one line; and the real command once, in a process of its own.

The PostgreSQL cases share one database at head with 100,000 seeded images (VACUUM ANALYZE'd,
so the catalog's row count is exact), and scratch copies of migrations/ whose revision 006 is
pending: one rewrites images, one only adds a column, one runs SQL nobody can classify.
"""

from __future__ import annotations

import json
import re
import secrets
import subprocess
import sys
import textwrap

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from pixcrawler.extensions import db
from pixcrawler.migrator.impact import probe
from tests.commands.cli_helpers import one_error_line, revision_ids
from tests.conftest import REPO_ROOT, make_app, run_flask
from tests.migrations.conftest import HEAD, NEXT, ScratchMigrations

IMAGES = 100_000
SAFE = "safe: no lock that blocks others beyond a moment"

REWRITE = """
op.alter_column('images', 'width', type_=sa.BigInteger(), existing_type=sa.Integer())
op.create_index('ix_images_format', 'images', ['format'])
op.drop_column('images', 'labels')
"""
NEW_COLUMN = "op.add_column('images', sa.Column('caption', sa.Text(), nullable=True))"
UNKNOWN = """
op.execute("UPDATE images SET width = width + 1 WHERE id < 100")
op.execute("DO $$ BEGIN PERFORM 1; END $$")
"""


@pytest.fixture(scope="module")
def seeded_url(postgres):
    """A PostgreSQL database at head with IMAGES images, whose catalog counts them exactly."""
    url = postgres.create()
    app = make_app(url)
    with app.app_context():
        upgrade()
    result = app.test_cli_runner().invoke(args=["seed", "--images", str(IMAGES)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
        db.engine.dispose()
    yield url
    postgres.drop(url)


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """Scratch migrations/ copies, each with one pending revision (006) of its own."""
    found = {}
    for name, body in (("rewrite", REWRITE), ("new column", NEW_COLUMN), ("unknown", UNKNOWN)):
        scratch = ScratchMigrations(tmp_path_factory.mktemp("impact") / "migrations")
        scratch.add(f"{name} on images", body)
        found[name] = scratch.folder
    return found


@pytest.fixture
def impact(seeded_url, folders):
    """impact(folder name, *args, url=…, **config): `flask db impact ARGS` through the CLI
    runner, on the seeded database unless told another URL (another role's)."""
    apps = []

    def run(name: str, *args: str, url: str = seeded_url, **config):
        app = make_app(url, MIGRATIONS_DIR=str(folders[name]), **config)
        apps.append(app)
        return app.test_cli_runner().invoke(args=["db", "impact", *args])

    yield run
    for app in apps:
        with app.app_context():
            db.engine.dispose()


def catalog(url: str, table: str) -> tuple[int, int]:
    """reltuples and pg_total_relation_size, read here with a query of the test's own."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(
                sa.text(
                    "SELECT reltuples::bigint, pg_total_relation_size(oid) FROM pg_class "
                    "WHERE relname = :t"
                ),
                {"t": table},
            ).one()
    finally:
        engine.dispose()


def probe_leftovers(url: str) -> list[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return list(
                connection.scalars(
                    sa.text("SELECT relname FROM pg_class WHERE relname LIKE 'pixcrawler_impact%'")
                )
            )
    finally:
        engine.dispose()


def test_the_table_and_the_verdict(impact, seeded_url):
    result = impact("rewrite")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Sizes from the catalog of postgresql+psycopg2://")
    assert "throughput measured on images in " in lines[0]
    assert lines[2] == f"{NEXT}  rewrite on images"
    header = lines[3].split()
    assert header == [
        "#",
        "work",
        "estimate",
        "table",
        "lock",
        "blocks",
        "rows",
        "size",
        "statement",
    ]
    rows = [line.split(None, 9) for line in lines[4:7]]
    assert [row[1] for row in rows] == ["rewrite", "index", "catalog"]  # "index build"
    assert "ALTER TABLE images ALTER COLUMN width TYPE BIGINT" in lines[4]
    assert "ACCESS EXCLUSIVE  reads, writes  100,000" in lines[4]
    assert "SHARE             writes         100,000" in lines[5]
    assert lines[6].endswith("ALTER TABLE images DROP COLUMN labels")
    assert probe_leftovers(seeded_url) == []  # the sample's tables were rolled back
    verdict = lines[7]
    assert re.fullmatch(
        r"  verdict: blocks reads and writes on images for ~[0-9.]+ s; "
        r"deletes data: drops column images\.labels \(100,000 rows\)",
        verdict,
    ), verdict


def test_json_has_the_issues_shape(impact, seeded_url):
    result = impact("rewrite", "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert list(body) == ["revisions"]
    (revision,) = body["revisions"]
    assert set(revision) == {"id", "message", "verdict", "statements"}
    assert (revision["id"], revision["message"]) == (NEXT, "rewrite on images")
    rows, size = catalog(seeded_url, "images")
    assert rows == IMAGES
    for statement in revision["statements"]:
        assert set(statement) == {"sql", "work", "estimated_seconds", "tables"}
        for table in statement["tables"]:
            assert set(table) == {"name", "lock", "blocks", "rows", "bytes"}
            assert set(table["blocks"]) <= {"reads", "writes"}
            assert (table["name"], table["rows"], table["bytes"]) == ("images", rows, size)
    rewrite, index, drop = revision["statements"]
    assert (rewrite["work"], rewrite["tables"][0]["lock"]) == ("rewrite", "ACCESS EXCLUSIVE")
    assert rewrite["tables"][0]["blocks"] == ["reads", "writes"]
    assert (index["work"], index["tables"][0]["lock"]) == ("index build", "SHARE")
    assert index["tables"][0]["blocks"] == ["writes"]
    assert (drop["work"], drop["estimated_seconds"]) == ("catalog", 0.0)
    assert rewrite["estimated_seconds"] > 0 and index["estimated_seconds"] > 0
    assert result.stderr.startswith("Sizes from the catalog of")  # the notes stay off stdout


def test_fail_on_blocking_compares_with_the_lock_timeout(impact):
    for timeout, code in ((3600, 0), (0, 1)):
        result = impact("rewrite", "--fail-on", "blocking", MIGRATION_LOCK_TIMEOUT=timeout)
        assert result.exit_code == code, result.output
    line = one_error_line(result)
    assert line.startswith(
        f"Error: --fail-on blocking: {NEXT}: `ALTER TABLE images ALTER COLUMN width TYPE BIGINT` "
        "blocks reads and writes on images for ~"
    )
    assert "longer than MIGRATION_LOCK_TIMEOUT (0 s) (and 1 more)" in line
    assert "refused by --fail-on blocking:" in result.stdout
    assert f"  {NEXT}: `CREATE INDEX ix_images_format ON images (format)` blocks writes" in (
        result.stdout
    )


def test_fail_on_rewrite_and_never(impact):
    result = impact("rewrite", "--fail-on", "rewrite")
    assert one_error_line(result) == (
        f"Error: --fail-on rewrite: {NEXT}: `ALTER TABLE images ALTER COLUMN width TYPE BIGINT` "
        "rewrites images (100,000 rows)"
    )
    assert impact("rewrite", "--fail-on", "never").exit_code == 0
    assert impact("rewrite").exit_code == 0  # never is the default


def test_a_catalog_only_revision_passes_every_gate(impact):
    result = impact("new column", "--fail-on", "blocking", MIGRATION_LOCK_TIMEOUT=0)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == f"  verdict: {SAFE}"
    assert impact("new column", "--fail-on", "rewrite").exit_code == 0


def test_unknown_sql_is_reported_and_blocks_the_gate(impact):
    body = json.loads(impact("unknown", "--json").stdout)
    update, block = body["revisions"][0]["statements"]
    assert (update["work"], update["tables"][0]["lock"]) == ("data", "ROW EXCLUSIVE")
    assert update["tables"][0]["blocks"] == []
    assert (block["work"], block["estimated_seconds"], block["tables"]) == ("unknown", None, [])
    # The UPDATE's row locks last until the commit, after a statement nobody can time.
    assert body["revisions"][0]["verdict"] == (
        "locks the rows it changes in images for an unknown time (writes to them wait); "
        "cannot tell what `DO $$ BEGIN PERFORM 1; END $$` does: review it"
    )
    result = impact("unknown", "--fail-on", "blocking")
    assert one_error_line(result) == (
        f"Error: --fail-on blocking: {NEXT}: cannot tell what `DO $$ BEGIN PERFORM 1; END $$` does"
    )
    assert impact("unknown", "--fail-on", "rewrite").exit_code == 0


def test_nothing_pending_says_so(migrated_app):
    runner = migrated_app.test_cli_runner()
    result = runner.invoke(args=["db", "impact"])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Nothing is pending: the database is at {HEAD}.\n"
    result = runner.invoke(args=["db", "impact", "--json", "--fail-on", "blocking"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"revisions": []}


@pytest.mark.only_backend("sqlite")
def test_on_sqlite_the_same_rules_in_one_line(app):
    with app.app_context():
        upgrade(revision="003")
    result = app.test_cli_runner().invoke(args=["db", "impact"])
    assert result.exit_code == 0, result.output
    notes = [line for line in result.stdout.splitlines() if "sizes" in line.lower()]
    assert notes == [
        "The database is SQLite: the revisions' PostgreSQL SQL analysed with PostgreSQL's "
        "rules; sizes and durations unknown"
    ]
    assert result.stdout.startswith(notes[0])
    body = json.loads(app.test_cli_runner().invoke(args=["db", "impact", "--json"]).stdout)
    assert [r["id"] for r in body["revisions"]] == revision_ids()[3:]  # after 003
    first = body["revisions"][0]["statements"][0]
    assert first["sql"].startswith("ALTER TABLE profiles ADD COLUMN IF NOT EXISTS tier")
    assert first["tables"] == [
        {
            "name": "profiles",
            "lock": "ACCESS EXCLUSIVE",
            "blocks": ["reads", "writes"],
            "rows": None,
            "bytes": None,
        }
    ]
    build = body["revisions"][0]["statements"][2]
    assert (build["work"], build["estimated_seconds"]) == ("index build", None)
    assert body["revisions"][0]["verdict"] == SAFE


def test_an_unreachable_database_is_one_line_and_every_revision():
    app = make_app("postgresql://pix:Secret-pw1@127.0.0.1:1/nowhere")
    result = app.test_cli_runner().invoke(args=["db", "impact"])
    assert result.exit_code == 0, result.output
    first, *rest = result.stdout.splitlines()
    assert first.startswith(
        "The database postgresql+psycopg2://pix:***@127.0.0.1:1/nowhere does not answer ("
    )
    assert first.endswith(
        "): every revision's PostgreSQL SQL analysed with PostgreSQL's rules; "
        "sizes and durations unknown"
    )
    assert "Secret-pw1" not in result.output
    assert not any("sizes" in line for line in rest)
    headers = [line.split()[0] for line in rest if re.match(r"\d{3}  ", line)]
    assert headers == revision_ids()


@pytest.mark.only_backend("sqlite")
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["999"],
            "Error: Can't locate revision identified by '999'; "
            f"known revisions: {', '.join(revision_ids())}",
        ),
        (
            ["--fail-on", "maybe"],
            "Error: --fail-on 'maybe' is not one of: blocking, rewrite, never",
        ),
    ],
)
def test_mistakes_are_one_line(app, args, message):
    result = app.test_cli_runner().invoke(args=["db", "impact", *args])
    assert one_error_line(result) == message


def test_the_real_command_gates_a_deploy(seeded_url, folders):
    """As a deploy script runs it: its own process, JSON on stdout, exit 1, one Error line."""
    env = {"PIXCRAWLER_MIGRATIONS_DIR": str(folders["rewrite"])}
    result = run_flask(
        "db", "impact", "--json", "--fail-on", "rewrite", database_url=seeded_url, env=env
    )
    assert result.returncode == 1, result.stderr
    assert json.loads(result.stdout)["revisions"][0]["id"] == NEXT
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert errors == [
        f"Error: --fail-on rewrite: {NEXT}: `ALTER TABLE images ALTER COLUMN width TYPE BIGINT` "
        "rewrites images (100,000 rows)"
    ]


def test_only_flask_db_impact_loads_the_parser(tmp_path):
    """`flask` starts as fast as before: the analysis and pglast load when the command runs."""
    script = textwrap.dedent(
        f"""
        import sys
        from pixcrawler import create_app
        app = create_app({{"ENV_NAME": "testing",
                          "SQLALCHEMY_DATABASE_URI": "sqlite:///{tmp_path}/x.sqlite3"}})
        loaded = lambda: [m for m in ("pglast", "pixcrawler.migrator.impact.analysis")
                          if m in sys.modules]
        runner = app.test_cli_runner()
        assert runner.invoke(args=["db", "current"]).exit_code == 0
        assert runner.invoke(args=["db", "lint", "001"]).exit_code == 0
        print(loaded())
        assert runner.invoke(args=["db", "impact"]).exit_code == 0
        print(loaded())
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "[]",
        "['pglast', 'pixcrawler.migrator.impact.analysis']",
    ]


@pytest.fixture
def reader(seeded_url):
    """The URL of a role that may read every table and create none in the schema (PostgreSQL
    15's default for `public`), like an application role in production."""
    role, secret = f"pixcrawler_test_{secrets.token_hex(4)}", secrets.token_hex(8)
    owner = sa.create_engine(seeded_url, isolation_level="AUTOCOMMIT")
    with owner.connect() as connection:
        connection.exec_driver_sql(f"CREATE ROLE {role} LOGIN PASSWORD '{secret}'")
        connection.exec_driver_sql("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        connection.exec_driver_sql(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
    url = sa.engine.make_url(seeded_url).set(username=role, password=secret)
    yield url.render_as_string(hide_password=False), owner
    with owner.connect() as connection:
        database = sa.engine.make_url(seeded_url).database
        connection.exec_driver_sql(f'GRANT TEMPORARY ON DATABASE "{database}" TO PUBLIC')
        connection.exec_driver_sql(f"DROP OWNED BY {role}")
        connection.exec_driver_sql(f"DROP ROLE {role}")
    owner.dispose()


def rewrite_estimate(result) -> float | None:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["revisions"][0]["statements"][0]["estimated_seconds"]


def test_a_role_that_may_not_create_tables_gets_a_temporary_sample(impact, reader):
    url, _owner = reader
    result = impact("rewrite", "--json", url=url)
    assert rewrite_estimate(result) > 0
    assert ", a temporary copy, which skips the WAL, rolled back)" in result.stderr


def test_a_role_without_even_temporary_tables_gets_no_estimate(impact, reader, seeded_url):
    url, owner = reader
    with owner.connect() as connection:
        database = sa.engine.make_url(seeded_url).database
        connection.exec_driver_sql(f'REVOKE TEMPORARY ON DATABASE "{database}" FROM PUBLIC')
    result = impact("rewrite", "--json", url=url)
    assert rewrite_estimate(result) is None
    assert result.stderr.endswith(
        "; throughput not measured (the role may not create a table here, not even a "
        "temporary one): durations unknown\n"
    )
    verdict = json.loads(result.stdout)["revisions"][0]["verdict"]
    assert verdict.startswith("blocks reads and writes on images for an unknown time")


def test_a_probe_past_its_statement_timeout_gives_no_estimate(impact, monkeypatch):
    monkeypatch.setattr(probe, "STATEMENT_TIMEOUT_MS", 1)
    result = impact("rewrite", "--json")
    assert rewrite_estimate(result) is None
    assert result.stderr.endswith(
        "; throughput not measured (the sample of images took longer than 0.001 s): "
        "durations unknown\n"
    )


def hold(url: str, mode: str) -> sa.Connection:
    """Another session holding `mode` on images, as a running migration would."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    connection = engine.connect()
    connection.exec_driver_sql(f"LOCK TABLE images IN {mode} MODE")
    return connection


def test_the_probe_only_reads_the_real_table(impact, seeded_url):
    """EXCLUSIVE conflicts with every lock but ACCESS SHARE: the probe measures all the same."""
    holder = hold(seeded_url, "EXCLUSIVE")
    try:
        result = impact("rewrite", "--json")
    finally:
        holder.rollback()
        holder.close()
    assert rewrite_estimate(result) > 0
    assert "throughput measured on images in " in result.stderr


def test_behind_an_access_exclusive_lock_it_does_not_wait(impact, seeded_url):
    holder = hold(seeded_url, "ACCESS EXCLUSIVE")
    try:
        result = impact("rewrite", "--json")
    finally:
        holder.rollback()
        holder.close()
    assert rewrite_estimate(result) is None
    assert result.stderr.startswith("A table of postgresql+psycopg2://")
    assert result.stderr.endswith(
        "is locked by another session (a migration?): the revisions' PostgreSQL SQL "
        "analysed with PostgreSQL's rules; sizes and durations unknown\n"
    )
