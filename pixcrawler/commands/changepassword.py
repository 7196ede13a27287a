"""`flask changepassword EMAIL`: set a new password for an admin account and unlock it."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from pixcrawler.commands._accounts import (
    interactive,
    password_from_stdin,
    password_stdin_option,
    prompt_password,
    unit_of_work,
)
from pixcrawler.commands._errors import CommandError
from pixcrawler.services import accounts


@click.command(
    help="""Set a new password for the admin account EMAIL; this also clears a login lockout.

    In a terminal it asks for the new password twice, hidden; scripts pass it on standard
    input with --password-stdin. (The createsuperuser environment variable is not read here,
    so a forgotten variable can never set a password unasked.)

    \b
    Examples:
      flask changepassword admin@example.com
      printf '%s\\n' "$PASSWORD" | flask changepassword admin@example.com --password-stdin
    """
)
@click.argument("email")
@password_stdin_option
@with_appcontext
def command(email: str, password_stdin: bool) -> None:
    # Look the account up before asking for a password nobody could use.
    with unit_of_work():
        email = accounts.normalize_email(email)
        if accounts.find_account(email) is None:
            raise accounts.AccountError(f"no admin account for {email}")
    if password_stdin:
        password = password_from_stdin()
    elif interactive():
        password = prompt_password()
    else:
        raise CommandError("no password given: use --password-stdin, or run in a terminal")
    with unit_of_work():
        accounts.change_password(email, password)
    click.echo(f"Password changed for {email}.")
