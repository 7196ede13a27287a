"""`flask check`: findings with id, level, message and hint; exit 1 on an error; `--json`;
the migration checks on every state of the schema, and the `--deploy` settings checks."""

from __future__ import annotations

import json
import secrets
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from pixcrawler.extensions import db
from pixcrawler.services import checks
from tests.commands.cli_helpers import (
    UNREACHABLE,
    migrations_with_two_heads,
    ok,
    revision_ids,
)
from tests.conftest import make_app, run_flask

STRONG_KEY = "k3Y-" + "x9Fq2LmZ7vB4nW8rT1yU6pA0sD5gH3jC"
PRODUCTION = {
    "ENV_NAME": "production",
    "SECRET_KEY": STRONG_KEY,
    "SESSION_COOKIE_SECURE": True,
}


def ids(result) -> list[str]:
    return [finding["id"] for finding in json.loads(result.stdout)]


def test_empty_database_as_typed_fails_and_lists_the_pending_revisions(flask_cli):
    result = flask_cli("check")
    assert result.returncode == 1
    pending = ", ".join(revision_ids())
    assert f"ERROR migrations.E002: {len(revision_ids())} migration(s) not applied " in (
        result.stdout
    )
    assert pending in result.stdout
    assert "HINT: Run `flask db upgrade`" in result.stdout
    assert "INFO migrations.I001" in result.stdout
    assert result.stdout.endswith("System check identified 2 issue(s): 1 error, 1 info.\n")
    assert "Traceback" not in result.stderr


def test_json_is_a_list_of_findings(flask_cli):
    result = flask_cli("check", "--json")
    assert result.returncode == 1
    findings = json.loads(result.stdout)
    assert isinstance(findings, list)
    assert [f["id"] for f in findings] == ["migrations.E002", "migrations.I001"]
    for finding in findings:
        assert set(finding) == {"id", "level", "message", "hint"}
        assert finding["level"] in ("error", "warning", "info")
        assert finding["hint"]
    assert findings[0]["level"] == "error"


def test_a_database_at_head_passes(migrated_app):
    runner = migrated_app.test_cli_runner()
    result = ok(runner.invoke(args=["check"]))
    assert result.stdout == "System check identified no issues.\n"
    assert json.loads(ok(runner.invoke(args=["check", "--json"])).stdout) == []


def test_part_way_reports_what_is_left(app):
    first, *rest = revision_ids()
    with app.app_context():
        upgrade(revision=first)
    result = app.test_cli_runner().invoke(args=["check", "--json"])
    assert result.exit_code == 1
    [pending, skipped] = json.loads(result.stdout)
    assert pending["message"] == (
        f"{len(rest)} migration(s) not applied (at {first}): {', '.join(rest)}"
    )
    assert skipped["id"] == "migrations.I001"


def test_models_and_database_disagree(app):
    with app.app_context():
        upgrade()
        with db.engine.begin() as connection:
            connection.execute(sa.text("CREATE TABLE stray_notes (id INTEGER PRIMARY KEY)"))
            connection.execute(sa.text("ALTER TABLE profiles ADD COLUMN stray_flag INTEGER"))
    result = app.test_cli_runner().invoke(args=["check", "--json"])
    assert result.exit_code == 1
    [drift] = json.loads(result.stdout)
    assert drift["id"] == "migrations.E004" and drift["level"] == "error"
    assert drift["message"] == (
        "the models and the database disagree: "
        "stray_notes: table in the database, not in the models; "
        "profiles.stray_flag: column (INTEGER) in the database, not in the models"
    )
    assert "flask db migrate" in drift["hint"]


def test_several_heads_as_typed(database_url, tmp_path):
    folder, branch = migrations_with_two_heads(tmp_path)
    env = {"PIXCRAWLER_MIGRATIONS_DIR": str(folder)}
    ok(run_flask("db", "upgrade", "heads", database_url=database_url, env=env))
    result = run_flask("check", "--json", database_url=database_url, env=env)
    assert result.returncode == 1
    findings = json.loads(result.stdout)
    assert [f["id"] for f in findings] == ["migrations.E001", "migrations.I001"]
    assert branch in findings[0]["message"] and revision_ids()[-1] in findings[0]["message"]
    assert "flask db merge heads" in findings[0]["hint"]


def test_database_ahead_of_the_code(app):
    with app.app_context():
        upgrade()
        with db.engine.begin() as connection:
            connection.execute(sa.text("UPDATE alembic_version SET version_num = '999'"))
    result = app.test_cli_runner().invoke(args=["check", "--json"])
    assert result.exit_code == 1
    assert ids(result) == ["migrations.E003", "migrations.I001"]


def test_a_missing_migrations_folder_is_an_error(database_url, tmp_path):
    app = make_app(database_url, MIGRATIONS_DIR=str(tmp_path / "nowhere"))
    result = app.test_cli_runner().invoke(args=["check", "--json"])
    assert result.exit_code == 1
    assert ids(result) == ["migrations.E000"]


@pytest.mark.only_backend("sqlite")
def test_unreachable_database(backend):
    app = make_app(UNREACHABLE)
    result = app.test_cli_runner().invoke(args=["check", "--json"])
    assert result.exit_code == 1
    [finding] = json.loads(result.stdout)
    assert finding["id"] == "database.E001"
    assert "127.0.0.1:1" in finding["message"]


def test_deploy_flags_the_testing_settings(migrated_app, backend):
    result = migrated_app.test_cli_runner().invoke(args=["check", "--deploy", "--json"])
    assert result.exit_code == 1
    expected = ["security.E002", "security.W001", "config.W001"]
    if backend == "sqlite":
        expected.append("database.W001")  # a file named in DATABASE_URL, not the default
    expected.append("security.E005")
    assert ids(result) == expected


def test_deploy_passes_with_production_settings(head_database_url, backend):
    app = make_app(head_database_url, **PRODUCTION)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["check", "--deploy", "--json"])
    if backend == "postgresql":
        assert result.exit_code == 0
        assert json.loads(result.stdout) == []
    else:
        assert result.exit_code == 0  # SQLite chosen explicitly is a warning, not an error
        assert ids(result) == ["database.W001"]
        strict = runner.invoke(args=["check", "--deploy", "--fail-level", "warning"])
        assert strict.exit_code == 1
        assert "WARNING database.W001" in strict.stdout


def test_bad_fail_level_is_one_line(migrated_app):
    result = migrated_app.test_cli_runner().invoke(args=["check", "--fail-level", "fatal"])
    assert result.exit_code == 1
    assert result.stderr == "Error: --fail-level 'fatal' is not one of: info, warning, error\n"


# The settings checks, one by one, on an app that is otherwise production-ready.


@pytest.fixture
def production_app(head_database_url):
    return make_app(head_database_url, **PRODUCTION)


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (None, "security.E001"),
        ("", "security.E001"),
        ("pixcrawler-development-key-not-secret", "security.E002"),
        ("pixcrawler-testing-key", "security.E002"),
        ("too-short-but-random-9f8", "security.E003"),
        ("a" * 40, "security.E003"),
        ("password" * 5, "security.E003"),
        ("password" * 4 + "1", "security.E003"),
        pytest.param(secrets.token_urlsafe(48), None, id="a-new-random-key"),
        (STRONG_KEY, None),
        (STRONG_KEY.encode(), None),
    ],
)
def test_secret_key(production_app, key, expected):
    production_app.config["SECRET_KEY"] = key
    found = [f.id for f in checks.check_secret_key(production_app)]
    assert found == ([expected] if expected else [])


def test_debug_mode_is_an_error(production_app):
    production_app.debug = True
    [finding] = checks.check_debug(production_app)
    assert (finding.id, finding.level) == ("security.E004", "error")


def test_pixcrawler_debug_in_the_environment_is_an_error(production_app, monkeypatch):
    """`flask` resets app.debug after loading the app; a WSGI server would keep it on."""
    monkeypatch.setenv("PIXCRAWLER_DEBUG", "true")
    result = production_app.test_cli_runner().invoke(args=["check", "--deploy", "--json"])
    assert result.exit_code == 1
    assert "security.E004" in [finding["id"] for finding in json.loads(result.output)]
    monkeypatch.setenv("PIXCRAWLER_DEBUG", "false")
    result = production_app.test_cli_runner().invoke(args=["check", "--deploy", "--json"])
    assert "security.E004" not in [finding["id"] for finding in json.loads(result.output)]


def test_the_embedded_sqlite_default_is_an_error(production_app, tmp_path):
    embedded = Path(production_app.instance_path) / "pixcrawler.sqlite3"  # README's default
    production_app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{embedded}"
    [finding] = checks.check_database_backend(production_app)
    assert (finding.id, finding.level) == ("database.E002", "error")
    # Named in DATABASE_URL or not, it is the same file; the message must not say "unset".
    assert finding.message == (
        "the database is the embedded SQLite file (pixcrawler.sqlite3 in the instance folder), "
        "the default when DATABASE_URL is unset"
    )
    production_app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'chosen.db'}"
    [finding] = checks.check_database_backend(production_app)
    assert (finding.id, finding.level) == ("database.W001", "warning")
    production_app.config["SQLALCHEMY_DATABASE_URI"] = "postgresql://u@db.example/pix"
    assert checks.check_database_backend(production_app) == []


@pytest.mark.parametrize(
    ("setting", "value", "expected"),
    [
        ("SESSION_COOKIE_SECURE", False, ("security.E005", "error")),
        ("SESSION_COOKIE_HTTPONLY", False, ("security.W002", "warning")),
        ("SESSION_COOKIE_SAMESITE", None, ("security.W003", "warning")),
        ("SESSION_COOKIE_SAMESITE", "None", ("security.W003", "warning")),
        ("SESSION_COOKIE_SAMESITE", "Strict", None),
    ],
)
def test_session_cookie_settings(production_app, setting, value, expected):
    assert checks.check_session_cookies(production_app) == []
    production_app.config[setting] = value
    found = [(f.id, f.level) for f in checks.check_session_cookies(production_app)]
    assert found == ([expected] if expected else [])


def test_fail_level():
    warning = checks.Finding("x.W001", checks.WARNING, "m")
    info = checks.Finding("x.I001", checks.INFO, "m")
    assert not checks.failed([warning, info])
    assert checks.failed([warning], checks.WARNING)
    assert checks.failed([info], checks.INFO)
    assert not checks.failed([])


@pytest.mark.only_backend("postgresql")
def test_behind_a_statement_queued_for_a_lock_it_reports_instead_of_waiting(app):
    """A long transaction reads `profiles`; an ALTER (a migration's, say) queues behind it; every
    later reader of that table queues behind the ALTER. The drift comparison reads it too: it
    gives up after its own short lock_timeout and says so, while the ALTER still waits."""
    with app.app_context():
        upgrade()
        engine = db.engine
    holder = engine.connect()
    holder.execute(sa.text("SELECT count(*) FROM profiles"))  # keeps ACCESS SHARE open
    waiter = engine.connect()
    waiter_pid = waiter.execute(sa.text("SELECT pg_backend_pid()")).scalar()
    waiter.commit()
    failures: list[BaseException] = []

    def alter() -> None:
        try:
            waiter.exec_driver_sql("SET lock_timeout = '20s'")
            waiter.exec_driver_sql("ALTER TABLE profiles ADD COLUMN queued_flag INTEGER")
        except BaseException as exc:  # reported by the test thread
            failures.append(exc)
        finally:
            waiter.rollback()

    thread = threading.Thread(target=alter)
    thread.start()
    try:
        with engine.connect() as watcher:
            assert wait_until_waiting(watcher, waiter_pid)
            result = app.test_cli_runner().invoke(args=["check", "--json"])
            assert json.loads(result.stdout) == [
                {
                    "id": "migrations.W001",
                    "level": "warning",
                    "message": "models were not compared with the database: waited 1 s for a "
                    "lock on a table: another session (a migration?) holds or waits for one",
                    "hint": "Run `flask check` again once that session is done "
                    "(`SELECT * FROM pg_locks WHERE NOT granted` shows who waits).",
                }
            ]
            assert result.exit_code == 0  # a warning; --fail-level warning makes it 1
            assert wait_until_waiting(watcher, waiter_pid)  # the check did not outwait it
    finally:
        holder.rollback()
        holder.close()
        thread.join(timeout=60)
        waiter.close()
        with app.app_context():
            db.engine.dispose()
    assert not failures


def wait_until_waiting(connection: sa.Connection, pid: int) -> bool:
    """True once session `pid` waits for a lock (polled for up to 10 s)."""
    for _ in range(200):
        waiting = connection.execute(
            sa.text("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = :pid"),
            {"pid": pid},
        ).scalar()
        connection.rollback()
        if waiting:
            return True
        time.sleep(0.05)
    return False
