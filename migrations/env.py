"""Alembic's entry point. The URL, the metadata and every option come from the PixCrawler app.

Under `flask db …` the app is already current. Under plain `alembic -c migrations/alembic.ini …`
(or a test harness) this file builds the app itself. A caller may hand over an open connection
in `config.attributes["connection"]`.
"""

from contextlib import nullcontext
from logging.config import fileConfig

from alembic import context
from flask import has_app_context

from pixcrawler.database.migration_support import run_migrations

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def app_context():
    if has_app_context():
        return nullcontext()
    from pixcrawler import create_app_or_exit

    return create_app_or_exit().app_context()


with app_context():
    run_migrations(context)
