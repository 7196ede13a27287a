"""A click choice whose bad value is one line on stderr (click's own prints the usage too)."""

from __future__ import annotations

from typing import Any

import click

from pixcrawler.commands._errors import CommandError


class Choice(click.Choice):
    """Case-insensitive choice with aliases: `Choice({"postgres": "postgresql"}, ...)`."""

    def __init__(self, choices: list[str], aliases: dict[str, str] | None = None) -> None:
        super().__init__(choices, case_sensitive=False)
        self.aliases = {k.lower(): v for k, v in (aliases or {}).items()}

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None):
        text = str(value).strip().lower()
        text = self.aliases.get(text, text)
        if text in self.choices:
            return text
        name = param.opts[0] if param is not None and param.opts else "value"
        raise CommandError(f"{name} {value!r} is not one of: {', '.join(self.choices)}")
