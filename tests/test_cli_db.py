"""`flask db …` and plain `alembic …` exactly as people type them, in a new process from the
repo root (no FLASK_APP, no `-c`), on SQLite and PostgreSQL; offline SQL; and the numbering of
new revisions and merges in a scratch copy of the project."""

import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from pixcrawler.extensions import db
from pixcrawler.migrator.state import script_directory
from tests.commands.cli_helpers import ok, revision_ids
from tests.conftest import REPO_ROOT, make_app, run_flask, run_plain_alembic
from tests.databases import sqlite_url
from tests.migrations.conftest import ScratchMigrations, revision_of, table_names

UNREACHABLE = "postgresql://postgres@127.0.0.1:1/nowhere"


def head() -> str:
    return revision_ids()[-1]


def one_error_line(result) -> str:
    """A user's mistake: exit 1, exactly one line on stderr that says so, no traceback."""
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    errors = [line for line in result.stderr.splitlines() if "Error" in line]
    assert len(errors) == 1, result.stderr
    return errors[0]


def test_the_everyday_commands_as_typed(flask_cli):
    top = head()
    ok(flask_cli("db", "upgrade"))
    assert ok(flask_cli("db", "current")).stdout.strip() == f"{top} (head)"
    ok(flask_cli("db", "downgrade", "-1"))
    below = ok(flask_cli("db", "current")).stdout.strip()
    assert below != f"{top} (head)" and below
    ok(flask_cli("db", "upgrade", "+1"))
    assert ok(flask_cli("db", "current")).stdout.strip() == f"{top} (head)"
    ok(flask_cli("db", "downgrade", "001"))
    assert ok(flask_cli("db", "current")).stdout.strip() == "001"
    ok(flask_cli("db", "downgrade", "base"))
    assert ok(flask_cli("db", "current")).stdout.strip() == ""
    ok(flask_cli("db", "upgrade", "001"))
    assert ok(flask_cli("db", "current")).stdout.strip() == "001"
    ok(flask_cli("db", "stamp", "head"))
    assert ok(flask_cli("db", "current")).stdout.strip() == f"{top} (head)"
    ok(flask_cli("db", "stamp", "001"))
    ok(flask_cli("db", "upgrade"))
    assert "No new upgrade operations" in ok(flask_cli("db", "check")).stdout


def test_history_heads_and_show(flask_cli):
    ok(flask_cli("db", "upgrade", "001"))
    history = ok(flask_cli("db", "history")).stdout
    assert "<base> -> 001, initial schema" in history
    assert re.search(r"^001 -> 002( \(head\))?, add admin accounts$", history, re.M)
    verbose = ok(flask_cli("db", "history", "--verbose")).stdout
    assert "Revision ID: 001" in verbose and "Create Date:" in verbose
    assert ok(flask_cli("db", "heads")).stdout.strip() == f"{head()} (head)"
    show = ok(flask_cli("db", "show", "001")).stdout
    assert "Rev: 001" in show and "initial schema" in show


def test_an_unknown_revision_changes_nothing(flask_cli):
    ok(flask_cli("db", "upgrade", "001"))
    for args in (("upgrade", "nosuch"), ("downgrade", "nosuch"), ("show", "nosuch")):
        line = one_error_line(flask_cli("db", *args))
        assert "Can't locate revision identified by 'nosuch'" in line
    assert ok(flask_cli("db", "current")).stdout.strip() == "001"


CONTEXT_LINE = "INFO  [alembic.runtime.migration] Will assume transactional DDL."


def test_one_context_line_and_errors_printed_as_readme_shows_them(flask_cli):
    upgrade = ok(flask_cli("db", "upgrade")).stderr.splitlines()
    assert upgrade[0] == CONTEXT_LINE
    assert all("Running upgrade" in line for line in upgrade[1:]), upgrade
    assert ok(flask_cli("db", "current")).stderr == CONTEXT_LINE + "\n"
    refused = flask_cli("db", "upgrade", "nosuch")
    assert refused.returncode == 1
    assert refused.stderr.splitlines() == [
        CONTEXT_LINE,
        "Error: Can't locate revision identified by 'nosuch'",
    ]


def test_an_unreachable_database_is_one_line():
    result = run_flask("db", "upgrade", database_url=UNREACHABLE)
    line = one_error_line(result)
    assert (
        "cannot connect to the database postgresql+psycopg2://postgres@127.0.0.1:1/nowhere" in line
    )


def test_a_password_in_the_url_is_never_printed():
    url = "postgresql://postgres:hunter2secret@127.0.0.1:1/nowhere"
    result = run_flask("db", "current", database_url=url)
    assert result.returncode == 1, result.stderr
    assert "hunter2secret" not in result.stdout + result.stderr


def test_offline_postgresql_sql_needs_no_server():
    result = ok(run_flask("db", "upgrade", "--sql", database_url=UNREACHABLE))
    sql = result.stdout
    assert "CREATE TABLE profiles" in sql and "id UUID NOT NULL" in sql
    assert "keywords JSONB NOT NULL" in sql
    assert "id BIGSERIAL NOT NULL" in sql  # images and activity_logs
    assert "CREATE INDEX ix_crawl_jobs_project_id_status ON crawl_jobs (project_id, status)" in sql
    assert "ON DELETE SET NULL" in sql
    assert sql.count("BEGIN;") == sql.count("COMMIT;") >= 2  # one transaction per migration


def test_the_readme_alembic_commands_as_typed(database_url):
    """PixCrawler's migration README types plain `alembic …` in the backend's root."""
    ids = revision_ids()

    def alembic(*args: str):
        return ok(run_plain_alembic(*args, database_url=database_url))

    # No alembic.ini in the root: the logging setup comes from migrations/alembic.ini.
    logged = alembic("upgrade", "001").stderr
    assert "INFO  [alembic.runtime.migration] Running upgrade  -> 001, initial schema" in logged
    assert revision_of(database_url) == {"001"}
    alembic("upgrade", "+2")
    assert revision_of(database_url) == {ids[2]}
    alembic("downgrade", "001")
    assert revision_of(database_url) == {"001"}
    alembic("upgrade", "head")  # also the deploy script's line
    assert alembic("current").stdout.strip() == f"{ids[-1]} (head)"
    assert "No new upgrade operations detected" in alembic("check").stdout
    alembic("downgrade", "-1")
    assert revision_of(database_url) == {ids[-2]}
    alembic("downgrade", "base")
    assert revision_of(database_url) == set()
    assert table_names(database_url) == {"alembic_version"}
    history = alembic("history").stdout
    assert "<base> -> 001, initial schema" in history
    assert f"{ids[-2]} -> {ids[-1]} (head), " in history
    verbose = alembic("history", "--verbose").stdout
    assert "Revision ID: 001" in verbose and "Create Date:" in verbose
    assert alembic("heads").stdout.strip() == f"{ids[-1]} (head)"
    assert "Revision ID: 001" in alembic("show", "001").stdout
    alembic("stamp", "head")
    assert revision_of(database_url) == {ids[-1]}


def test_offline_sql_for_sqlite_uses_sqlite_types(tmp_path):
    result = ok(run_flask("db", "upgrade", "001", "--sql", database_url=f"sqlite:///{tmp_path}/x"))
    assert "CREATE TABLE profiles" in result.stdout
    assert "JSONB" not in result.stdout
    assert not (tmp_path / "x").exists()  # offline: nothing touched


# --- new revisions, in a scratch copy of the project so the repository stays as it is --------


@pytest.fixture
def scratch(tmp_path):
    """A copy of the app package, migrations/, wsgi.py and pyproject.toml (Alembic's settings);
    `flask` and `alembic` there import the copy."""
    root = tmp_path / "project"
    root.mkdir()
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(REPO_ROOT / "pixcrawler", root / "pixcrawler", ignore=ignore)
    shutil.copytree(REPO_ROOT / "migrations", root / "migrations", ignore=ignore)
    shutil.copy(REPO_ROOT / "wsgi.py", root / "wsgi.py")
    shutil.copy(REPO_ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


def run_in(root: Path, *args: str, database_url: str | None):
    """`flask ARGS` in the scratch project; without `database_url`, on its embedded default."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("FLASK_", "PIXCRAWLER_")) and k != "DATABASE_URL"
    }
    env.update(PIXCRAWLER_ENV="testing", PYTHONPATH=str(root))
    if database_url is not None:
        env["DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "flask", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def versions(root: Path) -> set[str]:
    return {p.name for p in (root / "migrations" / "versions").glob("*.py")}


def next_id() -> str:
    return f"{int(head()) + 1:03d}"


def add_project_colour(root: Path) -> None:
    """A model change for autogenerate to find: a new nullable column on projects."""
    model = root / "pixcrawler" / "models" / "project.py"
    source = model.read_text()
    model.write_text(
        source.replace(
            "    description: Mapped[str | None] = mapped_column(sa.Text)\n",
            "    description: Mapped[str | None] = mapped_column(sa.Text)\n"
            "    colour: Mapped[str | None] = mapped_column(sa.String(7))\n",
        )
    )


def test_autogenerate_after_a_model_change_gets_the_next_number(scratch, database_url, backend):
    ok(run_in(scratch, "db", "upgrade", database_url=database_url))
    add_project_colour(scratch)
    before = versions(scratch)
    result = ok(
        run_in(scratch, "db", "migrate", "-m", "add project colour", database_url=database_url)
    )
    assert "Detected added column 'projects.colour'" in result.stderr
    (new,) = versions(scratch) - before
    assert new == f"{next_id()}_add_project_colour.py"
    text = (scratch / "migrations" / "versions" / new).read_text()
    assert f"revision = '{next_id()}'" in text and f"down_revision = '{head()}'" in text
    assert "sa.Column('colour', sa.String(length=7), nullable=True)" in text
    if backend == "sqlite":  # SQLite cannot alter tables in place: batch mode recreates them
        assert "with op.batch_alter_table('projects'" in text
        assert "batch_op.drop_column('colour')" in text
    else:
        assert "op.drop_column('projects', 'colour')" in text
    assert "pixcrawler" not in text  # revisions never import the app
    ok(run_in(scratch, "db", "upgrade", database_url=database_url))
    ok(run_in(scratch, "db", "check", database_url=database_url))
    ok(run_in(scratch, "db", "downgrade", "-1", database_url=database_url))


def test_autogenerate_writes_no_file_when_nothing_changed(scratch, database_url):
    ok(run_in(scratch, "db", "upgrade", database_url=database_url))
    before = versions(scratch)
    result = ok(run_in(scratch, "db", "migrate", "-m", "nothing", database_url=database_url))
    assert "No changes in schema detected" in result.stderr
    assert versions(scratch) == before


def test_revisions_are_numbered_branches_give_two_heads_and_merge_joins_them(
    scratch, database_url
):
    top, first, second, merged = (
        head(),
        next_id(),
        f"{int(next_id()) + 1:03d}",
        f"{int(next_id()) + 2:03d}",
    )
    ok(run_in(scratch, "db", "revision", "-m", "add a", database_url=database_url))
    assert f"{first}_add_a.py" in versions(scratch)
    # A second branch made from the same parent, as two developers would.
    ok(
        run_in(
            scratch,
            "db",
            "revision",
            "-m",
            "add b",
            "--head",
            top,
            "--splice",
            database_url=database_url,
        )
    )
    assert f"{second}_add_b.py" in versions(scratch)
    heads = ok(run_in(scratch, "db", "heads", database_url=database_url)).stdout
    assert f"{first} (head)" in heads and f"{second} (head)" in heads
    line = one_error_line(run_in(scratch, "db", "upgrade", database_url=database_url))
    assert "Multiple head revisions" in line
    ok(run_in(scratch, "db", "merge", "heads", "-m", "merge a and b", database_url=database_url))
    assert f"{merged}_merge_a_and_b.py" in versions(scratch)
    assert (
        ok(run_in(scratch, "db", "heads", database_url=database_url)).stdout.strip()
        == f"{merged} (head)"
    )
    ok(run_in(scratch, "db", "upgrade", database_url=database_url))
    current = ok(run_in(scratch, "db", "current", database_url=database_url)).stdout
    assert current.strip() == f"{merged} (head) (mergepoint)"


def test_an_explicit_rev_id_wins(scratch, database_url):
    args = ("db", "revision", "-m", "hotfix", "--rev-id", "hotfix1")
    ok(run_in(scratch, *args, database_url=database_url))
    assert "hotfix1_hotfix.py" in versions(scratch)


def alembic_in(root: Path, *args: str, database_url: str | None):
    """Plain `alembic ARGS` typed in the scratch project's root (which it imports)."""
    env = {"PYTHONPATH": str(root)}
    return run_plain_alembic(*args, database_url=database_url, cwd=root, env=env)


def new_revision(root: Path, name: str) -> str:
    return (root / "migrations" / "versions" / name).read_text()


def test_plain_alembic_revisions_and_merges_are_numbered_like_flask_db(scratch, database_url):
    top, first, second, merged = revision_ids()[-1], *(f"{int(head()) + n:03d}" for n in (1, 2, 3))
    ok(alembic_in(scratch, "upgrade", "head", database_url=database_url))
    ok(alembic_in(scratch, "revision", "-m", "Description of changes", database_url=database_url))
    text = new_revision(scratch, f"{first}_description_of_changes.py")
    assert f"revision = '{first}'" in text and f"down_revision = '{top}'" in text
    ok(alembic_in(scratch, "upgrade", "head", database_url=database_url))
    add_project_colour(scratch)
    args = ("revision", "--autogenerate", "-m", "Description of changes")
    result = ok(alembic_in(scratch, *args, database_url=database_url))
    assert "Detected added column 'projects.colour'" in result.stderr
    text = new_revision(scratch, f"{second}_description_of_changes.py")
    assert f"revision = '{second}'" in text and f"down_revision = '{first}'" in text
    assert "sa.Column('colour', sa.String(length=7), nullable=True)" in text

    # Alembic's own parser requires the revisions of a merge: as the README types it, it stops
    # there (exit 2, nothing written); `merge heads` is the plain-alembic spelling.
    args = ("merge", "-m", "Merge branches")
    before = versions(scratch)
    typed = alembic_in(scratch, *args, database_url=database_url)
    assert typed.returncode == 2
    assert "the following arguments are required: revisions" in typed.stderr
    refused = alembic_in(scratch, "merge", "heads", "-m", "x", database_url=database_url)
    assert refused.returncode == 255  # Alembic's own exit code for a CommandError
    assert refused.stdout.strip() == f"FAILED: nothing to merge: one head, {second}"
    assert versions(scratch) == before
    splice = ("revision", "-m", "side", "--head", first, "--splice", "--rev-id", "side1")
    ok(alembic_in(scratch, *splice, database_url=database_url))
    ok(alembic_in(scratch, "merge", "heads", "-m", "Merge branches", database_url=database_url))
    text = new_revision(scratch, f"{merged}_merge_branches.py")
    assert f"revision = '{merged}'" in text
    assert f"down_revision = ('{second}', 'side1')" in text


def test_plain_alembic_and_flask_db_share_the_embedded_default(scratch):
    ok(alembic_in(scratch, "upgrade", "head", database_url=None))
    assert (scratch / "instance" / "pixcrawler.sqlite3").is_file()
    current = ok(run_in(scratch, "db", "current", database_url=None)).stdout
    assert current.strip() == f"{head()} (head)"


def schema(url: str) -> dict:
    """Everything the inspector sees, per table, plus the recorded revision."""
    engine = sa.create_engine(url)
    try:
        inspector = sa.inspect(engine)
        found = {}
        for table in inspector.get_table_names():
            found[table] = {
                "columns": [
                    (c["name"], str(c["type"]), c["nullable"], c["default"])
                    for c in inspector.get_columns(table)
                ],
                "pk": inspector.get_pk_constraint(table),
                "fks": sorted(
                    (f["name"], f["constrained_columns"], f["referred_table"], f["options"])
                    for f in inspector.get_foreign_keys(table)
                ),
                "uniques": sorted(
                    (u["name"], u["column_names"]) for u in inspector.get_unique_constraints(table)
                ),
                "checks": sorted(
                    (c["name"], " ".join(c["sqltext"].split()))
                    for c in inspector.get_check_constraints(table)
                ),
                "indexes": sorted(
                    (i["name"], i["column_names"], i["unique"])
                    for i in inspector.get_indexes(table)
                ),
            }
        with engine.connect() as connection:
            found["alembic_version"]["rows"] = connection.exec_driver_sql(
                "SELECT version_num FROM alembic_version"
            ).all()
        return found
    finally:
        engine.dispose()


def test_offline_sql_on_the_sqlite_default_renders_the_whole_chain_and_runs(scratch, tmp_path):
    sql = ok(run_in(scratch, "db", "upgrade", "--sql", database_url=None)).stdout
    ids = revision_ids()
    for below, rev in zip(["", *ids], ids, strict=False):
        assert f"-- Running upgrade {below} -> {rev}" in sql
    assert sql.count("BEGIN;") == sql.count("COMMIT;") == len(ids)
    assert "CREATE TABLE _alembic_tmp_profiles" in sql  # 004's batch: a copy of profiles
    assert not (scratch / "instance" / "pixcrawler.sqlite3").exists()  # offline: no database
    # Plain alembic prints the same lines (a recreated table lists its constraints in the
    # order of a Python set, which differs between two processes).
    plain = ok(alembic_in(scratch, "upgrade", "head", "--sql", database_url=None)).stdout
    assert sorted(plain.splitlines()) == sorted(sql.splitlines())

    # The strong check: the printed SQL, run on a new SQLite file by sqlite3 itself, builds the
    # schema an online upgrade builds.
    offline = tmp_path / "offline.sqlite3"
    with sqlite3.connect(offline) as connection:
        connection.executescript(sql)
    online = sqlite_url(tmp_path, "online.sqlite3")
    app = make_app(online)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    expected = schema(online)
    assert expected["alembic_version"]["rows"] == [(ids[-1],)]
    assert schema(f"sqlite:///{offline}") == expected


def flask_db(app, *args: str):
    return app.test_cli_runner().invoke(args=["db", *args])


def test_offline_sqlite_sql_never_cascades_into_child_rows(tmp_path):
    """The offline script turns foreign keys off before anything, as the online upgrade does.
    Run where they are on (as in the app's own connections), 004's copy of `profiles` then
    keeps the projects that point at it instead of deleting them with the old copy."""
    path = tmp_path / "test.sqlite3"
    app = make_app(sqlite_url(tmp_path))
    with app.app_context():
        upgrade(revision="003")
        db.engine.dispose()
    sql = ok(flask_db(app, "upgrade", "003:004", "--sql")).stdout
    assert "CREATE TABLE _alembic_tmp_profiles" in sql  # 004 recreates profiles
    with sqlite3.connect(path, isolation_level=None) as connection:
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute(
            "INSERT INTO profiles (id, email) VALUES (?, 'owner@example.com')", ("a" * 32,)
        )
        connection.execute("INSERT INTO projects (name, user_id) VALUES ('kept', ?)", ("a" * 32,))
        connection.executescript(sql)
        projects = connection.execute("SELECT name FROM projects").fetchall()
        version = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    assert version == [("004",)]
    assert projects == [("kept",)]


def test_merge_without_revisions_joins_every_head_and_never_makes_a_root(database_url, tmp_path):
    migrations = ScratchMigrations(tmp_path / "migrations")
    versions_dir = migrations.folder / "versions"
    app = make_app(database_url, MIGRATIONS_DIR=str(migrations.folder))
    top = head()
    before = sorted(p.name for p in versions_dir.glob("*.py"))
    for args in (("merge", "-m", "Merge branches"), ("merge", "heads", "-m", "Merge branches")):
        result = flask_db(app, *args)
        assert result.exit_code == 1
        assert result.stderr == f"Error: nothing to merge: one head, {top}\n"
        assert sorted(p.name for p in versions_dir.glob("*.py")) == before

    first = migrations.add("branch a", "pass", after=top)
    second = migrations.add("branch b", "pass", after=top)
    merged = f"{int(second) + 1:03d}"
    ok(flask_db(app, "merge", "-m", "Merge branches"))
    text = (versions_dir / f"{merged}_merge_branches.py").read_text()
    assert f"revision = '{merged}'" in text
    assert f"down_revision = ('{first}', '{second}')" in text
    with app.app_context():
        assert script_directory().get_heads() == [merged]
    roots = [p.name for p in versions_dir.glob("*.py") if "down_revision = None" in p.read_text()]
    assert roots == ["001_initial_schema.py"]
