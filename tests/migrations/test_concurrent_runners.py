"""One runner at a time: concurrent `flask db upgrade` processes apply each migration once.

Plain Alembic loses this race (several runners die on "already exists"); here they queue on
the migration lock, and whoever waited re-reads the revision and finds nothing left to do.
"""

from __future__ import annotations

import fcntl
import re
import sqlite3
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.util import CommandError

from pixcrawler.migrator.lock import LOCK_CLASS, LOCK_ID, runner_lock
from tests.conftest import make_app, run_flask
from tests.migrations.conftest import (
    HEAD,
    REVISIONS,
    assert_one_line_error,
    migration_lock_holders,
    revision_of,
    start_flask,
    table_names,
    upgrade_in_process,
    wait_until,
)

RUNNING = re.compile(r"Running upgrade (\w*) ?-> (\w+)")
# Every step of an upgrade from nothing: "-> 001", "001 -> 002", …
ALL_STEPS = {
    f"{down} -> {up}".strip() for down, up in zip(["", *REVISIONS[:-1]], REVISIONS, strict=True)
}


def upgrade_concurrently(database_url: str, runners: int) -> tuple[list, Counter]:
    processes = [start_flask("db", "upgrade", database_url=database_url) for _ in range(runners)]
    results = [(p, *p.communicate(timeout=300)) for p in processes]
    steps = Counter()
    for _, _, stderr in results:
        for before, after in RUNNING.findall(stderr):
            steps[f"{before} -> {after}".strip()] += 1
    return results, steps


@pytest.mark.only_backend("postgresql")
def test_eight_runners_on_an_empty_database_apply_each_migration_once(database_url):
    results, steps = upgrade_concurrently(database_url, 8)
    for process, _, stderr in results:
        assert process.returncode == 0, stderr
        assert "Traceback" not in stderr
    assert steps == Counter(dict.fromkeys(ALL_STEPS, 1))
    assert revision_of(database_url) == {HEAD}


@pytest.mark.only_backend("postgresql")
def test_eight_runners_from_an_intermediate_revision_apply_the_rest_once(database_url):
    assert run_flask("db", "upgrade", "001", database_url=database_url).returncode == 0
    results, steps = upgrade_concurrently(database_url, 8)
    for process, _, stderr in results:
        assert process.returncode == 0, stderr
    assert steps == Counter(dict.fromkeys(ALL_STEPS - {f"-> {REVISIONS[0]}"}, 1))
    assert revision_of(database_url) == {HEAD}


@pytest.mark.only_backend("sqlite")
def test_concurrent_runners_on_sqlite_queue_and_apply_each_migration_once(database_url):
    results, steps = upgrade_concurrently(database_url, 4)
    for process, _, stderr in results:
        assert process.returncode == 0, stderr
    assert steps == Counter(dict.fromkeys(ALL_STEPS, 1))
    assert revision_of(database_url) == {HEAD}


def hold_postgres_lock(server: sa.Engine, application_name: str) -> sa.Connection:
    holder = server.connect()
    holder.exec_driver_sql(f"SET application_name = '{application_name}'")
    holder.execute(sa.text("SELECT pg_advisory_lock(:c, :i)"), {"c": LOCK_CLASS, "i": LOCK_ID})
    holder.commit()
    return holder


def release(holder: sa.Connection) -> None:
    """Really end the holder's session (closing would only hand it back to the pool)."""
    holder.invalidate()


@pytest.mark.only_backend("postgresql")
def test_a_runner_says_once_whom_it_waits_for_then_gives_up_cleanly(database_url, server):
    holder = hold_postgres_lock(server, "deploy-7")
    try:
        pid = holder.execute(sa.text("SELECT pg_backend_pid()")).scalar()
        result = run_flask(
            "db",
            "upgrade",
            database_url=database_url,
            env={"PIXCRAWLER_MIGRATION_WAIT_TIMEOUT": "1"},
        )
    finally:
        release(holder)
    assert result.returncode == 1
    waiting = [line for line in result.stderr.splitlines() if "waiting for another" in line]
    assert len(waiting) == 1 and f"pid {pid} (deploy-7" in waiting[0], result.stderr
    assert_one_line_error(
        result.stderr, "gave up after waiting 1 s for the migration lock", f"pid {pid}"
    )
    assert table_names(database_url) == set()  # it touched nothing, not even alembic_version


@pytest.mark.only_backend("postgresql")
def test_a_waiting_runner_goes_on_when_the_lock_is_freed(database_url, server):
    holder = hold_postgres_lock(server, "deploy-7")
    runner = start_flask("db", "upgrade", database_url=database_url)
    lines: list[str] = []
    said_it_waits = threading.Event()

    def read_stderr():
        for line in runner.stderr:
            lines.append(line)
            if "waiting for another migration run to finish" in line:
                said_it_waits.set()

    reader = threading.Thread(target=read_stderr)
    reader.start()
    try:
        # Freed only once the runner found it taken: a fixed pause after its session appeared
        # was not enough on a loaded machine (it could still be starting when the lock went).
        assert said_it_waits.wait(timeout=60), "".join(lines)
        time.sleep(0.5)  # well into its wait
    finally:
        release(holder)
    runner.wait(timeout=120)
    reader.join(timeout=10)
    runner.stdout.close()
    runner.stderr.close()
    stderr = "".join(lines)
    assert runner.returncode == 0, stderr
    assert revision_of(database_url) == {HEAD}
    with server.connect() as connection:
        assert migration_lock_holders(connection) == []  # released at the end of the run


def migration_sessions(connection: sa.Connection) -> list[int]:
    rows = connection.execute(
        sa.text("SELECT pid FROM pg_stat_activity WHERE application_name = 'pixcrawler-migrate'")
    ).all()
    connection.commit()
    return [row[0] for row in rows]


@pytest.mark.only_backend("postgresql")
def test_read_only_commands_never_wait_for_the_lock(database_url, server, scratch_migrations):
    assert run_flask("db", "upgrade", database_url=database_url).returncode == 0
    holder = hold_postgres_lock(server, "deploy-7")
    env = {"PIXCRAWLER_MIGRATION_WAIT_TIMEOUT": "1"}
    try:
        current = run_flask("db", "current", database_url=database_url, env=env)
        check = run_flask("db", "check", database_url=database_url, env=env)
        # `db migrate` compares models and tables; it writes a file, never to the database.
        migrate = run_flask(
            "db", "migrate", "-m", "x", database_url=database_url, env=scratch_migrations.env | env
        )
        history = run_flask("db", "history", database_url=database_url, env=env)
        stamp = run_flask("db", "stamp", "003", database_url=database_url, env=env)
    finally:
        release(holder)
    assert current.returncode == 0 and f"{HEAD} (head)" in current.stdout, current.stderr
    assert check.returncode == 0, check.stderr
    assert migrate.returncode == 0, migrate.stderr
    assert "No changes in schema detected" in migrate.stderr
    assert history.returncode == 0 and "<base> -> 001" in history.stdout, history.stderr
    assert "waiting" not in current.stderr + check.stderr + migrate.stderr + history.stderr
    assert stamp.returncode == 1 and "waiting for another" in stamp.stderr  # stamp writes
    assert revision_of(database_url) == {HEAD}


@pytest.mark.only_backend("sqlite")
def test_sqlite_runner_waits_for_the_lock_file_and_gives_up_cleanly(database_url):
    path = Path(sa.engine.make_url(database_url).database)
    with open(f"{path}.migration-lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        env = {"PIXCRAWLER_MIGRATION_WAIT_TIMEOUT": "1"}
        result = run_flask("db", "upgrade", database_url=database_url, env=env)
    assert result.returncode == 1
    assert "waiting for another migration run to finish" in result.stderr
    assert_one_line_error(result.stderr, "gave up after waiting 1 s for the migration lock")
    assert revision_of(database_url) == set()


@pytest.mark.only_backend("sqlite")
def test_while_a_sqlite_runner_holds_the_lock_file_a_second_one_waits(database_url):
    """Two runners of this code, one after the other on the same file: the second waits for
    the first (the lock is exclusive), gives up after its wait timeout, and gets the lock as
    soon as the first is done."""
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as first, engine.connect() as second:
            with runner_lock(first, timeout=1):
                started = time.monotonic()
                with (
                    pytest.raises(CommandError, match=r"gave up after waiting 0\.5 s"),
                    runner_lock(second, timeout=0.5),
                ):
                    pass
                assert time.monotonic() - started >= 0.5
            with runner_lock(second, timeout=0.5):
                pass
    finally:
        engine.dispose()


def test_a_bad_wait_timeout_is_one_clear_error(database_url):
    env = {"PIXCRAWLER_MIGRATION_WAIT_TIMEOUT": "soon"}
    result = run_flask("db", "upgrade", database_url=database_url, env=env)
    assert result.returncode == 1
    assert_one_line_error(result.stderr, "MIGRATION_WAIT_TIMEOUT must be a number of seconds")


@pytest.mark.only_backend("sqlite")
def test_a_sqlite_migration_waits_for_a_writer_instead_of_failing_halfway(database_url):
    """Each migration starts with BEGIN IMMEDIATE, so it queues behind a writer.

    A plain BEGIN would first read alembic_version under a shared lock, then fail to upgrade it
    to a write lock while the writer holds one: SQLite answers "database is locked" at once,
    without waiting for busy_timeout, because waiting there could deadlock.
    """
    app = make_app(database_url)
    upgrade_in_process(app, REVISIONS[0])
    path = sa.engine.make_url(database_url).database
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN")  # an app request: deferred, then a write takes the write lock
    writer.execute("INSERT INTO profiles (id, email) VALUES (?, ?)", (uuid.uuid4().hex, "w@x.io"))
    outcome: list[BaseException | None] = []

    def migrate() -> None:
        try:
            upgrade_in_process(app)
            outcome.append(None)
        except BaseException as exc:  # the test reports it
            outcome.append(exc)

    runner = threading.Thread(target=migrate)
    runner.start()
    try:
        # Until it is migrating (it holds the runner lock), or has already given up.
        wait_until(lambda: lock_file_held(f"{path}.migration-lock") or not runner.is_alive())
        runner.join(timeout=1.0)  # plenty for a plain BEGIN to fail on its first write
        waited = runner.is_alive()
    finally:
        writer.execute("COMMIT")
        writer.close()
        runner.join(timeout=120)
    assert outcome == [None], outcome
    assert waited, "the migration finished while a writer held the write lock"
    assert revision_of(database_url) == {HEAD}


def lock_file_held(lock_path: str) -> bool:
    """Whether someone holds the SQLite runner lock (flock conflicts across open files)."""
    if not Path(lock_path).exists():
        return False
    with open(lock_path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False
