"""README's own command examples, read out of README.md and run on a scratch database of each
backend: the `flask db` table, the management commands table, and every `$ …` example with the
error line it shows. An example README adds, changes or drops makes this test fail until the
test knows what the example must do, so README cannot drift from the code.

Most run in-process through Flask's CLI runner; `dbshell` (which becomes its client), `shell`
(Flask's own) and `changepassword` (which asks on a terminal) run as real processes.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_migrate import downgrade, upgrade

from pixcrawler import ConfigError
from pixcrawler.extensions import db
from pixcrawler.migrator.state import migration_state
from tests import test_cli_db
from tests.commands.cli_helpers import revision_ids, run_in_terminal
from tests.conftest import REPO_ROOT, make_app, run_flask
from tests.databases import delete_all_rows, sqlite_url

README = (REPO_ROOT / "README.md").read_text("utf-8")
PASSWORD = "correct-horse-battery"  # README's "$PW"


# -- reading README -------------------------------------------------------------------------


def table_rows(header: str) -> list[list[str]]:
    """The cells of the rows of the table whose header line is `header`."""
    lines = README.splitlines()
    start = lines.index(header) + 2  # the header, then its |---| line
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        cells = re.split(r"(?<!\\)\|", line.strip())[1:-1]
        rows.append([cell.strip().replace("\\|", "|") for cell in cells])
    return rows


def examples(cell: str) -> list[str]:
    """The commands in an Example cell; a `(psql)`/`(sqlite3)` note after one is kept."""
    found = re.findall(r"`([^`]+)`(\s*\((?:psql|sqlite3)\))?", cell)
    return [command + note for command, note in found]


DB_HEADER = "| Command | `flask db` | plain `alembic`, from the repo root |"
DB_EXAMPLES = [e for row in table_rows(DB_HEADER) for e in examples(row[1])]
ALEMBIC_EXAMPLES = [e for row in table_rows(DB_HEADER) for e in examples(row[2])]
COMMAND_EXAMPLES = [
    e for row in table_rows("| Command | What it does | Example |") for e in examples(row[-1])
]
ERROR_EXAMPLES = re.findall(r"^\$ ((?:\w+=\S+ )*flask .+)\n(Error: .+)$", README, re.M)


# -- the states an example starts from ---------------------------------------------------------


def head() -> str:
    return revision_ids()[-1]


def move_to(app: Flask, revision: str) -> None:
    """Put the database at `revision` ("base": no schema) with Flask-Migrate's own functions."""
    with app.app_context():
        current = migration_state().current
        if current == ((revision,) if revision != "base" else ()):
            return
        if current:
            downgrade(revision="base")
        if revision != "base":
            upgrade(revision=revision)
        db.engine.dispose()


def rows(app: Flask, table: str) -> int:
    with app.app_context(), db.engine.connect() as connection:
        count = connection.scalar(sa.text(f"SELECT count(*) FROM {table}"))
    with app.app_context():
        db.engine.dispose()
    return count


def tables(app: Flask) -> set[str]:
    with app.app_context():
        names = set(sa.inspect(db.engine).get_table_names())
        db.engine.dispose()
    return names


def current(app: Flask) -> tuple[str, ...]:
    with app.app_context():
        found = migration_state().current
        db.engine.dispose()
    return found


def new_versions(folder: Path) -> set[str]:
    known = {f"{rev}_" for rev in revision_ids()}
    return {p.name for p in (folder / "versions").glob("*.py") if p.name[:4] not in known}


@dataclass
class Example:
    start: str = "head"  # a revision, "base", or "head"
    check: Callable[..., None] | None = None  # check(app, result, context)
    exit_code: int = 0
    backend: str | None = None  # runs only on this backend
    process: bool = False  # a real `flask` process instead of the CLI runner
    setup: Callable[..., None] | None = None  # setup(app, context) after `start`


def is_at(revision_of: Callable[[], str]):
    def check(app, result, context):
        assert current(app) == (revision_of(),), result.output

    return check


def schema_dropped(app, result, context):
    assert current(app) == ()
    assert tables(app) == {"alembic_version"}


def stamped_only(app, result, context):
    assert current(app) == (head(),)
    assert tables(app) == {"alembic_version"}  # nothing ran: stamping only records


def nothing_written(app, result, context):
    assert new_versions(context["migrations"]) == set()


def revision_written(app, result, context):
    expected = f"{int(head()) + 1:03d}_description_of_changes.py"
    assert new_versions(context["migrations"]) == {expected}


def add_side_branch(app, context):
    result = app.test_cli_runner().invoke(
        args=["db", "revision", "-m", "side", "--head", revision_ids()[0], "--splice"]
    )
    assert result.exit_code == 0, result.output


def heads_merged(app, result, context):
    written = new_versions(context["migrations"])
    merge = [name for name in written if name.endswith("_merge_branches.py")]
    assert len(written) == 2 and len(merge) == 1
    with app.app_context():
        assert len(migration_state().heads) == 1


def sql_printed_nothing_run(app, result, context):
    assert current(app) == ()  # offline: the database is left alone


def sql_of_004_for_sqlite(app, result, context):
    """004's batch operation, rendered offline: the new copy of profiles, filled from the old."""
    assert "CREATE TABLE _alembic_tmp_profiles" in result.stdout
    assert "INSERT INTO _alembic_tmp_profiles" in result.stdout
    assert "ALTER TABLE _alembic_tmp_profiles RENAME TO profiles" in result.stdout


def impact_of_pending(app, result, context):
    """At 003: 004 onwards, each with its table and its verdict (README, "What a revision will
    do")."""
    later = revision_ids()[3:]
    headers = [
        line.split()[0] for line in result.stdout.splitlines() if re.match(r"\d{3}  ", line)
    ]
    assert headers == later, result.stdout
    verdicts = [line for line in result.stdout.splitlines() if line.startswith("  verdict: ")]
    assert len(verdicts) == len(later)


def impact_json_of_pending(app, result, context):
    body = json.loads(result.stdout)
    assert [r["id"] for r in body["revisions"]] == revision_ids()[3:]


def deploy_findings(app, result, context):
    findings = json.loads(result.stdout)  # the testing config fails the production checks
    assert {"security.E002", "config.W001"} <= {f["id"] for f in findings}


def superuser_created(app, result, context):
    assert rows(app, "admin_accounts") == 1


def add_superuser(app, context):
    runner = app.test_cli_runner()
    args = ["createsuperuser", "--email", "admin@example.com", "--password-stdin"]
    assert runner.invoke(args=args, input=PASSWORD + "\n").exit_code == 0


def answers_zero(app, result, context):
    assert "0" in [line.strip() for line in result.stdout.splitlines()], result.stdout


def shell_has_db(app, result, context):
    assert "<SQLAlchemy" in result.stdout


def seed_small(app, context):
    result = app.test_cli_runner().invoke(args=["seed", "--images", "20"])
    assert result.exit_code == 0, result.output


def fixture_written(app, result, context):
    lines = (context["cwd"] / "fixtures.jsonl").read_text("utf-8").splitlines()
    assert {json.loads(line)["table"] for line in lines} == {"profiles", "projects"}


def write_fixture_then_flush(app, context):
    seed_small(app, context)
    runner = app.test_cli_runner()
    args = ["dumpdata", "profiles", "projects", "-o", "fixtures.jsonl"]
    assert runner.invoke(args=args).exit_code == 0
    context["profiles"] = rows(app, "profiles")
    assert runner.invoke(args=["flush", "--no-input"]).exit_code == 0


def fixture_loaded(app, result, context):
    assert rows(app, "profiles") == context["profiles"] > 0


def seeded(app, result, context):
    assert rows(app, "images") == 10_000


def flushed(app, result, context):
    assert rows(app, "profiles") == rows(app, "images") == 0
    assert current(app) == (head(),)


DB_TABLE = {
    "flask db upgrade": Example("base", is_at(head)),
    "flask db upgrade +2": Example("base", is_at(lambda: revision_ids()[1])),
    "flask db upgrade 001": Example("base", is_at(lambda: "001")),
    "flask db downgrade -1": Example("head", is_at(lambda: revision_ids()[-2])),
    "flask db downgrade 001": Example("head", is_at(lambda: "001")),
    "flask db downgrade base": Example("head", schema_dropped),
    "flask db current": Example("head"),
    "flask db history": Example("head"),
    "flask db history --verbose": Example("head"),
    "flask db heads": Example("head"),
    "flask db show 001": Example("head"),
    "flask db stamp head": Example("base", stamped_only),
    "flask db check": Example("head"),
    'flask db migrate -m "Description of changes"': Example("head", nothing_written),
    'flask db revision -m "Description of changes"': Example("head", revision_written),
    'flask db merge -m "Merge branches"': Example("head", heads_merged, setup=add_side_branch),
    "flask db upgrade --sql": Example("base", sql_printed_nothing_run),
    "flask db lint": Example("head"),
    "flask db impact": Example("003", impact_of_pending),
    "flask db impact --json --fail-on blocking": Example("003", impact_json_of_pending),
}

# The plain `alembic` column runs as real processes from the repository root, which
# tests/test_cli_db.py does (revisions and merges in a scratch copy of the project, so that
# nothing is written into migrations/): each example names the test that runs it as typed.
ALEMBIC_TABLE = {
    "alembic upgrade head": "test_the_readme_alembic_commands_as_typed",
    "alembic upgrade +2": "test_the_readme_alembic_commands_as_typed",
    "alembic upgrade 001": "test_the_readme_alembic_commands_as_typed",
    "alembic downgrade -1": "test_the_readme_alembic_commands_as_typed",
    "alembic downgrade 001": "test_the_readme_alembic_commands_as_typed",
    "alembic downgrade base": "test_the_readme_alembic_commands_as_typed",
    "alembic current": "test_the_readme_alembic_commands_as_typed",
    "alembic history": "test_the_readme_alembic_commands_as_typed",
    "alembic history --verbose": "test_the_readme_alembic_commands_as_typed",
    "alembic heads": "test_the_readme_alembic_commands_as_typed",
    "alembic show 001": "test_the_readme_alembic_commands_as_typed",
    "alembic stamp head": "test_the_readme_alembic_commands_as_typed",
    "alembic check": "test_the_readme_alembic_commands_as_typed",
    'alembic revision --autogenerate -m "Description of changes"': (
        "test_plain_alembic_revisions_and_merges_are_numbered_like_flask_db"
    ),
    'alembic revision -m "Description of changes"': (
        "test_plain_alembic_revisions_and_merges_are_numbered_like_flask_db"
    ),
    'alembic merge heads -m "Merge branches"': (
        "test_plain_alembic_revisions_and_merges_are_numbered_like_flask_db"
    ),
    "alembic upgrade head --sql": (
        "test_offline_sql_on_the_sqlite_default_renders_the_whole_chain_and_runs"
    ),
}

COMMANDS_TABLE = {
    "flask showmigrations --plan": Example("001"),
    "flask sqlmigrate 004 --dialect sqlite": Example("base", sql_of_004_for_sqlite),
    "flask check --deploy --json": Example("head", deploy_findings, exit_code=1),
    "printf '%s\\n' \"$PW\" | flask createsuperuser --email admin@example.com --password-stdin": (
        Example("head", superuser_created)
    ),
    "flask changepassword admin@example.com": Example("head", setup=add_superuser, process=True),
    "flask dbshell -- -c 'SELECT count(*) FROM images' (psql)": Example(
        "head", answers_zero, backend="postgresql", process=True
    ),
    "flask dbshell -- 'SELECT count(*) FROM images' (sqlite3)": Example(
        "head", answers_zero, backend="sqlite", process=True
    ),
    "flask shell": Example("head", shell_has_db, process=True),
    "flask dumpdata profiles projects -o fixtures.jsonl": Example(
        "head", fixture_written, setup=seed_small
    ),
    "flask loaddata fixtures.jsonl": Example(
        "head", fixture_loaded, setup=write_fixture_then_flush
    ),
    "flask seed --images 10000": Example("head", seeded),
    "flask flush --no-input": Example("head", flushed, setup=seed_small),
}


# -- the tests ----------------------------------------------------------------------------------


def test_every_example_in_readme_is_known_here():
    assert list(DB_TABLE) == DB_EXAMPLES
    assert list(ALEMBIC_TABLE) == ALEMBIC_EXAMPLES
    assert all(hasattr(test_cli_db, name) for name in ALEMBIC_TABLE.values())
    assert list(COMMANDS_TABLE) == COMMAND_EXAMPLES


def test_the_revision_table_lists_the_revisions_and_the_next_number():
    listed = [
        re.match(r"`(\w+)`", row[0]).group(1) for row in table_rows("| Revision | What it does |")
    ]
    assert listed == revision_ids()
    next_number = re.search(r"next number: `(\d+)_description_of_changes\.py`", README).group(1)
    assert int(next_number) == int(head()) + 1


@pytest.fixture(scope="module")
def readme_database(backend, request, tmp_path_factory):
    """One scratch database per backend for all the examples; each moves it where it starts."""
    if backend == "sqlite":
        yield sqlite_url(tmp_path_factory.mktemp("readme"))
        return
    scratch = request.getfixturevalue("postgres")
    url = scratch.create()
    yield url
    scratch.drop(url)


@pytest.fixture
def readme_app(readme_database, tmp_path, monkeypatch):
    """An app on that database, with a scratch migrations/ and working directory; the rows an
    example added are deleted afterwards."""
    migrations = tmp_path / "migrations"
    shutil.copytree(
        REPO_ROOT / "migrations", migrations, ignore=shutil.ignore_patterns("__pycache__")
    )
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    app = make_app(readme_database, MIGRATIONS_DIR=str(migrations))
    yield app, {"migrations": migrations, "cwd": cwd, "url": readme_database}
    with app.app_context():
        db.session.remove()
        every_table = {t.name for t in db.metadata.sorted_tables} | {"alembic_version"}
        if migration_state().current == (head(),) and tables(app) == every_table:
            delete_all_rows(db.engine, db.metadata)
        else:  # anything else (stamped, part-way): start the next example from nothing
            with db.engine.begin() as connection:
                found = sa.MetaData()
                found.reflect(connection)
                found.drop_all(connection)
        db.engine.dispose()


def example_params() -> list:
    """Every example; one README gives for a single backend runs only there."""
    found = {**DB_TABLE, **COMMANDS_TABLE}
    return [
        pytest.param(command, marks=[pytest.mark.only_backend(e.backend)] if e.backend else [])
        for command, e in found.items()
    ]


@pytest.mark.parametrize("command", example_params())
def test_readme_example_runs(command, readme_app):
    example = DB_TABLE.get(command) or COMMANDS_TABLE[command]
    app, context = readme_app
    move_to(app, head() if example.start == "head" else example.start)
    if example.setup:
        example.setup(app, context)
    command_line = re.sub(r" \((psql|sqlite3)\)$", "", command)
    stdin = None
    if command_line.startswith("printf '%s\\n' \"$PW\" | "):
        stdin = PASSWORD + "\n"
        command_line = command_line.split(" | ", 1)[1]
    words = shlex.split(command_line)
    assert words[0] == "flask"
    if example.process:
        result = run_real(words[1:], app, context)
    else:
        result = app.test_cli_runner().invoke(args=words[1:], input=stdin)
    code = getattr(result, "exit_code", getattr(result, "returncode", None))
    assert code == example.exit_code, result.output if hasattr(result, "output") else result
    if example.check:
        example.check(app, result, context)


@dataclass
class ProcessResult:
    returncode: int
    stdout: str
    output: str


def run_real(arguments: list[str], app: Flask, context) -> ProcessResult:
    url = context["url"]
    if arguments[0] == "changepassword":
        new = "another-long-password"
        code, shown = run_in_terminal(
            *arguments,
            database_url=url,
            answers=[("Password: ", new), ("Password (again): ", new)],
        )
        assert "Password changed for admin@example.com." in shown
        return ProcessResult(code, shown, shown)
    stdin = "print(db)\n" if arguments == ["shell"] else ""
    done = run_flask(*arguments, database_url=url, stdin=stdin)
    return ProcessResult(done.returncode, done.stdout, done.stdout + done.stderr)


@pytest.mark.parametrize(("command", "line"), ERROR_EXAMPLES)
def test_readme_error_examples_print_the_line_readme_shows(command, line, monkeypatch):
    words = shlex.split(command)
    at = words.index("flask")
    for assignment in words[:at]:
        name, value = assignment.split("=", 1)
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PIXCRAWLER_ENV", "testing")
    monkeypatch.delenv("FLASK_APP", raising=False)
    from pixcrawler import create_app

    try:
        app = create_app()
    except ConfigError as exc:  # what wsgi.py prints for `flask` (tests/test_env_settings.py)
        assert f"Error: {exc}" == line
        return
    result = app.test_cli_runner().invoke(args=words[at + 1 :], prog_name="flask")
    assert result.exit_code == 1
    assert result.stderr == line + "\n"


def test_env_example_lists_every_variable_readme_names():
    """README: "`.env.example` lists every variable"."""
    env_example = (REPO_ROOT / ".env.example").read_text("utf-8")
    listed = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", env_example, re.M))
    named = set(re.findall(r"\b(PIXCRAWLER_[A-Z][A-Z0-9_]*[A-Z0-9])\b", README))
    named |= {"DATABASE_URL", "SECRET_KEY", "TEST_DATABASE_URL"}
    keys = table_rows("| Config key (environment: `PIXCRAWLER_<KEY>`) | Default | Meaning |")
    named |= {"PIXCRAWLER_" + row[0].strip("`") for row in keys}
    assert named <= listed, sorted(named - listed)
