"""Every management command of issue 3 is discovered from its file, and its `--help` has an
example and a description of every option."""

from __future__ import annotations

import click
import pytest

from pixcrawler.commands._lazy import LazyCommand
from tests.commands.cli_helpers import ok, run_plain_flask
from tests.conftest import make_app

COMMANDS = [
    "showmigrations",
    "sqlmigrate",
    "check",
    "createsuperuser",
    "changepassword",
    "dbshell",
]


@pytest.fixture(scope="module")
def cli():
    app = make_app("sqlite://")
    return app, app.cli


@pytest.mark.parametrize("name", COMMANDS)
def test_help_has_an_example_and_every_option_is_described(cli, name):
    app, group = cli
    with app.app_context():
        command = group.get_command(click.Context(group), name)
    assert command is not None, f"flask {name} is not registered"
    if isinstance(command, LazyCommand):  # its options are the module's command's
        command = command.load()
    options = [p for p in command.params if isinstance(p, click.Option)]
    assert all(option.help for option in options), [o.name for o in options if not o.help]
    result = ok(app.test_cli_runner().invoke(args=[name, "--help"]))
    assert "Example" in result.stdout
    assert f"flask {name}" in result.stdout.split("Example", 1)[1]


def test_flask_help_lists_them_as_typed():
    listing = ok(run_plain_flask("--help")).stdout
    for name in COMMANDS:
        assert f"  {name} " in listing
