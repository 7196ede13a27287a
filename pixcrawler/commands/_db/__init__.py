"""The `flask db` group: Flask-Migrate's subcommands, adjusted for PixCrawler, and our own.

One module per subcommand, the file name is the subcommand's name, as for the top-level
commands. A module defines either

- `command`, a click command that `flask db` gains (`lint.py` is `flask db lint`), or
- `wrap(original)`, which returns Flask-Migrate's subcommand of that name adjusted, with its
  options kept (`merge`, `downgrade`, `check`, `migrate`).

Adding a `flask db` subcommand is adding a file here (and its line of help to `_summaries`).
The modules only parse options, call `pixcrawler.migrator` and print. Each is imported only
when its subcommand runs (`_lazy`), so `flask db current` pays for none of them. The package's
name starts with `_`, so it is not taken for a top-level command;
`pixcrawler.cli.register_commands` calls `register`.
"""

from __future__ import annotations

import copy
import importlib
import pkgutil
from functools import partial

import click
from flask import Flask

from pixcrawler.commands._lazy import LazyCommand, command_of
from pixcrawler.commands._summaries import DB_COMMANDS


def subcommand_modules() -> list[str]:
    """The subcommand names, from the file names in this package."""
    return sorted(
        name for _, name, _ in pkgutil.iter_modules(__path__) if not name.startswith("_")
    )


def register(app: Flask) -> None:
    """Put this package's subcommands into the app's `db` group, each loaded when it runs."""
    group = app.cli.commands["db"]
    adjusted = copy.copy(group)  # Flask-Migrate's group object is shared; leave it untouched
    adjusted.commands = dict(group.commands)
    for name in subcommand_modules():
        original = group.commands.get(name)
        summary = DB_COMMANDS.get(name) or (original.help if original is not None else None)
        if summary:
            command: click.Command = LazyCommand(name, summary, partial(load, name, original))
        else:  # no line in _summaries yet: imported now, so the listing shows its own help
            command = load(name, original)
        adjusted.add_command(command, name)
    app.cli.add_command(adjusted, "db")


def load(name: str, original: click.Command | None) -> click.Command:
    """The subcommand of module `name`: its `command`, or Flask-Migrate's `original` wrapped."""
    module_name = f"{__name__}.{name}"
    module = importlib.import_module(module_name)
    if hasattr(module, "wrap"):  # Flask-Migrate's subcommand of that name, adjusted
        if original is None:
            raise RuntimeError(f"pixcrawler/commands/_db/{name}.py wraps no Flask-Migrate command")
        command = module.wrap(original)
        if not isinstance(command, click.Command):
            raise RuntimeError(f"pixcrawler/commands/_db/{name}.py: wrap returned no command")
        return command
    return command_of(module_name)
