"""`flask createsuperuser`: the first admin account, typed by a person or made by a script."""

from __future__ import annotations

import os

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

PASSWORD_ENVVAR = "PIXCRAWLER_SUPERUSER_PASSWORD"
EMAIL_ENVVAR = "PIXCRAWLER_SUPERUSER_EMAIL"


@click.command(
    help=f"""Create an admin account that can log into the admin UI.

    In a terminal it asks for what is missing: the email, then the password twice, hidden.
    Scripts give --email and the password on standard input (--password-stdin) or in
    {PASSWORD_ENVVAR}; the password never goes on the command line. An existing profile
    with that email is promoted to admin. Passwords are stored only as salted hashes.

    \b
    Examples:
      flask createsuperuser
      printf '%s\\n' "$PASSWORD" | flask createsuperuser --email admin@example.com --password-stdin
    """
)
@click.option(
    "--email",
    envvar=EMAIL_ENVVAR,
    show_envvar=True,
    help="The admin's email address (the login name).",
)
@click.option("--full-name", help="The name shown in the admin UI (optional).")
@password_stdin_option
@with_appcontext
def command(email: str | None, full_name: str | None, password_stdin: bool) -> None:
    if not email:
        if password_stdin or not interactive():
            raise CommandError(f"no email given: pass --email (or set {EMAIL_ENVVAR})")
        email = click.prompt("Email", err=True)
    # Refuse a bad or taken email before asking for a password.
    with unit_of_work():
        email = accounts.normalize_email(email)
        if accounts.find_account(email) is not None:
            raise accounts.AccountError(f"an admin account for {email} already exists")
    password = read_password(password_stdin)
    with unit_of_work():
        accounts.create_superuser(email, password, full_name=full_name)
    click.echo(f"Superuser {email} created.")


def read_password(password_stdin: bool) -> str:
    """--password-stdin first, then the environment, then a hidden prompt in a terminal."""
    if password_stdin:
        return password_from_stdin()
    if os.environ.get(PASSWORD_ENVVAR):
        return os.environ[PASSWORD_ENVVAR]
    if interactive():
        return prompt_password()
    raise CommandError(
        f"no password given: use --password-stdin or set {PASSWORD_ENVVAR} "
        "(or run in a terminal to be asked)"
    )
