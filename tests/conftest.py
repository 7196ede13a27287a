"""Fixtures shared by every test: a backend, a scratch database on it, an app, the CLI.

Tests that take `database_url` (or `app`) run once on SQLite and once on PostgreSQL. Each gets a
database of its own: an empty one (`database_url`, `app`), or a clean one at head
(`migrated_app`, emptied after every test).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import upgrade

from pixcrawler import create_app
from pixcrawler.extensions import db
from tests.databases import PostgresScratch, delete_all_rows, postgres_server_url, sqlite_url

REPO_ROOT = Path(__file__).resolve().parent.parent

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "only_backend(name): run only with that backend (others are deselected)"
    )


def pytest_collection_modifyitems(config, items):
    """Drop the other backends' runs of backend-specific tests instead of skipping them."""
    keep, drop = [], []
    for item in items:
        marker = item.get_closest_marker("only_backend")
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("backend") if callspec else None
        wrong = marker and backend is not None and backend != marker.args[0]
        (drop if wrong else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresScratch]:
    scratch = PostgresScratch(postgres_server_url())
    yield scratch
    scratch.close()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def database_url(backend, request, tmp_path) -> Iterator[str]:
    """A new, empty database on the backend under test."""
    if backend == "sqlite":
        yield sqlite_url(tmp_path)
        return
    scratch = request.getfixturevalue("postgres")
    url = scratch.create()
    yield url
    scratch.drop(url)


def make_app(database_url: str, **config) -> Flask:
    return create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": database_url, **config})


@pytest.fixture
def app(database_url) -> Iterator[Flask]:
    """An app on an empty database (no schema): migration tests start here."""
    app = make_app(database_url)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def head_database_url(backend, request, tmp_path_factory) -> Iterator[str]:
    """One database per backend and session, upgraded to head once."""
    if backend == "sqlite":
        url = sqlite_url(tmp_path_factory.mktemp("head"))
    else:
        url = request.getfixturevalue("postgres").create()
    app = make_app(url)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    yield url


@pytest.fixture
def migrated_app(head_database_url) -> Iterator[Flask]:
    """An app on a database at head; every row is deleted again after the test."""
    app = make_app(head_database_url)
    yield app
    with app.app_context():
        db.session.remove()
        delete_all_rows(db.engine, db.metadata)
        db.engine.dispose()


@pytest.fixture
def session(migrated_app):
    """The ORM session inside an app context on a migrated database."""
    with migrated_app.app_context():
        yield db.session
        db.session.rollback()


def run_flask(
    *args: str,
    database_url: str,
    stdin: str | None = None,
    env=None,
    timeout=120,
    module: str = "flask",
):
    """Run `flask ARGS` as a user types it: a new process in the repo root, no FLASK_APP."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_")}
    full_env.update({"DATABASE_URL": database_url, "PIXCRAWLER_ENV": "testing"})
    full_env.update(env or {})
    return subprocess.run(
        [
            sys.executable,
            "-m",
            module,
            *(["-c", "migrations/alembic.ini"] if module == "alembic" else []),
            *args,
        ],
        cwd=REPO_ROOT,
        env=full_env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_plain_alembic(
    *args: str, database_url: str | None, cwd: Path = REPO_ROOT, env=None, timeout=120
):
    """`alembic ARGS` exactly as typed in the repo root: the console script, no `-c`, no
    FLASK_APP. Without `database_url`, the app's default (the embedded SQLite)."""
    full_env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("FLASK_", "PIXCRAWLER_", "ALEMBIC_")) and k != "DATABASE_URL"
    }
    full_env["PIXCRAWLER_ENV"] = "testing"
    if database_url is not None:
        full_env["DATABASE_URL"] = database_url
    full_env.update(env or {})
    return subprocess.run(
        [str(Path(sys.executable).with_name("alembic")), *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_alembic(*args: str, database_url: str, env=None):
    """Plain `alembic -c migrations/alembic.ini …`: env.py must build the app itself."""
    return run_flask(*args, database_url=database_url, env=env, module="alembic")


@pytest.fixture
def flask_cli(database_url):
    """`flask_cli("db", "upgrade")` runs the real command against this test's database."""

    def run(*args: str, **kwargs):
        return run_flask(*args, database_url=database_url, **kwargs)

    return run
