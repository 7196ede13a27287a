"""Scratch databases for tests: a temporary SQLite file, or a new PostgreSQL database.

Every database made here is dropped again; names start with `pixcrawler_test_` so a crashed
run's leftovers are easy to spot.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import sqlalchemy as sa

from pixcrawler.database.urls import normalize_database_url
from tests.skips import skip_unless_ci

PREFIX = "pixcrawler_test_"


def postgres_server_url() -> str:
    """TEST_DATABASE_URL, checked to answer; a skip on a laptop, a failure under CI=true."""
    raw = os.environ.get("TEST_DATABASE_URL")
    if not raw:
        _unavailable("TEST_DATABASE_URL is not set")
    url = normalize_database_url(raw)
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        _unavailable(f"PostgreSQL at TEST_DATABASE_URL does not answer: {exc.orig}")
    finally:
        engine.dispose()
    return url


def _unavailable(reason: str):
    skip_unless_ci("PostgreSQL", reason)


class PostgresScratch:
    """Creates and drops whole databases on the server named by TEST_DATABASE_URL."""

    def __init__(self, server_url: str):
        self.server_url = sa.engine.make_url(server_url)
        self.admin = sa.create_engine(self.server_url, isolation_level="AUTOCOMMIT")
        self.created: list[str] = []

    def create(self, template: str | None = None) -> str:
        """A new database; a copy of the database at URL `template` when given (nobody may
        be connected to that one), which is much faster than migrating another."""
        name = f"{PREFIX}{uuid.uuid4().hex[:12]}"
        copy = f' TEMPLATE "{sa.engine.make_url(template).database}"' if template else ""
        with self.admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"{copy}')
        self.created.append(name)
        return self.server_url.set(database=name).render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        name = sa.engine.make_url(url).database
        with self.admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.created.remove(name)

    def close(self) -> None:
        for name in list(self.created):
            with self.admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.admin.dispose()


def sqlite_url(folder: Path, name: str = "test.sqlite3") -> str:
    return f"sqlite:///{folder / name}"


def delete_all_rows(engine: sa.Engine, metadata: sa.MetaData) -> None:
    """Empty every model table, children first, leaving the schema and alembic_version."""
    with engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(table.delete())
