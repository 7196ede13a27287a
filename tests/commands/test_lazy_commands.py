"""Command modules load when their command runs (`pixcrawler/commands/_lazy.py`), yet `flask
--help` and `flask db --help` read exactly as if every module had been imported, and a command
loaded late still follows README's one-line error rule.

Which modules a real `flask` process imports is `tests/test_cli_startup.py`.
"""

from __future__ import annotations

import copy
import sys

import click
import click.testing
import pytest
from flask.cli import FlaskGroup

from pixcrawler.cli import command_modules
from pixcrawler.commands._db import subcommand_modules
from pixcrawler.commands._lazy import LazyCommand
from pixcrawler.commands._summaries import COMMANDS, DB_COMMANDS
from tests.commands.cli_helpers import UNREACHABLE, one_error_line
from tests.conftest import make_app

# Widths at which click shortens a listed help line: its first sentence is cut at a word
# boundary to fit the terminal, or shown whole.
WIDTHS = (10, 30, 45, 60, 80, 200, 10_000)


def registered() -> list[tuple[str, click.Command]]:
    """Every command module's registered command, as `name` or `db name`."""
    app = make_app("sqlite://")
    db = app.cli.commands["db"]
    return [(name, app.cli.commands[name]) for name in command_modules()] + [
        (f"db {name}", db.commands[name]) for name in subcommand_modules()
    ]


@pytest.mark.parametrize(("path", "command"), registered(), ids=lambda v: str(v))
def test_each_listed_line_is_the_modules_own_help(path, command):
    assert isinstance(command, LazyCommand), (
        f"`flask {path}` is imported at start-up: give it its line in "
        "pixcrawler/commands/_summaries.py"
    )
    assert not command.is_loaded, f"`flask {path}` was loaded before it ran"
    real = command.load()
    assert not isinstance(real, LazyCommand)
    for width in WIDTHS:
        assert command.get_short_help_str(width) == real.get_short_help_str(width), (
            f"pixcrawler/commands/_summaries.py's line for `flask {path}` differs from its "
            f"help; it should read {real.get_short_help_str(10_000)!r}"
        )


def test_every_line_names_a_command_module():
    assert set(COMMANDS) <= set(command_modules())
    assert set(DB_COMMANDS) <= set(subcommand_modules())


def loaded_everywhere(group: click.Group) -> click.Group:
    """A copy of `group` with every lazy command replaced by the command it loads."""
    copied = copy.copy(group)
    copied.commands = {}
    for name, command in group.commands.items():
        if isinstance(command, LazyCommand):
            command = command.load()
        elif isinstance(command, click.Group):
            command = loaded_everywhere(command)
        copied.commands[name] = command
    return copied


@pytest.mark.parametrize("arguments", [["--help"], ["db", "--help"]])
def test_help_listing_reads_as_if_every_module_were_imported(arguments):
    """`flask --help` itself (Flask's FlaskGroup, which lists the app's commands), once with
    the lazy commands and once with each of them loaded: the same text, every module listed."""
    lazy = make_app("sqlite://")
    eager = make_app("sqlite://")
    eager.cli = loaded_everywhere(eager.cli)

    def listing(app) -> str:
        group = FlaskGroup(create_app=lambda: app, load_dotenv=False, add_version_option=False)
        result = click.testing.CliRunner().invoke(group, arguments, prog_name="flask")
        assert result.exit_code == 0, result.output
        return result.stdout

    text = listing(lazy)
    assert text == listing(eager)
    names = command_modules() if arguments == ["--help"] else subcommand_modules()
    listed = text.split("Commands:", 1)[1]
    for name in names:
        assert f"\n  {name} " in listed, name


def test_a_late_command_gives_one_line_for_a_usage_mistake():
    app = make_app("sqlite://")
    assert not app.cli.commands["sqlmigrate"].is_loaded
    result = app.test_cli_runner().invoke(
        args=["sqlmigrate", "001", "--dialect", "oracle"], prog_name="flask"
    )
    assert one_error_line(result) == (
        "Error: --dialect 'oracle' is not one of: postgresql, sqlite"
    )
    result = app.test_cli_runner().invoke(args=["sqlmigrate"], prog_name="flask")
    assert one_error_line(result) == (
        "Error: Missing argument 'REVISION'. Try 'flask sqlmigrate --help' for help."
    )


def test_a_late_db_subcommand_gives_one_line_for_an_unreachable_database():
    app = make_app(UNREACHABLE)
    assert not app.cli.commands["db"].commands["check"].is_loaded
    result = app.test_cli_runner().invoke(args=["db", "check"], prog_name="flask")
    line = one_error_line(result)
    assert "127.0.0.1:1/nowhere" in line and "Connection refused" in line, line


def test_a_late_command_shows_its_own_help():
    app = make_app("sqlite://")
    result = app.test_cli_runner().invoke(args=["seed", "--help"], prog_name="flask")
    assert result.exit_code == 0
    assert result.stdout.startswith("Usage: flask seed [OPTIONS]\n")
    assert "--images INTEGER RANGE" in result.stdout
    assert "Example: flask seed --images 1000000 --seed 7" in result.stdout


@pytest.fixture
def extra_commands(tmp_path, monkeypatch):
    """A second folder of command modules, as if its files were in pixcrawler/commands/."""
    import pixcrawler.commands

    monkeypatch.setattr(
        pixcrawler.commands, "__path__", [*pixcrawler.commands.__path__, str(tmp_path)]
    )
    yield tmp_path
    for name in [m for m in sys.modules if m.startswith("pixcrawler.commands.extra_")]:
        del sys.modules[name]


def test_a_new_file_is_a_command_even_before_it_has_its_line(extra_commands):
    (extra_commands / "extra_hello.py").write_text(
        'import click\n\n\n@click.command(help="Say hello. Then stop.")\n'
        'def command():\n    click.echo("hello")\n'
    )
    app = make_app("sqlite://")
    command = app.cli.commands["extra-hello"]
    assert not isinstance(command, LazyCommand)  # no line in _summaries: imported at start
    assert command.get_short_help_str() == "Say hello."
    assert app.test_cli_runner().invoke(args=["extra-hello"]).stdout == "hello\n"


def test_a_file_named_after_a_flask_command_is_refused(extra_commands):
    (extra_commands / "routes.py").write_text("")
    with pytest.raises(RuntimeError, match=r"routes\.py would shadow `flask routes`"):
        make_app("sqlite://")


def test_a_listed_module_without_a_command_fails_when_it_runs(extra_commands, monkeypatch):
    (extra_commands / "extra_empty.py").write_text('"""No command here."""\n')
    monkeypatch.setitem(COMMANDS, "extra_empty", "Nothing.")
    app = make_app("sqlite://")
    assert isinstance(app.cli.commands["extra-empty"], LazyCommand)
    result = app.test_cli_runner().invoke(args=["extra-empty"])
    assert isinstance(result.exception, RuntimeError)
    assert "pixcrawler/commands/extra_empty.py defines no click `command`" in str(result.exception)
