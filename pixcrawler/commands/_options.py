"""Options and prompts shared by several commands (not a command: the name starts with `_`)."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from pixcrawler.commands._errors import CommandError

json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print JSON for scripts instead of text for people."
)

no_input_option = click.option(
    "--no-input",
    is_flag=True,
    help="Do not ask for confirmation; for scripts. Without it a non-interactive run refuses.",
)


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


def confirm(question: str, no_input: bool) -> None:
    """Ask before a destructive step; without a terminal, refuse unless --no-input was given."""
    if no_input:
        return
    if not sys.stdin.isatty():
        raise CommandError(f"{question} Refusing without a terminal; pass --no-input to proceed.")
    if not click.confirm(question, default=False):
        raise CommandError("cancelled; nothing was changed")
