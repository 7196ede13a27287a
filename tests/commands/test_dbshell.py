"""`flask dbshell`: the real psql / sqlite3 on the test database, the password kept off the
command line, arguments after `--` passed on, and one line when the client is missing."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from pixcrawler.services.dbshell import ClientError, client_command
from tests.commands.cli_helpers import ok, one_error_line, run_plain_flask

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


def test_password_travels_in_the_environment_not_the_arguments(tmp_path):
    record = fake_client(tmp_path / "bin", "psql")
    url = "postgresql://pix:s3cret%21pw@db.example.com:6543/pixcrawler?sslmode=require"
    ok(
        run_plain_flask(
            "dbshell", "--", "-X", database_url=url, env={"PATH": str(tmp_path / "bin")}
        )
    )
    arguments, environment = record.read_text().split("PGPASSWORD=")
    assert arguments.splitlines() == [
        "-h", "db.example.com", "-p", "6543", "-U", "pix", "-X", "pixcrawler"
    ]  # fmt: skip
    assert "s3cret" not in arguments
    assert environment.splitlines() == ["s3cret!pw", "PGSSLMODE=require"]


def test_socket_host_and_no_password():
    client = client_command("postgresql:///pix?host=/run/postgresql")
    assert client.argv == ["psql", "-h", "/run/postgresql", "pix"]
    assert "PGPASSWORD" not in client.environment


def test_sqlite_file(tmp_path):
    client = client_command(f"sqlite:///{tmp_path}/app.db", ("-readonly",))
    assert client.argv == ["sqlite3", "-readonly", f"{tmp_path}/app.db"]
    assert client.environment == {}


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
