"""Helpers for the migration-safety tests: background `flask` processes, scratch migration
folders with extra revisions, and direct looks at the database's revision and locks."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from pixcrawler.database.migration_lock import LOCK_CLASS, LOCK_ID
from tests.conftest import REPO_ROOT


def _revisions() -> list[str]:
    scripts = ScriptDirectory(str(REPO_ROOT / "migrations"))
    return [script.revision for script in reversed(list(scripts.walk_revisions()))]


REVISIONS = _revisions()  # oldest first, read from migrations/versions
HEAD = REVISIONS[-1]
NEXT = f"{int(HEAD) + 1:03d}"  # the id of a scratch revision added after head


def flask_env(database_url: str, env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment `run_flask` gives a `flask` process, plus `env`."""
    full = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "PIXCRAWLER_"))}
    full.update({"DATABASE_URL": database_url, "PIXCRAWLER_ENV": "testing"})
    full.update(env or {})
    return full


def start_flask(*args: str, database_url: str, env=None, **popen) -> subprocess.Popen:
    """Start `flask ARGS` in the background, as `run_flask` would run it."""
    return subprocess.Popen(
        [sys.executable, "-m", "flask", *args],
        cwd=REPO_ROOT,
        env=flask_env(database_url, env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


def revision_of(database_url: str) -> set[str]:
    """The revisions in alembic_version; empty when there is no schema yet."""
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            if not sa.inspect(connection).has_table("alembic_version"):
                return set()
            rows = connection.execute(sa.text("SELECT version_num FROM alembic_version"))
            return {row[0] for row in rows}
    finally:
        engine.dispose()


def table_names(database_url: str) -> set[str]:
    engine = sa.create_engine(database_url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def migration_lock_holders(connection: sa.Connection) -> list[int]:
    """Pids holding PixCrawler's migration advisory lock in this database."""
    rows = connection.execute(
        sa.text(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND classid = :c AND objid = :i AND objsubid = 2"
        ),
        {"c": LOCK_CLASS, "i": LOCK_ID},
    )
    return [row[0] for row in rows]


def wait_until(predicate, timeout: float = 20.0, interval: float = 0.05):
    """Poll until `predicate()` is truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"gave up waiting after {timeout} s", pytrace=False)


def assert_one_line_error(stderr: str, *fragments: str) -> str:
    """Exactly one `Error:` line, no traceback, containing every fragment; returns the line."""
    assert "Traceback" not in stderr, stderr
    errors = [line for line in stderr.splitlines() if "Error: " in line]
    assert len(errors) == 1, stderr
    for fragment in fragments:
        assert fragment in errors[0], errors[0]
    return errors[0]


class ScratchMigrations:
    """A copy of migrations/ to which a test adds revisions after head."""

    def __init__(self, folder: Path):
        self.folder = folder
        shutil.copytree(REPO_ROOT / "migrations", folder)

    @property
    def env(self) -> dict[str, str]:
        """Point a `flask` process at this copy (the MIGRATIONS_DIR config key)."""
        return {"PIXCRAWLER_MIGRATIONS_DIR": str(self.folder)}

    def add(self, revision: str, down_revision: str, title: str, upgrade: str) -> None:
        """Write `versions/<revision>_scratch.py` whose upgrade() body is `upgrade`."""
        body = textwrap.indent(textwrap.dedent(upgrade).strip(), "    ")
        source = (
            f'"""{title}\n\nRevision ID: {revision}\nRevises: {down_revision}\n"""\n\n'
            "import os\n\nimport sqlalchemy as sa\nfrom alembic import op\n\n"
            f"revision = {revision!r}\ndown_revision = {down_revision!r}\n"
            "branch_labels = None\ndepends_on = None\n\n\n"
            f"def upgrade():\n{body}\n\n\ndef downgrade():\n    pass\n"
        )
        (self.folder / "versions" / f"{revision}_scratch.py").write_text(source)


@pytest.fixture
def scratch_migrations(tmp_path) -> ScratchMigrations:
    return ScratchMigrations(tmp_path / "migrations")


@pytest.fixture
def server(database_url):
    """An engine on the test's database, for a test's own sessions (blockers, lookups)."""
    engine = sa.create_engine(database_url)
    yield engine
    engine.dispose()
