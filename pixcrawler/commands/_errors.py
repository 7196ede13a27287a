"""`CommandError`: the mistake an operator can fix, as one `Error: …` line and exit code 1.

It lives here, at the bottom of the commands package, so that a command never imports
`pixcrawler.cli`, the module that discovers the commands (and turns usage and database errors
into this same error for every command).
"""

from __future__ import annotations

import click


class CommandError(click.ClickException):
    """A mistake the operator can fix: one line on stderr, exit code 1, no traceback."""

    def show(self, file=None) -> None:
        click.echo(f"Error: {self.format_message()}", err=True, file=file)
