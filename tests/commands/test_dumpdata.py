"""`flask dumpdata`: every app table in foreign-key order, rows by primary key, JSON Lines or a
JSON array, a chosen set of tables, a file that appears only when complete, bad input."""

from __future__ import annotations

import json
import stat
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from pixcrawler.extensions import db
from pixcrawler.services import accounts, admin_sessions
from pixcrawler.services.app_tables import STATE_TABLES
from tests.admin.helpers import EMAIL, PASSWORD
from tests.commands.cli_helpers import ok, one_error_line, run_in_terminal
from tests.commands.data_helpers import counts, head_cli
from tests.conftest import make_app

SMALL = ["--profiles", "3", "--projects", "4", "--jobs", "5", "--images", "120"]


def table_order(records: list[dict]) -> list[str]:
    return list(dict.fromkeys(record["table"] for record in records))


def test_jsonl_to_stdout_in_foreign_key_and_key_order(migrated_app, head_database_url):
    run = head_cli(head_database_url)
    ok(run("seed", *SMALL))
    result = ok(run("dumpdata"))
    assert result.stderr == ""  # no progress bar, no summary when not on a terminal
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert all(set(record) == {"table", "row"} for record in records)
    with migrated_app.app_context():
        fk_order = [table.name for table in db.metadata.sorted_tables]
    assert table_order(records) == [name for name in fk_order if name in table_order(records)]
    assert "alembic_version" not in table_order(records)
    image_ids = [r["row"]["id"] for r in records if r["table"] == "images"]
    assert image_ids == sorted(image_ids) and len(image_ids) == 120
    profile = next(r["row"] for r in records if r["table"] == "profiles")
    assert profile["created_at"].endswith("+00:00")


def test_selected_tables_come_in_foreign_key_order(migrated_app, head_database_url):
    run = head_cli(head_database_url)
    ok(run("seed", *SMALL))
    records = [
        json.loads(line)
        for line in ok(run("dumpdata", "projects", "profiles")).stdout.splitlines()
    ]
    assert table_order(records) == ["profiles", "projects"]
    assert len(records) == 3 + 4


def test_json_format_with_indent_to_a_file(migrated_app, head_database_url, tmp_path):
    run = head_cli(head_database_url)
    ok(run("seed", *SMALL))
    target = tmp_path / "dump.json"
    result = ok(run("dumpdata", "-o", str(target), "--indent", "2"))
    written = {
        n: c
        for n, c in counts(migrated_app).items()
        if n not in STATE_TABLES and n != "admin_accounts"
    }
    total, tables = sum(written.values()), len(written)
    assert result.stdout == (
        f"Dumped {total} rows from {tables} tables to {target}; "
        "admin_accounts left out (name it to dump it).\n"
    )
    text = target.read_text("utf-8")
    records = json.loads(text)
    assert len([r for r in records if r["table"] == "images"]) == 120
    assert text.startswith('[\n  {\n    "table": "profiles",\n    "row": {\n')
    assert stat.S_IMODE(target.stat().st_mode) == 0o600  # may hold password hashes


def test_credentials_are_dumped_only_when_their_table_is_named(
    migrated_app, head_database_url, tmp_path
):
    with migrated_app.app_context():
        accounts.create_superuser("root@example.com", "correct horse battery staple")
        db.session.commit()
    run = head_cli(head_database_url)
    ok(run("seed", "--profiles", "1", "--projects", "1", "--jobs", "1", "--images", "1"))
    everything = [json.loads(line) for line in ok(run("dumpdata")).stdout.splitlines()]
    assert "admin_accounts" not in table_order(everything)
    assert "password_hash" not in json.dumps(everything)
    with migrated_app.app_context():
        left_out = {"admin_accounts"} | STATE_TABLES
        others = [t.name for t in db.metadata.sorted_tables if t.name not in left_out]
    assert table_order(everything) == others
    named = [
        json.loads(line) for line in ok(run("dumpdata", "admin_accounts")).stdout.splitlines()
    ]
    [account] = named
    assert account["table"] == "admin_accounts"
    assert set(account["row"]) >= {"profile_id", "password_hash"}
    assert account["row"]["password_hash"].startswith(("scrypt:", "pbkdf2:"))
    target = tmp_path / "admins.jsonl"
    result = ok(run("dumpdata", "admin_accounts", "profiles", "-o", str(target)))
    assert result.stdout == f"Dumped 3 rows from 2 tables to {target}.\n"  # 2 profiles
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


@pytest.mark.parametrize(("option", "value"), [("--indent", "2"), ("-o", "{tmp}/x.json")])
def test_indent_or_a_json_file_switch_to_json(
    migrated_app, head_database_url, tmp_path, option, value
):
    run = head_cli(head_database_url)
    ok(run("seed", "--profiles", "2", "--projects", "0", "--jobs", "0", "--images", "0"))
    value = value.replace("{tmp}", str(tmp_path))
    result = ok(run("dumpdata", "profiles", option, value))
    text = (tmp_path / "x.json").read_text("utf-8") if option == "-o" else result.stdout
    records = json.loads(text)  # one JSON array, not JSON Lines
    assert [r["table"] for r in records] == ["profiles", "profiles"]


def test_json_file_extension_picks_the_format(migrated_app, head_database_url, tmp_path):
    run = head_cli(head_database_url)
    ok(run("seed", *SMALL))
    ok(run("dumpdata", "-o", str(tmp_path / "a.json")))
    ok(run("dumpdata", "-o", str(tmp_path / "a.jsonl")))
    as_json = json.loads((tmp_path / "a.json").read_text("utf-8"))
    lines = (tmp_path / "a.jsonl").read_text("utf-8").splitlines()
    assert as_json == [json.loads(line) for line in lines]


def test_empty_database_dumps_nothing(migrated_app, head_database_url, tmp_path):
    run = head_cli(head_database_url)
    assert ok(run("dumpdata")).stdout == ""
    assert ok(run("dumpdata", "--format", "json")).stdout == "[]\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["pictures"], "unknown table 'pictures'; choose from: "),
        (["alembic_version"], "unknown table 'alembic_version'"),
        (["--format", "jsonl", "--indent", "2"], "--indent applies to --format json"),
        (["-o", "/nonexistent-dir/x.jsonl"], "cannot write /nonexistent-dir/x.jsonl"),
    ],
)
def test_bad_requests_are_one_line(migrated_app, head_database_url, tmp_path, args, message):
    assert message in one_error_line(head_cli(head_database_url)("dumpdata", *args))


def test_failed_dump_leaves_no_file(migrated_app, head_database_url, tmp_path):
    target = tmp_path / "never.jsonl"
    one_error_line(head_cli(head_database_url)("dumpdata", "nope", "-o", str(target)))
    assert list(tmp_path.iterdir()) == []


def test_progress_bar_only_on_a_terminal(migrated_app, head_database_url, tmp_path):
    ok(head_cli(head_database_url)("seed", *SMALL))
    target = tmp_path / "f.jsonl"
    code, shown = run_in_terminal(
        "dumpdata", "-o", str(target), database_url=head_database_url, answers=[]
    )
    assert code == 0 and "Dumping" in shown and "100%" in shown
    lines = target.read_text("utf-8").splitlines()
    assert len(lines) == sum(counts(migrated_app).values())


def test_dumpdata_without_schema_says_to_upgrade(flask_cli):
    assert "flask db upgrade" in one_error_line(flask_cli("dumpdata"))


def test_help_has_examples(migrated_app):
    runner = migrated_app.test_cli_runner()
    assert (
        "flask dumpdata -o fixtures.jsonl" in ok(runner.invoke(args=["dumpdata", "--help"])).output
    )
    assert "flask loaddata fixtures.jsonl" in ok(runner.invoke(args=["loaddata", "--help"])).output


@contextmanager
def images_unreadable(database_url: str) -> Iterator[str]:
    """A database URL on which the dump fails at images, after the tables before it were read.

    SQLite: one image's timestamp is not a time. PostgreSQL: a role that may read every table
    but images. Either way the check of the schema up front passes.
    """
    engine = sa.create_engine(database_url)
    if engine.dialect.name == "sqlite":
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "UPDATE images SET created_at = 'yesterday' "
                "WHERE id = (SELECT max(id) FROM images)"
            )
        engine.dispose()
        yield database_url
        return
    role = f"pixcrawler_test_{uuid.uuid4().hex[:8]}"
    with engine.begin() as connection:
        connection.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
        connection.exec_driver_sql(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
        connection.exec_driver_sql(f"REVOKE SELECT ON images FROM {role}")
    try:
        yield sa.engine.make_url(database_url).set(username=role).render_as_string(False)
    finally:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"DROP OWNED BY {role}")
            connection.exec_driver_sql(f"DROP ROLE {role}")
        engine.dispose()


def test_a_dump_failing_halfway_leaves_no_file(database_url, backend, tmp_path):
    """Rows before the failure were already in the temporary file: neither file is left."""
    app = make_app(database_url)
    with app.app_context():
        upgrade()
        ok(app.test_cli_runner().invoke(args=["seed", *SMALL]))
        db.engine.dispose()
    folder = tmp_path / "out"
    folder.mkdir()
    with images_unreadable(database_url) as url:
        reader = make_app(url)
        with reader.app_context():
            result = reader.test_cli_runner().invoke(
                args=["dumpdata", "-o", str(folder / "dump.jsonl")]
            )
            db.engine.dispose()
    line = one_error_line(result)  # README: one `Error:` line and exit 1, no traceback
    reason = {
        "sqlite": "table images holds a value that cannot be read",
        "postgresql": "permission denied for table images",
    }
    assert reason[backend] in line
    assert list(folder.iterdir()) == []  # neither dump.jsonl nor its temporary file


def test_admin_sessions_are_never_dumped_nor_loaded(migrated_app, tmp_path):
    """A restore must never bring back a session that was logged out (or its digest)."""
    with migrated_app.app_context():
        account = accounts.create_superuser(EMAIL, PASSWORD)
        life = admin_sessions.Lifetime(idle=timedelta(hours=2), absolute=timedelta(hours=12))
        admin_sessions.open_session(account.profile_id, datetime.now(UTC), life)
        db.session.commit()
        admin = str(account.profile_id)
    runner = migrated_app.test_cli_runner()
    dump = tmp_path / "dump.jsonl"
    for named in ([], ["admin_accounts"]):  # credentials only when named; sessions never
        result = runner.invoke(args=["dumpdata", *named, "-o", str(dump)])
        assert result.exit_code == 0, result.output
        tables = table_order([json.loads(line) for line in dump.read_text().splitlines()])
        assert ("admin_accounts" in tables) == bool(named) and "admin_sessions" not in tables
    line = one_error_line(runner.invoke(args=["dumpdata", "admin_sessions"]))
    assert "unknown table 'admin_sessions'" in line
    fixture = tmp_path / "sessions.jsonl"
    record = {"id_digest": "a" * 64, "profile_id": admin}
    fixture.write_text(json.dumps({"table": "admin_sessions", "row": record}) + "\n")
    line = one_error_line(runner.invoke(args=["loaddata", str(fixture), "--no-input"]))
    assert "unknown table 'admin_sessions'" in line
