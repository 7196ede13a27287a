"""`flask db merge`, numbered like any revision, joining every head when given none.

The rules (`merge_targets`, `next_revision_id`) are `pixcrawler.migrator.new_revisions`, which
gives plain `alembic merge` the same ones.
"""

from __future__ import annotations

from typing import Any

import click
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from flask import current_app, g

from pixcrawler.migrator.new_revisions import merge_targets, next_revision_id


def wrap(original: click.Command) -> click.Command:
    """Flask-Migrate's `merge`, with the heads as default targets and the next number as id."""

    def callback(**params: Any) -> Any:
        directory = (
            params["directory"] or g.directory or current_app.extensions["migrate"].directory
        )
        config = current_app.extensions["migrate"].migrate.get_config(directory)
        scripts = ScriptDirectory.from_config(config)
        try:
            params["revisions"] = merge_targets(scripts, params["revisions"])
        except CommandError as exc:
            raise click.ClickException(str(exc)) from None
        if not params.get("rev_id"):
            params["rev_id"] = next_revision_id(scripts)
        return original.callback(**params)

    return click.Command(
        name=original.name,
        callback=callback,
        params=original.params,
        help="Merge revisions into a new revision; with none given, all the current heads.",
    )
