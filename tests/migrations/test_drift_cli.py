"""Drift and renames where people meet them: `flask db check`, `flask check`, the admin's
drift panel and API, `flask db migrate` (with and without a terminal, with `--rename`), and a
real model edit taken from `flask db check` to `flask db upgrade` by real `flask` processes.

The in-process tests use the app's own models and make the database differ instead (a CHECK
narrowed, a column renamed behind the models' back), so nothing needs a changed model file.
"""

from __future__ import annotations

import html
import json
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from flask_migrate import upgrade

from pixcrawler.database import sqlite
from pixcrawler.database.urls import normalize_database_url
from pixcrawler.extensions import db
from tests.admin.helpers import add_superuser, login
from tests.commands.cli_helpers import run_in_terminal
from tests.conftest import REPO_ROOT, make_app
from tests.migrations.test_drift_corpus import accepts, job, project
from tests.test_cli_db import head, next_id, ok, run_in, scratch, versions  # noqa: F401

MISSING_CANCELLED = (
    "crawl_jobs.status: CHECK ck_crawl_jobs_status allows 'cancelled' in the models, "
    "not in the database"
)
NARROWER = "status IN ('pending', 'running', 'completed', 'failed')"


@pytest.fixture
def migrations(tmp_path) -> Path:
    """A scratch copy of migrations/, so `flask db migrate` never writes into the repo."""
    folder = tmp_path / "migrations"
    shutil.copytree(REPO_ROOT / "migrations", folder, ignore=shutil.ignore_patterns("__pycache__"))
    return folder


@pytest.fixture
def head_app(database_url, migrations):
    app = make_app(database_url, MIGRATIONS_DIR=str(migrations))
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def narrow_job_statuses(engine: sa.Engine) -> None:
    """What a hand-made change in the database would do: no 'cancelled' crawl jobs."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(
                "ALTER TABLE crawl_jobs DROP CONSTRAINT ck_crawl_jobs_status, "
                f"ADD CONSTRAINT ck_crawl_jobs_status CHECK ({NARROWER})"
            )
            return
        sqlite.set_foreign_keys(connection, False)  # batch mode copies the table
        operations = Operations(MigrationContext.configure(connection))
        with operations.batch_alter_table("crawl_jobs") as batch:
            batch.drop_constraint(operations.f("ck_crawl_jobs_status"), type_="check")
            batch.create_check_constraint(operations.f("ck_crawl_jobs_status"), NARROWER)
        sqlite.set_foreign_keys(connection, True)


@pytest.fixture
def drifted_app(head_app):
    with head_app.app_context():
        narrow_job_statuses(db.engine)
    return head_app


def error_lines(result) -> list[str]:
    assert "Traceback" not in result.output
    return [line for line in result.stderr.splitlines() if "Error" in line]


# --- the difference, in words, everywhere ----------------------------------------------------


def test_db_check_prints_each_difference_on_its_own_line(drifted_app):
    result = drifted_app.test_cli_runner().invoke(args=["db", "check"])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [MISSING_CANCELLED]
    assert error_lines(result) == [
        "Error: 1 difference(s) between the models and the database: make a revision with "
        "`flask db migrate -m '<what changed>'` and review it"
    ]
    assert " object at 0x" not in result.output  # never a Python repr


def test_flask_check_the_dashboard_and_the_api_say_the_same(drifted_app):
    result = drifted_app.test_cli_runner().invoke(args=["check", "--json"])
    assert result.exit_code == 1
    [finding] = json.loads(result.stdout)
    assert finding["id"] == "migrations.E004"
    assert finding["message"] == f"the models and the database disagree: {MISSING_CANCELLED}"
    add_superuser(drifted_app)
    client = drifted_app.test_client()
    assert login(client).status_code == 302
    assert client.get("/admin/api/migrations").get_json()["drift"] == [MISSING_CANCELLED]
    page = client.get("/admin/").get_data(as_text=True)
    assert f"<li><code>{MISSING_CANCELLED}</code></li>" in html.unescape(page)


def test_the_check_is_clean_again_once_the_database_follows_the_models(drifted_app):
    result = drifted_app.test_cli_runner().invoke(args=["db", "migrate", "-m", "allow cancelled"])
    assert result.exit_code == 0, result.output
    with drifted_app.app_context():
        upgrade()
    result = drifted_app.test_cli_runner().invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "No new upgrade operations detected.\n"


# --- renames ------------------------------------------------------------------------------

DESCRIPTION = "kept across the rename"
WARNING = (
    "Warning: projects.summary is dropped and projects.description (TEXT) added; if it was "
    "renamed, run again with --rename projects.summary=description to keep its data."
)


@pytest.fixture
def renamed_app(head_app):
    """Models with projects.description, a database where it is called summary (and holds
    data): to autogenerate, summary was dropped and description added."""
    with head_app.app_context(), db.engine.begin() as connection:
        project(connection, description=DESCRIPTION)
        connection.exec_driver_sql("ALTER TABLE projects RENAME COLUMN description TO summary")
    return head_app


def new_revision(migrations: Path, before: set[str]) -> str:
    (new,) = set(versions(migrations.parent)) - before
    return (migrations / "versions" / new).read_text()


def test_without_a_terminal_migrate_warns_and_says_so_above_the_drop(renamed_app, migrations):
    before = versions(migrations.parent)
    result = renamed_app.test_cli_runner().invoke(args=["db", "migrate", "-m", "description"])
    assert result.exit_code == 0, result.output
    assert [line for line in result.stderr.splitlines() if "Warning" in line] == [WARNING]
    text = new_revision(migrations, before)
    drop = text.index("drop_column(")  # op.drop_column('projects', 'summary') or batch_op.…
    assert text.rindex("# Deletes the column projects.summary and all its data.", 0, drop) > 0
    assert text.rindex("`flask db migrate --rename projects.summary=description`", 0, drop) > 0


def test_rename_flag_keeps_the_data(renamed_app, migrations):
    before = versions(migrations.parent)
    args = ["db", "migrate", "-m", "description", "--rename", "projects.summary=description"]
    result = renamed_app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    assert "Warning" not in result.stderr
    text = new_revision(migrations, before)
    assert "new_column_name='description'" in text and "drop_column" not in text
    with renamed_app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            kept = connection.execute(sa.text("SELECT description FROM projects")).scalar()
    assert kept == DESCRIPTION
    assert renamed_app.test_cli_runner().invoke(args=["db", "check"]).exit_code == 0


BAD_RENAMES = [
    (
        "projects",
        "--rename 'projects': expected TABLE.COLUMN=NEW_COLUMN or OLD_TABLE=NEW_TABLE",
    ),
    ("projects.a=b.c", "--rename 'projects.a=b.c': a column stays in its table (projects)"),
    ("nosuch.a=b", "--rename nosuch.a=b: the database has no table nosuch"),
    (
        "projects.nosuch=b",
        "--rename projects.nosuch=b: the database has no column projects.nosuch",
    ),
    (
        "projects.summary=title",
        "--rename projects.summary=title: the models have no column projects.title",
    ),
    (
        "projects.name=description",
        "--rename projects.name=description: autogenerate did not see projects.name dropped "
        "and projects.description added",
    ),
    ("profiles=people", "--rename profiles=people: the models have no table people"),
]


def test_a_bad_rename_is_one_error_line_and_no_file(renamed_app, migrations):
    before = versions(migrations.parent)
    runner = renamed_app.test_cli_runner()
    for spec, message in BAD_RENAMES:
        result = runner.invoke(args=["db", "migrate", "-m", "bad", "--rename", spec])
        assert result.exit_code == 1, spec
        assert error_lines(result) == [f"Error: {message}"]
    assert versions(migrations.parent) == before


def test_on_a_terminal_migrate_asks_and_a_yes_keeps_the_data(
    renamed_app, migrations, database_url
):
    before = versions(migrations.parent)
    question = "Did you rename projects.summary to projects.description (a TEXT)? [y/N]"
    code, shown = run_in_terminal(
        "db",
        "migrate",
        "-m",
        "description",
        database_url=database_url,
        answers=[(question, "y")],
        env={"PIXCRAWLER_MIGRATIONS_DIR": str(migrations)},
    )
    assert code == 0, shown
    assert question in shown and "Warning" not in shown
    text = new_revision(migrations, before)
    assert "new_column_name='description'" in text and "drop_column" not in text


# --- a real model edit, as a developer makes it -------------------------------------------


def test_a_new_status_goes_from_the_model_file_to_the_database(scratch, database_url, backend):  # noqa: F811
    ok(run_in(scratch, "db", "upgrade", database_url=database_url))
    model = scratch / "pixcrawler" / "models" / "crawl_job.py"
    source = model.read_text()
    model.write_text(
        source.replace(
            '    CANCELLED = "cancelled"\n', '    CANCELLED = "cancelled"\n    PAUSED = "paused"\n'
        )
    )
    check = run_in(scratch, "db", "check", database_url=database_url)
    assert check.returncode == 1
    assert check.stdout.splitlines() == [
        f"{table}.status: CHECK ck_{table}_status allows 'paused' in the models, "
        "not in the database"
        for table in ("crawl_jobs", "export_jobs", "validation_jobs")
    ]
    before = versions(scratch)
    ok(run_in(scratch, "db", "migrate", "-m", "allow paused", database_url=database_url))
    (new,) = versions(scratch) - before
    assert new == f"{next_id()}_allow_paused.py"
    text = (scratch / "migrations" / "versions" / new).read_text()
    assert text.count("op.replace_check_constraint(") == 6  # three up, three down
    if backend == "sqlite":  # squawk reads the PostgreSQL SQL whatever the backend: once is enough
        lint = ok(run_in(scratch, "db", "lint", next_id(), database_url=database_url))
        assert "no violations" in lint.stdout
    ok(run_in(scratch, "db", "upgrade", database_url=database_url))
    assert ok(run_in(scratch, "db", "check", database_url=database_url)).stdout == (
        "No new upgrade operations detected.\n"
    )
    engine = sa.create_engine(normalize_database_url(database_url))
    try:
        assert accepts(engine, lambda connection: job(connection, status="paused"))
    finally:
        engine.dispose()
