"""Django-style management commands: every module in `pixcrawler/commands/` is a command.

Adding a command is adding a file: `commands/showmigrations.py` defines a click command named
`showmigrations` and becomes `flask showmigrations`. Modules starting with `_` are helpers.

Every command of the app, these and `flask db …`, follows README's rule for mistakes: one
`Error: …` line on stderr and exit code 1. That covers a bad option or argument (click would
print its usage and exit 2) and a database that cannot be reached or refuses a statement
(which would otherwise be a traceback), in one place instead of in every command.
"""

from __future__ import annotations

import copy
import functools
import importlib
import pkgutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import ScriptInfo

import pixcrawler.commands
from pixcrawler.commands import _db
from pixcrawler.commands._errors import CommandError
from pixcrawler.database.errors import first_line
from pixcrawler.database.urls import mask

# Names a command module may not take: Flask's own commands and Flask-Migrate's group would
# silently win or lose against it.
RESERVED = frozenset({"db", "run", "shell", "routes"})


def command_modules() -> list[str]:
    """The command names, from the file names in the commands package."""
    path = pixcrawler.commands.__path__
    return sorted(name for _, name, _ in pkgutil.iter_modules(path) if not name.startswith("_"))


def register_commands(app: Flask) -> None:
    """Adjust and extend Flask-Migrate's `flask db` group (`commands/_db/`); add each command
    module's click command to `app.cli`, named after its file; then make every command of
    `app.cli` (`flask db` too) follow the one-line error rule."""
    _db.register(app)
    for name in command_modules():
        cli_name = name.replace("_", "-")
        if cli_name in RESERVED:
            raise RuntimeError(f"pixcrawler/commands/{name}.py would shadow `flask {cli_name}`")
        module = importlib.import_module(f"pixcrawler.commands.{name}")
        command = getattr(module, "command", None)
        if not isinstance(command, click.Command):
            raise RuntimeError(f"pixcrawler/commands/{name}.py defines no click `command`")
        app.cli.add_command(command, cli_name)
    for cli_name, command in list(app.cli.commands.items()):
        app.cli.add_command(following_error_rule(command), cli_name)


class ErrorRule:
    """Mixed into a copy of a click command: its usage mistakes and database errors become
    CommandError (one line, exit 1). Usage errors surface while the parent group builds the
    command's context; database errors while it runs."""

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        with one_line_errors():
            return super().make_context(*args, **kwargs)  # type: ignore[misc]

    def invoke(self, ctx: click.Context) -> Any:
        with one_line_errors():
            return super().invoke(ctx)  # type: ignore[misc]


def following_error_rule(command: click.Command) -> click.Command:
    """A copy of `command` (and of its subcommands) that follows the rule; the original, which
    a module or Flask-Migrate shares between apps, is left as it is."""
    if isinstance(command, ErrorRule):
        return command
    ruled = copy.copy(command)
    ruled.__class__ = _ruled_class(type(command))
    if isinstance(command, click.Group):
        ruled.commands = {name: following_error_rule(c) for name, c in command.commands.items()}
    return ruled


@functools.cache
def _ruled_class(cls: type[click.Command]) -> type[click.Command]:
    return type(cls.__name__, (ErrorRule, cls), {"__doc__": cls.__doc__})


@contextmanager
def one_line_errors() -> Iterator[None]:
    try:
        yield
    except click.exceptions.NoArgsIsHelpError:
        raise  # `flask db` alone shows its help: not a mistake
    except click.UsageError as exc:
        raise CommandError(usage_message(exc)) from None
    except sa.exc.DBAPIError as exc:
        raise CommandError(f"database error on {database_target()}: {first_line(exc)}") from None


def usage_message(error: click.UsageError) -> str:
    """Click's message, with the pointer to `--help` it would have printed on its own line."""
    message = error.format_message()
    if error.ctx is None:
        return message
    if not message.endswith((".", "?", "!")):
        message += "."
    return f"{message} Try '{error.ctx.command_path} --help' for help."


def database_target() -> str:
    """The database the command used, password hidden (its app context has ended by now)."""
    context = click.get_current_context(silent=True)
    info = context.find_object(ScriptInfo) if context else None
    if info is None:
        return "the database"
    app = info.load_app()
    with app.app_context():
        url = app.extensions["sqlalchemy"].engine.url
    return mask(url.render_as_string(hide_password=False))
