"""What createsuperuser and changepassword share: reading a password, one unit of work."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click
import sqlalchemy as sa

from pixcrawler.commands._errors import CommandError
from pixcrawler.database.errors import first_line
from pixcrawler.database.urls import mask
from pixcrawler.extensions import db
from pixcrawler.services.accounts import AccountError

password_stdin_option = click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input (for scripts; it never "
    "appears on the command line or in the shell history).",
)


def interactive() -> bool:
    """True when a person can answer prompts (stdin is a terminal)."""
    return sys.stdin.isatty()


def password_from_stdin() -> str:
    """The first line of stdin, without its line ending; a script's way in."""
    line = sys.stdin.readline()
    password = line.rstrip("\r\n")
    if not password:
        raise CommandError("--password-stdin was given but standard input held no password")
    return password


def prompt_password() -> str:
    """Ask twice with the input hidden; a mismatch stops the command (nothing is written)."""
    password = click.prompt("Password", hide_input=True, err=True)
    again = click.prompt("Password (again)", hide_input=True, err=True)
    if password != again:
        raise CommandError("the two passwords do not match; nothing was written")
    return password


@contextmanager
def unit_of_work() -> Iterator[None]:
    """Commit once at the end; on a refused request or a database error roll back, one line."""
    try:
        yield
        db.session.commit()
    except AccountError as exc:
        db.session.rollback()
        raise CommandError(f"{exc}; nothing was written") from None
    except sa.exc.DBAPIError as exc:
        db.session.rollback()
        target = mask(db.engine.url.render_as_string(hide_password=False))
        raise CommandError(
            f"the database {target} refused the change ({first_line(exc)}); nothing was "
            "written. Is it reachable, and the schema up to date? See `flask check`."
        ) from None
