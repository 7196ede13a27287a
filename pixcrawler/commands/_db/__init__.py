"""The `flask db` group: Flask-Migrate's subcommands, adjusted for PixCrawler, and our own.

One module per subcommand, the file name is the subcommand's name, as for the top-level
commands. A module defines either

- `command`, a click command that `flask db` gains (`lint.py` is `flask db lint`), or
- `wrap(original)`, which returns Flask-Migrate's subcommand of that name adjusted, with its
  options kept (`merge`, `downgrade`, `check`, `migrate`).

Adding a `flask db` subcommand is adding a file here. The modules only parse options, call
`pixcrawler.migrator` and print. The package's name starts with `_`, so it is not taken for a
top-level command; `pixcrawler.cli.register_commands` calls `register`.
"""

from __future__ import annotations

import copy
import importlib
import pkgutil

import click
from flask import Flask


def subcommand_modules() -> list[str]:
    """The subcommand names, from the file names in this package."""
    return sorted(
        name for _, name, _ in pkgutil.iter_modules(__path__) if not name.startswith("_")
    )


def register(app: Flask) -> None:
    """Put this package's subcommands into the app's `db` group."""
    group = app.cli.commands["db"]
    adjusted = copy.copy(group)  # Flask-Migrate's group object is shared; leave it untouched
    adjusted.commands = dict(group.commands)
    for name in subcommand_modules():
        module = importlib.import_module(f"{__name__}.{name}")
        if hasattr(module, "wrap"):  # Flask-Migrate's subcommand of that name, adjusted
            command = module.wrap(group.commands[name])
        else:
            command = getattr(module, "command", None)
        if not isinstance(command, click.Command):
            raise RuntimeError(f"pixcrawler/commands/_db/{name}.py defines no `command` or `wrap`")
        adjusted.add_command(command, name)
    app.cli.add_command(adjusted, "db")
