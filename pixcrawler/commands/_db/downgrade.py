"""`flask db downgrade`, which asks first in production: `downgrade base` drops every table.

Also lets a relative revision be typed as people type it (`flask db downgrade -1`).
"""

from __future__ import annotations

import sys
from typing import Any

import click
from flask import current_app

from pixcrawler.database.urls import mask


def wrap(original: click.Command) -> click.Command:
    """Flask-Migrate's `downgrade` plus `--yes`; `--sql` only prints, so it never asks."""

    def callback(yes: bool, **params: Any) -> Any:
        if not params.get("sql"):  # --sql only prints
            confirm_downgrade(params["revision"], yes)
        return original.callback(**params)

    yes = click.Option(
        ["--yes"],
        is_flag=True,
        help="Downgrade a production database without asking (PIXCRAWLER_ALLOW_DOWNGRADE=1 too).",
    )
    return click.Command(
        name=original.name,
        callback=callback,
        params=[*original.params, yes],
        help=original.help,
        # Otherwise click reads the relative revision "-1" as an unknown option.
        context_settings={**original.context_settings, "ignore_unknown_options": True},
    )


def confirm_downgrade(revision: str, yes: bool) -> None:
    """In the production config, ask on a terminal; without one, refuse unless told to go on."""
    config = current_app.config
    if config["ENV_NAME"] != "production" or yes or config.get("ALLOW_DOWNGRADE"):
        return
    target = mask(current_app.extensions["migrate"].db.engine.url.render_as_string(False))
    question = (
        f"Downgrade the production database {target} to {revision}? "
        "Downgrades drop tables and columns, and their data."
    )
    if not sys.stdin.isatty():
        raise click.ClickException(
            f"refusing to downgrade the production database {target} without confirmation: "
            "run it in a terminal, or pass --yes (or set PIXCRAWLER_ALLOW_DOWNGRADE=1)"
        )
    if not click.confirm(question, default=False):
        raise click.ClickException("downgrade cancelled; nothing was changed")
