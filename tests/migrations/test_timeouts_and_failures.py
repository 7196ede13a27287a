"""No long write stalls, and failures that leave a clean revision.

A migration waiting on a lock gives up after MIGRATION_LOCK_TIMEOUT, is retried with a growing
pause, and finally fails with one line naming the migration and the blocking session. A failing
migration rolls back alone; `kill -9` mid-migration leaves the last good revision and a free
lock, and a rerun finishes.
"""

from __future__ import annotations

import logging
import os
import signal
import time

import pytest
import sqlalchemy as sa
from alembic.util import CommandError

from pixcrawler.migrator.guard import Limits
from tests.conftest import make_app, run_flask
from tests.migrations.conftest import (
    HEAD,
    assert_one_line_error,
    migration_lock_holders,
    revision_of,
    start_flask,
    table_names,
    upgrade_in_process,
    wait_until,
)

FAST_RETRIES = {
    "PIXCRAWLER_MIGRATION_LOCK_TIMEOUT": "0.3",
    "PIXCRAWLER_MIGRATION_LOCK_RETRIES": "2",
    "PIXCRAWLER_MIGRATION_RETRY_DELAY": "0.2",
}


def hold_profiles(server: sa.Engine) -> sa.Connection:
    """A session in an open transaction holding ACCESS EXCLUSIVE on profiles (004 needs it)."""
    blocker = server.connect()
    blocker.exec_driver_sql("SET application_name = 'nightly-report'")
    blocker.info["pid"] = blocker.execute(sa.text("SELECT pg_backend_pid()")).scalar()
    blocker.exec_driver_sql("LOCK TABLE profiles IN ACCESS EXCLUSIVE MODE")
    return blocker


@pytest.mark.only_backend("postgresql")
def test_a_lock_timeout_is_retried_then_fails_naming_migration_and_blocker(database_url, server):
    assert run_flask("db", "upgrade", "003", database_url=database_url).returncode == 0
    blocker = hold_profiles(server)
    try:
        pid = blocker.info["pid"]
        result = run_flask("db", "upgrade", database_url=database_url, env=FAST_RETRIES)
    finally:
        blocker.rollback()
        blocker.close()
    assert result.returncode == 1
    retries = [line for line in result.stderr.splitlines() if "waited 0.3 s for a lock" in line]
    assert len(retries) == 2, result.stderr
    assert "retry 1 of 2 in 0.2 s" in retries[0] and "retry 2 of 2 in 0.4 s" in retries[1]
    assert f"pid {pid}" in retries[0]
    assert_one_line_error(
        result.stderr,
        "migration 004 (add profile tiers and an image hash index) gave up after 3 attempts",
        f'held by pid {pid} (application "nightly-report", idle in transaction',
        "LOCK TABLE profiles IN ACCESS EXCLUSIVE MODE",
        "statement: ALTER TABLE profiles ADD COLUMN",
        "the database stays at revision 003",
    )
    assert revision_of(database_url) == {"003"}
    rerun = run_flask("db", "upgrade", database_url=database_url)
    assert rerun.returncode == 0, rerun.stderr
    assert revision_of(database_url) == {HEAD}


def test_the_documented_defaults_retry_after_2_4_and_8_seconds():
    """README's table: 5 s lock timeout, 300 s statement timeout, 3 retries from 2 s."""
    assert Limits.from_config(make_app("sqlite://").config) == Limits(
        wait_timeout=300, lock_timeout=5, statement_timeout=300, lock_retries=3, retry_delay=2
    )


@pytest.mark.only_backend("postgresql")
def test_lock_timeout_retries_really_pause_and_each_pause_doubles(database_url, server, caplog):
    """The pauses are slept, not only announced: 0.3 s, then 0.6 s, between the attempts."""
    limits = {"MIGRATION_LOCK_TIMEOUT": 0.2, "MIGRATION_LOCK_RETRIES": 2}
    app = make_app(database_url, **limits, MIGRATION_RETRY_DELAY=0.3)
    upgrade_in_process(app, "003")
    caplog.set_level(logging.INFO, logger="alembic")
    blocker = hold_profiles(server)
    started = time.monotonic()
    try:
        with pytest.raises(CommandError, match=r"004 .* gave up after 3 attempts"):
            upgrade_in_process(app, "004")
        elapsed = time.monotonic() - started
    finally:
        blocker.rollback()
        blocker.close()
    attempts = [r.created for r in caplog.records if "Running upgrade 003 -> 004" in r.message]
    retries = [r for r in caplog.records if "waited 0.2 s for a lock" in r.message]
    assert len(attempts) == 3 and len(retries) == 2, caplog.text
    assert "retry 1 of 2 in 0.3 s" in retries[0].message
    assert "retry 2 of 2 in 0.6 s" in retries[1].message
    # From each retry's announcement to the next attempt: the pause itself.
    pauses = [attempts[i + 1] - retry.created for i, retry in enumerate(retries)]
    assert pauses[0] >= 0.3 and pauses[1] >= 0.6, pauses
    assert pauses[1] < 0.6 + 1.5, pauses  # doubled, not more
    assert elapsed >= 3 * 0.2 + 0.3 + 0.6  # three lock waits and both pauses
    assert revision_of(database_url) == {"003"}


@pytest.mark.only_backend("postgresql")
def test_a_retry_succeeds_once_the_blocker_lets_go(database_url, server):
    assert run_flask("db", "upgrade", "003", database_url=database_url).returncode == 0
    blocker = hold_profiles(server)
    runner = start_flask(
        "db",
        "upgrade",
        database_url=database_url,
        env={**FAST_RETRIES, "PIXCRAWLER_MIGRATION_LOCK_RETRIES": "20"},
    )
    try:
        # Let go only once the migration has timed out at least once (0.3 s after it waits).
        wait_until(lambda: lock_waits_seen(server), timeout=60)
        time.sleep(0.8)
    finally:
        blocker.rollback()
        blocker.close()
    _, stderr = runner.communicate(timeout=120)
    assert runner.returncode == 0, stderr
    assert "retry 1 of 20" in stderr
    assert revision_of(database_url) == {HEAD}


def lock_waits_seen(server: sa.Engine) -> bool:
    """True once the migration session has been waiting on a lock (it will time out)."""
    with server.connect() as connection:
        waiting = connection.execute(
            sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                "'pixcrawler-migrate' AND wait_event_type = 'Lock'"
            )
        ).scalar()
    return bool(waiting)


@pytest.mark.only_backend("postgresql")
def test_statement_timeout_stops_a_slow_statement(database_url, scratch_migrations):
    new = scratch_migrations.add("sleep too long", "op.execute('SELECT pg_sleep(5)')")
    env = {**scratch_migrations.env, "PIXCRAWLER_MIGRATION_STATEMENT_TIMEOUT": "0.5"}
    result = run_flask("db", "upgrade", database_url=database_url, env=env)
    assert result.returncode == 1
    assert_tried_once(result.stderr, new)  # a statement timeout is not a lock timeout
    assert_one_line_error(
        result.stderr,
        f"migration {new} (sleep too long) failed: canceling statement due to statement timeout",
        "statement: SELECT pg_sleep(5)",
        f"the database stays at revision {HEAD}",
    )


LIFT_LIMITS = """
op.execute("SET lock_timeout = '1min'")
op.execute("SET statement_timeout = '1h'")
"""

RECORD_LIMITS = """
op.execute("CREATE TABLE scratch_limits (lock_timeout text, statement_timeout text)")
op.execute(
    "INSERT INTO scratch_limits "
    "SELECT current_setting('lock_timeout'), current_setting('statement_timeout')"
)
"""


@pytest.mark.only_backend("postgresql")
def test_limits_one_migration_lifts_are_reset_before_the_next(database_url, scratch_migrations):
    scratch_migrations.add("lift the limits for itself", LIFT_LIMITS)
    scratch_migrations.add("record the limits it runs under", RECORD_LIMITS)
    limits = {"MIGRATION_LOCK_TIMEOUT": 3, "MIGRATION_STATEMENT_TIMEOUT": 40}
    app = make_app(database_url, MIGRATIONS_DIR=str(scratch_migrations.folder), **limits)
    upgrade_in_process(app)
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            seen = connection.execute(sa.text("SELECT * FROM scratch_limits")).one()
    finally:
        engine.dispose()
    assert tuple(seen) == ("3s", "40s")


def assert_tried_once(stderr: str, revision: str) -> None:
    """Only lock timeouts are retried: any other error ends the run at its first attempt."""
    assert stderr.count(f"-> {revision},") == 1, stderr
    assert "retry" not in stderr, stderr


BROKEN = """
op.create_table('scratch_notes', sa.Column('id', sa.Integer(), primary_key=True))
op.execute('INSERT INTO no_such_table VALUES (1)')
"""


def test_a_failing_migration_rolls_back_alone_and_names_the_statement(
    database_url, scratch_migrations
):
    new = scratch_migrations.add("break on purpose", BROKEN)
    result = run_flask("db", "upgrade", database_url=database_url, env=scratch_migrations.env)
    assert result.returncode == 1
    assert f"-> {HEAD}," in result.stderr  # the good ones before it stay applied
    assert_tried_once(result.stderr, new)
    assert_one_line_error(
        result.stderr,
        f"migration {new} (break on purpose) failed:",
        "no_such_table",
        "statement: INSERT INTO no_such_table VALUES (1)",
        f"the database stays at revision {HEAD}",
    )
    assert revision_of(database_url) == {HEAD}
    assert "scratch_notes" not in table_names(database_url)  # its first statement rolled back


SLOW = """
op.create_table('scratch_notes', sa.Column('id', sa.Integer(), primary_key=True))
op.execute(f"SELECT pg_sleep({os.environ.get('SCRATCH_SLEEP', '0')})")
"""


@pytest.mark.only_backend("postgresql")
def test_kill_9_mid_migration_leaves_a_clean_revision_and_a_free_lock(
    database_url, scratch_migrations, server
):
    new = scratch_migrations.add("slow on purpose", SLOW)
    env = {**scratch_migrations.env, "SCRATCH_SLEEP": "60"}
    runner = start_flask("db", "upgrade", database_url=database_url, env=env)
    try:
        wait_until(lambda: sleeping_migration(server), timeout=60)
    finally:
        os.kill(runner.pid, signal.SIGKILL)
        runner.communicate()
    # The server notices the vanished client (client_connection_check_interval), rolls back
    # the open migration and drops the session lock with the session.
    with server.connect() as connection:
        wait_until(lambda: not holders(connection), timeout=15)
    assert revision_of(database_url) == {HEAD}
    assert "scratch_notes" not in table_names(database_url)
    rerun = run_flask("db", "upgrade", database_url=database_url, env=scratch_migrations.env)
    assert rerun.returncode == 0, rerun.stderr
    assert "waiting" not in rerun.stderr
    assert revision_of(database_url) == {new}


def sleeping_migration(server: sa.Engine) -> bool:
    with server.connect() as connection:
        found = connection.execute(
            sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                "'pixcrawler-migrate' AND query LIKE 'SELECT pg_sleep%'"
            )
        ).scalar()
    return bool(found)


def holders(connection: sa.Connection) -> list[int]:
    found = migration_lock_holders(connection)
    connection.commit()
    return found


def test_bad_timeout_settings_are_one_clear_error(database_url):
    env = {"PIXCRAWLER_MIGRATION_LOCK_TIMEOUT": "-1"}
    result = run_flask("db", "upgrade", database_url=database_url, env=env)
    assert result.returncode == 1
    assert_one_line_error(result.stderr, "MIGRATION_LOCK_TIMEOUT must be a number of seconds")
    assert revision_of(database_url) == set()
