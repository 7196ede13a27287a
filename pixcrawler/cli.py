"""Django-style management commands: every module in `pixcrawler/commands/` is a command.

Adding a command is adding a file: `commands/showmigrations.py` defines a click command named
`showmigrations` and becomes `flask showmigrations`. Modules starting with `_` are helpers.
"""

from __future__ import annotations

import importlib
import pkgutil

import click
from flask import Flask

import pixcrawler.commands

# Names a command module may not take: Flask's own commands and Flask-Migrate's group would
# silently win or lose against it.
RESERVED = frozenset({"db", "run", "shell", "routes"})


class CommandError(click.ClickException):
    """A mistake the operator can fix: one line on stderr, exit code 1, no traceback."""

    def show(self, file=None) -> None:
        click.echo(f"Error: {self.format_message()}", err=True, file=file)


def command_modules() -> list[str]:
    """The command names, from the file names in the commands package."""
    path = pixcrawler.commands.__path__
    return sorted(name for _, name, _ in pkgutil.iter_modules(path) if not name.startswith("_"))


def register_commands(app: Flask) -> None:
    """Add each command module's click command to `app.cli`, named after its file."""
    for name in command_modules():
        cli_name = name.replace("_", "-")
        if cli_name in RESERVED:
            raise RuntimeError(f"pixcrawler/commands/{name}.py would shadow `flask {cli_name}`")
        module = importlib.import_module(f"pixcrawler.commands.{name}")
        command = getattr(module, "command", None)
        if not isinstance(command, click.Command):
            raise RuntimeError(f"pixcrawler/commands/{name}.py defines no click `command`")
        app.cli.add_command(command, cli_name)
