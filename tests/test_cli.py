"""README's rule for every command of the app, walked from `app.cli` itself: a mistake is one
`Error: …` line on stderr and exit 1. A database that cannot be reached (a closed port, a
missing database, a SQLite file in a missing folder) included, with its password hidden; a
bad option or a missing argument included. A command added later joins the walk, and the test
fails until it says how to call it."""

from __future__ import annotations

import shutil

import click
import pytest

from pixcrawler.cli import ErrorRule
from pixcrawler.commands._lazy import LazyCommand
from tests.commands.cli_helpers import one_error_line
from tests.conftest import REPO_ROOT, make_app, run_flask

PASSWORD = "s3cret-pw"
NEEDS_DATABASE = True

# How to call each command so that it gets past its arguments; whether it needs the database
# (then its one line must name it); what it reads on stdin.
INVOCATIONS: dict[str, tuple[list[str], bool, str | None]] = {
    "changepassword": (
        ["admin@example.com", "--password-stdin"],
        NEEDS_DATABASE,
        "pw-1234567890\n",
    ),
    "check": ([], NEEDS_DATABASE, None),
    "createsuperuser": (
        ["--email", "admin@example.com", "--password-stdin"],
        NEEDS_DATABASE,
        "pw-1234567890\n",
    ),
    "db branches": ([], False, None),
    "db check": ([], NEEDS_DATABASE, None),
    "db current": ([], NEEDS_DATABASE, None),
    "db downgrade": (["-1"], NEEDS_DATABASE, None),
    "db edit": (["head"], False, None),
    "db heads": ([], False, None),
    "db history": (["--indicate-current"], NEEDS_DATABASE, None),
    "db init": (["-d", "{tmp}/new-migrations"], False, None),
    "db impact": ([], False, None),  # without a database: PostgreSQL's rules, sizes unknown
    "db lint": (["001"], False, None),
    "db list-templates": ([], False, None),
    "db merge": (["heads", "-m", "merge"], NEEDS_DATABASE, None),
    "db migrate": (["-m", "add x"], NEEDS_DATABASE, None),
    "db revision": (["-m", "backfill x"], NEEDS_DATABASE, None),
    "db show": (["001"], False, None),
    "db stamp": (["head"], NEEDS_DATABASE, None),
    "db upgrade": ([], NEEDS_DATABASE, None),
    "dbshell": ([], NEEDS_DATABASE, None),
    "dumpdata": ([], NEEDS_DATABASE, None),
    "flush": (["--no-input"], NEEDS_DATABASE, None),
    "loaddata": (["{tmp}/fixture.jsonl"], NEEDS_DATABASE, None),
    "seed": (["--images", "10"], NEEDS_DATABASE, None),
    "showmigrations": ([], NEEDS_DATABASE, None),
    "sqlmigrate": (["001"], False, None),
}
# The same command again with other options that take another path through it.
MORE = [("dumpdata", ["-o", "{tmp}/out.jsonl"]), ("showmigrations", ["--plan"])]


def command_paths(group: click.Group, prefix: str = "") -> list[str]:
    paths = []
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            paths += command_paths(command, f"{prefix}{name} ")
        else:
            paths.append(f"{prefix}{name}")
    return paths


@pytest.fixture
def scratch_migrations(tmp_path):
    """A copy of migrations/: `db revision`, `merge` and `edit` must never touch the real one."""
    folder = tmp_path / "migrations"
    shutil.copytree(REPO_ROOT / "migrations", folder, ignore=shutil.ignore_patterns("__pycache__"))
    return folder


def test_every_command_is_walked():
    app = make_app("sqlite://")
    assert command_paths(app.cli) == sorted(INVOCATIONS)
    for path in INVOCATIONS:
        command = app.cli
        for name in path.split():
            command = command.commands[name]
        if isinstance(command, LazyCommand):  # the rule holds for what runs: the loaded command
            command = command.load()
        assert isinstance(command, ErrorRule), path


@pytest.fixture(
    params=["closed port", "missing database", "missing folder"],
)
def unreachable(request, tmp_path):
    """A database URL that cannot be opened, with a password in it; and what the line shows."""
    if request.param == "closed port":
        return f"postgresql://pix:{PASSWORD}@127.0.0.1:1/nowhere", "pix:***@127.0.0.1:1/nowhere"
    if request.param == "missing folder":
        path = tmp_path / "no-such-folder" / "app.sqlite3"
        return f"sqlite:///{path}", str(path)
    request.applymarker(pytest.mark.postgresql)
    server = request.getfixturevalue("postgres").server_url
    url = server.set(database="pixcrawler_test_never_created", password=PASSWORD)
    return url.render_as_string(hide_password=False), "/pixcrawler_test_never_created"


@pytest.mark.parametrize(("path", "extra"), [(path, None) for path in sorted(INVOCATIONS)] + MORE)
def test_an_unreachable_database_is_one_line(
    path, extra, unreachable, scratch_migrations, tmp_path, monkeypatch
):
    url, shown = unreachable
    arguments, needs_database, stdin = INVOCATIONS[path]
    arguments = [a.replace("{tmp}", str(tmp_path)) for a in (extra or arguments)]
    (tmp_path / "fixture.jsonl").write_text('{"table": "profiles", "row": {"id": 1}}\n')
    monkeypatch.setenv("EDITOR", "true")  # `db edit` opens it
    monkeypatch.setenv("VISUAL", "true")
    monkeypatch.setattr("os.execvpe", refuse_exec)  # `dbshell` must stop before the client
    if path == "db merge":  # with one head it refuses before any database: give it two
        (scratch_migrations / "versions" / "900_side.py").write_text(
            '"""side"""\nrevision = "900"\ndown_revision = "001"\nbranch_labels = None\n'
            "depends_on = None\n\n\ndef upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n"
        )
    app = make_app(url, MIGRATIONS_DIR=str(scratch_migrations))
    result = app.test_cli_runner().invoke(args=[*path.split(), *arguments], input=stdin)
    assert "Traceback" not in result.output
    if not needs_database:
        assert result.exit_code == 0, result.output
        return
    assert result.exit_code == 1, result.output
    if path == "check":  # its findings are its report, on stdout
        assert "ERROR database.E001" in result.stdout and shown in result.stdout
        assert PASSWORD not in result.stdout
        return
    line = one_error_line(result)
    assert shown in line
    assert PASSWORD not in result.output


def refuse_exec(*args):
    raise AssertionError(f"dbshell started {args[0]} on a database that does not answer")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ["seed", "--images", "-1"],
            "Invalid value for '--images': -1 is not in the range x>=0. "
            "Try 'flask seed --help' for help.",
        ),
        (["loaddata"], "Missing argument 'FILE...'. Try 'flask loaddata --help' for help."),
        (["check", "--nope"], "No such option '--nope'. Try 'flask check --help' for help."),
        (
            ["db", "upgrade", "001", "002"],
            "Got unexpected extra argument (002). Try 'flask db upgrade --help' for help.",
        ),
        (["db", "nosuch"], "No such command 'nosuch'. Try 'flask db --help' for help."),
    ],
)
def test_a_usage_mistake_is_one_line_and_exit_1(arguments, message):
    app = make_app("sqlite://")
    result = app.test_cli_runner().invoke(args=arguments, prog_name="flask")
    assert result.exit_code == 1
    assert result.stderr == f"Error: {message}\n"
    assert result.stdout == ""


def test_as_typed_a_usage_mistake_is_one_line_and_exit_1(tmp_path):
    result = run_flask("seed", "--profiles", "many", database_url=f"sqlite:///{tmp_path}/x.db")
    assert result.returncode == 1
    assert result.stderr == (
        "Error: Invalid value for '--profiles': 'many' is not a valid integer range. "
        "Try 'python -m flask seed --help' for help.\n"
    )


def test_flask_itself_keeps_clicks_usage_for_an_unknown_command(tmp_path):
    result = run_flask("nosuch", database_url=f"sqlite:///{tmp_path}/x.db")
    assert result.returncode == 2
    assert "Usage: python -m flask" in result.stderr
    assert "Error: No such command 'nosuch'." in result.stderr
