"""pytest-alembic's built-in tests, on SQLite and PostgreSQL, with this app's engine and config.

pytest-alembic binds them to tests/conftest.py by itself, and that collector fails under pytest
9; pyproject.toml points it at a path that is never collected, and this module runs the five
tests instead (the way its documentation shows for a project without `--test-alembic`). They
reach env.py as the cookbook recipe does: the engine in `config.attributes["connection"]`.
"""

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask
from pytest_alembic import Config, MigrationContext
from pytest_alembic import tests as builtin
from pytest_alembic.tests import experimental

from pixcrawler.extensions import db
from pixcrawler.migrator.state import app_alembic_config


@pytest.fixture
def alembic_engine(app: Flask) -> Iterator[sa.Engine]:
    """The app's own engine (with its SQLite hooks), inside the app context env.py runs in."""
    with app.app_context():
        yield db.engine


@pytest.fixture
def alembic_config(app: Flask) -> Config:
    """The app's own Alembic config: migrations/alembic.ini and pyproject's [tool.alembic]."""
    with app.app_context():
        config = app_alembic_config()
    config.attributes["configure_logging"] = False  # leave pytest's log capture alone
    return Config(alembic_config=config)


def test_single_head_revision(alembic_runner: MigrationContext):
    builtin.test_single_head_revision(alembic_runner)


def test_upgrade(alembic_runner: MigrationContext):
    builtin.test_upgrade(alembic_runner)


def test_model_definitions_match_ddl(alembic_runner: MigrationContext):
    builtin.test_model_definitions_match_ddl(alembic_runner)


def test_up_down_consistency(alembic_runner: MigrationContext):
    builtin.test_up_down_consistency(alembic_runner)


def test_downgrade_leaves_no_trace(alembic_runner: MigrationContext):
    experimental.test_downgrade_leaves_no_trace(alembic_runner)
