"""`flask sqlmigrate REV`: one revision's SQL, forwards or backwards, for either backend,
rendered offline (the database is left alone); bad input is one line."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.commands.cli_helpers import ok, one_error_line, revision_ids


def tables(database_url: str) -> list[str]:
    engine = sa.create_engine(database_url)
    try:
        return sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_forwards_sql_as_typed_touches_no_table(flask_cli, database_url, backend):
    result = ok(flask_cli("sqlmigrate", "002"))
    assert "-- Running upgrade 001 -> 002" in result.stdout
    assert "CREATE TABLE admin_accounts" in result.stdout
    # The app's own backend decides the rendering when --dialect is not given.
    assert ("profile_id UUID" in result.stdout) == (backend == "postgresql")
    assert result.stderr == ""
    assert tables(database_url) == []


@pytest.mark.parametrize(
    ("dialect", "column"),
    [("postgresql", "profile_id UUID"), ("postgres", "profile_id UUID"),
     ("SQLite", "profile_id CHAR(32)")],
)  # fmt: skip
def test_dialect_renders_for_that_backend(app, dialect, column):
    result = ok(app.test_cli_runner().invoke(args=["sqlmigrate", "002", "--dialect", dialect]))
    assert column in result.stdout


def test_backwards_prints_the_downgrade(app):
    result = ok(app.test_cli_runner().invoke(args=["sqlmigrate", "002", "--backwards"]))
    assert "-- Running downgrade 002 -> 001" in result.stdout
    assert "DROP TABLE admin_accounts" in result.stdout
    assert "CREATE TABLE" not in result.stdout


def test_every_revision_renders_both_ways_for_postgresql(app):
    runner = app.test_cli_runner()
    for revision in revision_ids():
        args = ["sqlmigrate", revision, "--dialect", "postgresql"]
        assert "Running upgrade" in ok(runner.invoke(args=args)).stdout
        assert "Running downgrade" in ok(runner.invoke(args=[*args, "--backwards"])).stdout


def test_every_revision_renders_both_ways_for_sqlite(app):
    """Batch operations (004 recreates profiles) copy a table of a scratch SQLite database."""
    runner = app.test_cli_runner()
    for revision in revision_ids():
        args = ["sqlmigrate", revision, "--dialect", "sqlite"]
        assert f"-> {revision}" in ok(runner.invoke(args=args)).stdout
        back = ok(runner.invoke(args=[*args, "--backwards"])).stdout
        assert f"Running downgrade {revision} ->" in back


def test_a_sqlite_batch_revision_renders_its_table_copy(app):
    result = ok(app.test_cli_runner().invoke(args=["sqlmigrate", "004", "--dialect", "sqlite"]))
    sql = result.stdout
    assert sql.index("PRAGMA foreign_keys=OFF;") < sql.index("BEGIN;")
    assert "CREATE TABLE _alembic_tmp_profiles" in sql
    assert "CONSTRAINT ck_profiles_tier CHECK (tier IN ('free', 'pro', 'enterprise'))" in sql
    assert "DROP TABLE profiles;\n\nALTER TABLE _alembic_tmp_profiles RENAME TO profiles;" in sql
    assert "UPDATE alembic_version SET version_num='004' WHERE" in sql


def test_unknown_revision_as_typed_names_the_known_ones(flask_cli):
    line = one_error_line(flask_cli("sqlmigrate", "999"))
    assert line == (f"Error: unknown revision '999'; known revisions: {', '.join(revision_ids())}")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["2"], "unknown revision '2'"),
        (["   "], "give a revision id"),
        (["002", "--dialect", "mysql"], "--dialect 'mysql' is not one of: postgresql, sqlite"),
    ],
)
def test_bad_input_is_one_line(app, database_url, args, message):
    result = app.test_cli_runner().invoke(args=["sqlmigrate", *args])
    assert message in one_error_line(result)
    assert result.stdout == ""
    assert tables(database_url) == []
