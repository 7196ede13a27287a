"""Commands that cost nothing until they run.

`flask` lists every command with its one-line help, but runs only one. So each command of ours
is registered as a `LazyCommand`: a name and the line from `_summaries`, standing in for the
click command of its module. The module is imported when that command is typed (or its
`--help`), not when `flask` starts: `flask db current` never imports what `flask seed` needs.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import click


class LazyCommand(click.Command):
    """A command known by its name and one-line help until click parses its arguments; from
    then on everything (options, `--help`, errors, the run) is the loaded command's."""

    def __init__(self, name: str, summary: str, load: Callable[[], click.Command]) -> None:
        super().__init__(name, help=summary)
        self._load = load
        self._loaded: click.Command | None = None

    def load(self) -> click.Command:
        """The real command, imported on first use."""
        if self._loaded is None:
            self._loaded = self._load()
        return self._loaded

    @property
    def is_loaded(self) -> bool:
        return self._loaded is not None

    def then(self, adjust: Callable[[click.Command], click.Command]) -> LazyCommand:
        """The same lazy command, whose real command goes through `adjust` once loaded."""
        return LazyCommand(self.name, self.help, lambda: adjust(self.load()))

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra
    ) -> click.Context:
        # A group runs `sub_ctx.command.invoke`: the real command, from here on.
        return self.load().make_context(info_name, args, parent=parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        return self.load().invoke(ctx)


def command_of(module_name: str) -> click.Command:
    """Import a command module and return the click `command` it defines."""
    module = importlib.import_module(module_name)
    command = getattr(module, "command", None)
    if not isinstance(command, click.Command):
        path = module_name.replace(".", "/")
        raise RuntimeError(f"{path}.py defines no click `command`")
    return command
