"""`flask flush`: asks first (refuses without a terminal unless --no-input), empties every app
table, keeps the schema and alembic_version, and sets PostgreSQL's id sequences back to 1."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from pixcrawler.extensions import db
from pixcrawler.models import Profile, Project
from pixcrawler.services import accounts, admin_sessions
from tests.admin.helpers import EMAIL, PASSWORD
from tests.commands.cli_helpers import ok, one_error_line, run_in_terminal
from tests.commands.data_helpers import counts, head_cli

SMALL = ["--profiles", "2", "--projects", "3", "--jobs", "4", "--images", "50"]


def alembic_version(app) -> list[str]:
    with app.app_context(), db.engine.connect() as connection:
        return list(connection.scalars(sa.text("SELECT version_num FROM alembic_version")))


def test_flush_without_terminal_refuses_and_keeps_rows(migrated_app, head_database_url):
    run = head_cli(head_database_url)
    ok(run("seed", *SMALL))
    before = counts(migrated_app)
    line = one_error_line(run("flush"))
    assert "--no-input" in line
    assert counts(migrated_app) == before


def test_flush_asks_on_a_terminal(migrated_app, head_database_url):
    ok(head_cli(head_database_url)("seed", *SMALL))
    before = counts(migrated_app)
    code, shown = run_in_terminal(
        "flush",
        database_url=head_database_url,
        answers=[("The schema and alembic_version stay", "n")],
    )
    assert code == 1 and "cancelled" in shown
    assert counts(migrated_app) == before
    code, shown = run_in_terminal(
        "flush",
        database_url=head_database_url,
        answers=[("The schema and alembic_version stay", "y")],
    )
    assert code == 0 and "Flushed" in shown
    assert not any(counts(migrated_app).values())


def test_flush_keeps_schema_and_alembic_version(migrated_app, head_database_url):
    run = head_cli(head_database_url)
    ok(run("seed", *SMALL))
    version = alembic_version(migrated_app)
    result = ok(run("flush", "--no-input"))
    assert result.stdout.startswith("Flushed ")
    assert "images" in result.stdout and "alembic_version" not in result.stdout
    assert not any(counts(migrated_app).values())
    assert alembic_version(migrated_app) == version and version
    ok(run("showmigrations"))  # the schema is still at head and usable


def test_new_rows_start_from_id_1_after_flush(migrated_app, head_database_url):
    run = head_cli(head_database_url)
    ok(run("seed", *SMALL))
    ok(run("flush", "--no-input"))
    with migrated_app.app_context():
        owner = Profile(email="new@example.com")
        project = Project(name="first again", owner=owner)
        db.session.add_all([owner, project])
        db.session.commit()
        assert project.id == 1  # PostgreSQL: RESTART IDENTITY


def test_flush_without_schema_says_to_upgrade(flask_cli):
    assert "flask db upgrade" in one_error_line(flask_cli("flush", "--no-input"))


@pytest.mark.only_backend("postgresql")
def test_flush_never_empties_a_table_outside_the_app(database_url, flask_cli):
    ok(flask_cli("db", "upgrade"))
    ok(flask_cli("seed", *SMALL))
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:  # as a Supabase project might add beside ours
        connection.exec_driver_sql(
            "CREATE TABLE outside_notes (id serial PRIMARY KEY,"
            " profile_id uuid REFERENCES profiles (id), note text)"
        )
        connection.exec_driver_sql(
            "INSERT INTO outside_notes (profile_id, note) SELECT id, 'keep me' FROM profiles"
        )
    line = one_error_line(flask_cli("flush", "--no-input"))
    assert "outside the app" in line and "nothing was flushed" in line
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM outside_notes").scalar() == 2
        assert connection.exec_driver_sql("SELECT count(*) FROM profiles").scalar() == 2
    engine.dispose()


def test_flush_ends_every_admin_session(migrated_app):
    with migrated_app.app_context():
        account = accounts.create_superuser(EMAIL, PASSWORD)
        life = admin_sessions.Lifetime(idle=timedelta(hours=2), absolute=timedelta(hours=12))
        admin_sessions.open_session(account.profile_id, datetime.now(UTC), life)
        db.session.commit()
    assert counts(migrated_app)["admin_sessions"] == 1
    result = migrated_app.test_cli_runner().invoke(args=["flush", "--no-input"])
    assert result.exit_code == 0, result.output
    assert "admin_sessions" in result.stdout
    assert not any(counts(migrated_app).values())
