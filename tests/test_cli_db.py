"""`flask db …` exactly as people type it, in a new process from the repo root (no FLASK_APP),
on SQLite and PostgreSQL; and the numbering of new revisions in a scratch copy of migrations/."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, run_flask

UNREACHABLE = "postgresql://postgres@127.0.0.1:1/nowhere"


def head() -> str:
    ids = [p.name.split("_", 1)[0] for p in (REPO_ROOT / "migrations" / "versions").glob("*.py")]
    return max(ids)


def ok(result):
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def one_error_line(result) -> str:
    """A user's mistake: non-zero exit, exactly one line on stderr that says so, no traceback."""
    assert result.returncode != 0
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
    assert result.returncode != 0
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


def test_offline_sql_for_sqlite_uses_sqlite_types(tmp_path):
    result = ok(run_flask("db", "upgrade", "001", "--sql", database_url=f"sqlite:///{tmp_path}/x"))
    assert "CREATE TABLE profiles" in result.stdout
    assert "JSONB" not in result.stdout
    assert not (tmp_path / "x").exists()  # offline: nothing touched


# --- new revisions, in a scratch copy of the project so the repository stays as it is --------


@pytest.fixture
def scratch(tmp_path):
    """A copy of the app package, migrations/ and wsgi.py; `flask` there imports the copy."""
    root = tmp_path / "project"
    root.mkdir()
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(REPO_ROOT / "pixcrawler", root / "pixcrawler", ignore=ignore)
    shutil.copytree(REPO_ROOT / "migrations", root / "migrations", ignore=ignore)
    shutil.copy(REPO_ROOT / "wsgi.py", root / "wsgi.py")
    return root


def run_in(root: Path, *args: str, database_url: str):
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_")}
    env.update(DATABASE_URL=database_url, PIXCRAWLER_ENV="testing", PYTHONPATH=str(root))
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


def test_autogenerate_after_a_model_change_gets_the_next_number(scratch, database_url, backend):
    ok(run_in(scratch, "db", "upgrade", database_url=database_url))
    model = scratch / "pixcrawler" / "models" / "project.py"
    source = model.read_text()
    model.write_text(
        source.replace(
            "    description: Mapped[str | None] = mapped_column(sa.Text)\n",
            "    description: Mapped[str | None] = mapped_column(sa.Text)\n"
            "    colour: Mapped[str | None] = mapped_column(sa.String(7))\n",
        )
    )
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
