"""`flask db migrate` that asks about renames instead of dropping data, or follows `--rename`.

`--rename SPEC` becomes Alembic's `-x rename=SPEC`, which `pixcrawler.migrator.renames` reads
while autogenerate runs (so plain `alembic revision --autogenerate -x rename=…` works too). It
takes the place of Flask-Migrate's `migrate` in the `db` group, with all of its options.
"""

from __future__ import annotations

from typing import Any

import click
from alembic import command
from alembic.util import CommandError as AlembicError
from flask import g
from flask.cli import with_appcontext

from pixcrawler.commands._errors import CommandError
from pixcrawler.migrator import renames
from pixcrawler.migrator.state import app_alembic_config

rename_option = click.Option(
    ["--rename"],
    multiple=True,
    metavar="OLD=NEW",
    help="A rename, not a drop and an add: TABLE.COLUMN=NEW_COLUMN or OLD_TABLE=NEW_TABLE "
    "(repeatable). Without it, a terminal is asked.",
)


def wrap(original: click.Command) -> click.Command:
    """Flask-Migrate's `migrate` plus `--rename`; Alembic's errors as one `Error:` line."""

    def callback(rename: tuple[str, ...], **params: Any) -> None:
        try:
            for spec in rename:
                renames.parse(spec)  # a typo stops here, before anything runs
        except renames.RenameError as exc:
            raise CommandError(str(exc)) from None
        # Flask-Migrate adds the group's own -x arguments (`flask db -x … migrate`) itself.
        x_arg = [*(params.pop("x_arg") or ()), *(f"{renames.X_KEY}={s}" for s in rename)]
        directory = params.pop("directory") or g.directory
        config = app_alembic_config(directory, opts=["autogenerate"], x_arg=x_arg)
        try:
            command.revision(config, autogenerate=True, **params)
        except AlembicError as exc:
            raise CommandError(str(exc)) from None

    return click.Command(
        name=original.name,
        callback=with_appcontext(callback),
        params=[*original.params, rename_option],
        help="Autogenerate a new revision from the model changes. A column or table that looks "
        "renamed is asked about on a terminal (or given with --rename), never just dropped.",
    )
