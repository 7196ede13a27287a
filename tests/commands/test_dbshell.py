"""`flask dbshell`: the real psql / sqlite3 on the test database, the password kept off the
command line, arguments after `--` passed on, and one line when the client is missing."""

from __future__ import annotations

import stat
import uuid
from pathlib import Path

import pytest

from pixcrawler.services.dbshell import ClientError, client_command
from tests.commands.cli_helpers import UNREACHABLE, ok, one_error_line, run_plain_flask
from tests.conftest import REPO_ROOT

CLIENT = {"postgresql": "psql", "sqlite": "sqlite3"}


def test_opens_the_real_client_on_the_app_database(flask_cli):
    result = ok(flask_cli("dbshell", stdin="SELECT 40 + 2;\n"))
    assert "42" in result.stdout


def test_arguments_after_the_double_dash_go_to_the_client(flask_cli, backend):
    extra = {"postgresql": ["-A", "-t", "-c", "SELECT 6 * 7"], "sqlite": ["-cmd", "SELECT 6*7"]}
    result = ok(flask_cli("dbshell", "--", *extra[backend], stdin=""))
    assert result.stdout.strip() == "42"


def test_missing_client_is_one_line(flask_cli, backend, tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    result = flask_cli("dbshell", env={"PATH": str(empty)}, stdin="SELECT 1;\n")
    line = one_error_line(result)
    assert f"the {CLIENT[backend]} program is not installed or not on PATH" in line


def fake_client(folder: Path, name: str) -> Path:
    """A stand-in client that records its arguments and PGPASSWORD instead of connecting."""
    folder.mkdir()
    record = folder / "record.txt"
    script = folder / name
    script.write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$@" > "{record}"\n'
        f'printf "PGPASSWORD=%s\\nPGSSLMODE=%s\\n" "$PGPASSWORD" "$PGSSLMODE" >> "{record}"\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return record


@pytest.mark.postgresql
def test_password_travels_in_the_environment_not_the_arguments(tmp_path, postgres):
    record = fake_client(tmp_path / "bin", "psql")
    # The server trusts local connections, so any password lets dbshell's first connection in.
    server = postgres.server_url
    url = server.set(username="postgres", password="s3cret!pw", query={"sslmode": "prefer"})
    ok(
        run_plain_flask(
            "dbshell",
            "--",
            "-X",
            database_url=url.render_as_string(hide_password=False),
            env={"PATH": str(tmp_path / "bin")},
        )
    )
    arguments, environment = record.read_text().split("PGPASSWORD=")
    assert arguments.splitlines() == [
        "-h", server.host, "-p", str(server.port), "-U", "postgres", "-X", server.database
    ]  # fmt: skip
    assert "s3cret" not in arguments
    assert environment.splitlines() == ["s3cret!pw", "PGSSLMODE=prefer"]


def test_socket_host_and_no_password():
    client = client_command("postgresql:///pix?host=/run/postgresql")
    assert client.argv == ["psql", "-h", "/run/postgresql", "pix"]
    assert "PGPASSWORD" not in client.environment


def test_sqlite_file(tmp_path):
    client = client_command(f"sqlite:///{tmp_path}/app.db", ("-readonly",))
    assert client.argv == ["sqlite3", "-readonly", f"{tmp_path}/app.db"]
    assert client.environment == {}


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (("SELECT 1",), ["FILE", "SELECT 1"]),
        (("-header", "SELECT 1"), ["-header", "FILE", "SELECT 1"]),
        (("-cmd", "SELECT 6*7", "-json"), ["-cmd", "SELECT 6*7", "-json", "FILE"]),
        (("--separator", ";", "SELECT 1"), ["--separator", ";", "FILE", "SELECT 1"]),
        (("-lookaside", "64", "8", "-bail"), ["-lookaside", "64", "8", "-bail", "FILE"]),
        (("-A", "-t"), ["FILE", "-A", "-t"]),  # the archive option goes after the file
        (("-cmd",), ["-cmd", "FILE"]),
    ],
)
def test_sqlite3_options_go_before_the_file_and_sql_after_it(extra, expected):
    client = client_command("sqlite:////data/app.db", extra)
    assert client.argv == ["sqlite3", *["/data/app.db" if a == "FILE" else a for a in expected]]


@pytest.fixture
def relative_name():
    """A relative SQLite name: the app puts it in the instance folder of the repo."""
    name = f"dbshell-{uuid.uuid4().hex[:8]}.sqlite3"
    yield name
    instance = REPO_ROOT / "instance"
    lock = instance / f"{name}.migration-lock"  # `flask db upgrade`'s runner lock file
    for leftover in (instance / name, lock, REPO_ROOT / name, REPO_ROOT / "SELECT 6*7"):
        leftover.unlink(missing_ok=True)


def test_a_relative_sqlite_url_opens_the_apps_file_and_runs_the_sql(relative_name):
    url = f"sqlite:///{relative_name}"
    ok(run_plain_flask("db", "upgrade", database_url=url))
    result = ok(
        run_plain_flask("dbshell", "--", "SELECT count(*) FROM alembic_version", database_url=url)
    )
    assert result.stdout == "1\n"  # the app's own file: migrated, one revision row
    result = ok(
        run_plain_flask("dbshell", "--", "-header", "SELECT 6*7 AS answer", database_url=url)
    )
    assert result.stdout == "answer\n42\n"
    assert (REPO_ROOT / "instance" / relative_name).is_file()
    assert not (REPO_ROOT / relative_name).exists()
    assert not (REPO_ROOT / "SELECT 6*7").exists()


def test_an_unreachable_database_is_one_line_not_the_clients_exit_code():
    result = run_plain_flask("dbshell", database_url=UNREACHABLE)
    assert result.returncode == 1
    line = one_error_line(result)
    assert line.startswith("Error: database error on postgresql+psycopg2://postgres@127.0.0.1:1/")
    assert "Connection refused" in line


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite://", "in-memory"),
        ("sqlite:///:memory:", "in-memory"),
        ("mysql://u:p@h/db", "no command-line client is known for mysql"),
    ],
)
def test_databases_without_a_client(url, message):
    with pytest.raises(ClientError, match=message):
        client_command(url)


def test_in_memory_database_is_one_line():
    result = run_plain_flask("dbshell", database_url="sqlite://")
    assert "in-memory" in one_error_line(result)
