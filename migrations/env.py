"""Alembic's entry point. The URL, the metadata and every option come from the PixCrawler app.

Under `flask db …` the app is already current. Under plain `alembic …` from the repo root (or
`alembic -c migrations/alembic.ini …`, or a test harness) this file builds the app itself. A
caller may hand over an Engine or an open Connection in `config.attributes["connection"]`.
"""

from contextlib import nullcontext
from logging.config import fileConfig
from pathlib import Path

from alembic import context
from flask import has_app_context

from pixcrawler.migrator.environment import run_migrations

# Plain `alembic` names ./alembic.ini whether or not it exists; the logging setup is then ours.
OWN_INI = Path(__file__).with_name("alembic.ini")

config = context.config
if config.attributes.get("configure_logging", True):
    has_logging = config.config_file_name and config.file_config.has_section("loggers")
    fileConfig(config.config_file_name if has_logging else OWN_INI, disable_existing_loggers=False)


def app_context():
    if has_app_context():
        return nullcontext()
    from pixcrawler import create_app_or_exit

    return create_app_or_exit().app_context()


with app_context():
    run_migrations(context)
