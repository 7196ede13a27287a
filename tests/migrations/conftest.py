"""Helpers for the migration-safety tests: background `flask` processes, scratch migration
folders with extra revisions, and direct looks at the database's revision and locks."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from flask import Flask

from pixcrawler.migrator.lock import LOCK_CLASS, LOCK_ID
from tests.conftest import REPO_ROOT

# The repository's revisions, oldest first, and their head: read from the scripts, so a new
# revision on another branch needs no edit here.
_SCRIPTS = ScriptDirectory(str(REPO_ROOT / "migrations"))
REVISIONS = [script.revision for script in reversed(list(_SCRIPTS.walk_revisions()))]
HEAD = _SCRIPTS.get_current_head()


def next_revision(revision: str) -> str:
    """The id after `revision` in the project's numbering (004 -> 005)."""
    return f"{int(revision) + 1:03d}"


NEXT = next_revision(HEAD)  # the id of the first scratch revision added after head


def scripts_on_disk() -> list[dict]:
    """What the files in migrations/versions say, read as text (no Alembic, no app code): for
    checking what the app reports about its revisions against facts it did not compute."""
    found = []
    for path in sorted((REPO_ROOT / "migrations" / "versions").glob("[0-9]*.py")):
        number = path.stem.split("_", 1)[0]
        text = path.read_text()
        title = text.split('"""')[1].strip().splitlines()[0]  # the docstring's first line
        revises = re.search(r"^Revises: ?(.*)$", text, re.M).group(1).strip()
        created = re.search(r"^Create Date: (.+)$", text, re.M).group(1).strip()
        found.append(
            {
                "id": number,
                "message": title,
                "down_revisions": [revises] if revises else [],
                "created": datetime.fromisoformat(created),
            }
        )
    return found


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


def upgrade_in_process(app: Flask, revision: str = "head", directory: Path | None = None) -> None:
    """What `flask db upgrade REVISION` runs (env.py, the lock, the guard), in this process and
    with logging left alone, so `caplog` sees every record with its time. Cheaper than a
    subprocess where start-up and exit codes are not the point."""
    with app.app_context():
        migrate = app.extensions["migrate"]
        config = migrate.migrate.get_config(directory or migrate.directory)
        config.attributes["configure_logging"] = False
        try:
            command.upgrade(config, revision)
        finally:
            migrate.db.engine.dispose()


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
        self.head = HEAD  # where the next revision goes, unless told `after`
        self.last = HEAD  # the highest id so far: the next one is one more
        shutil.copytree(REPO_ROOT / "migrations", folder)

    @property
    def env(self) -> dict[str, str]:
        """Point a `flask` process at this copy (the MIGRATIONS_DIR config key)."""
        return {"PIXCRAWLER_MIGRATIONS_DIR": str(self.folder)}

    def add(self, title: str, upgrade: str, after: str | None = None) -> str:
        """Write the next revision, whose upgrade() body is `upgrade`, after the scratch head
        (or after `after`, which starts a branch); returns its id, the next number."""
        revision, down_revision = next_revision(self.last), after or self.head
        body = textwrap.indent(textwrap.dedent(upgrade).strip(), "    ")
        source = (
            f'"""{title}\n\nRevision ID: {revision}\nRevises: {down_revision}\n"""\n\n'
            "import os\n\nimport sqlalchemy as sa\nfrom alembic import op\n\n"
            f"revision = {revision!r}\ndown_revision = {down_revision!r}\n"
            "branch_labels = None\ndepends_on = None\n\n\n"
            f"def upgrade():\n{body}\n\n\ndef downgrade():\n    pass\n"
        )
        (self.folder / "versions" / f"{revision}_scratch.py").write_text(source)
        self.last = revision
        if after is None:
            self.head = revision
        return revision


@pytest.fixture
def scratch_migrations(tmp_path) -> ScratchMigrations:
    return ScratchMigrations(tmp_path / "migrations")


@pytest.fixture
def server(database_url):
    """An engine on the test's database, for a test's own sessions (blockers, lookups)."""
    engine = sa.create_engine(database_url)
    yield engine
    engine.dispose()
