"""`flask db lint` (squawk over each migration's PostgreSQL SQL) and the production downgrade
confirmation, both through the real `flask` command."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT, run_flask
from tests.migrations.conftest import (
    HEAD,
    REVISIONS,
    assert_one_line_error,
    flask_env,
    revision_of,
)

SQUAWK_CONFIG = REPO_ROOT / "migrations" / "squawk.toml"


@pytest.mark.only_backend("sqlite")  # lint renders PostgreSQL SQL offline on any backend
def test_every_migration_passes_lint(database_url):
    result = run_flask("db", "lint", database_url=database_url)
    assert result.returncode == 0, result.stdout + result.stderr
    for revision in REVISIONS:
        assert re.search(rf"^{revision} .*: ok$", result.stdout, re.M), result.stdout
    assert f"{len(REVISIONS)} migration(s) linted, no violations" in result.stdout


@pytest.mark.only_backend("sqlite")
def test_lint_takes_a_range(database_url):
    result = run_flask("db", "lint", "002:003", database_url=database_url)
    assert result.returncode == 0, result.stderr
    assert [line.split()[0] for line in result.stdout.splitlines()[:-1]] == ["002", "003"]
    unknown = run_flask("db", "lint", "999", database_url=database_url)
    assert unknown.returncode == 1
    assert_one_line_error(unknown.stderr, "999")


BLOCKING_INDEX = "op.create_index('ix_images_filename', 'images', ['filename'])"


@pytest.mark.only_backend("sqlite")
def test_lint_reports_violations_by_migration_and_fails(database_url, scratch_migrations):
    new = scratch_migrations.add("index images the blocking way", BLOCKING_INDEX)
    result = run_flask("db", "lint", database_url=database_url, env=scratch_migrations.env)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    at = len(REVISIONS)  # the repository's revisions come first, each on one line
    assert lines[at - 1].startswith(f"{HEAD} ") and lines[at - 1].endswith(": ok")
    assert lines[at] == f"{new}  index images the blocking way: 1 violation(s)"
    assert "require-concurrent-index-creation" in lines[at + 1]
    assert "CREATE INDEX ix_images_filename ON images (filename);" in lines[at + 2]
    assert_one_line_error(result.stderr, f"1 squawk violation(s) in migration(s) {new}")


def test_every_rule_turned_off_says_why():
    lines = SQUAWK_CONFIG.read_text().splitlines()
    start = lines.index("excluded_rules = [")
    rules = [i for i, line in enumerate(lines[start + 1 :], start + 1) if line.strip()[:1] == '"']
    assert rules
    for i in rules:
        above = i - 1
        while lines[above].strip().startswith('"'):  # rules grouped under one reason
            above -= 1
        assert lines[above].strip().startswith("#"), lines[i]


PRODUCTION = {"PIXCRAWLER_ENV": "production", "SECRET_KEY": "a-real-production-secret-0123456789"}


@pytest.fixture
def at_head(database_url):
    assert run_flask("db", "upgrade", database_url=database_url).returncode == 0
    return database_url


def test_production_downgrade_without_terminal_or_flag_refuses_and_changes_nothing(at_head):
    result = run_flask("db", "downgrade", "base", database_url=at_head, env=PRODUCTION)
    assert result.returncode == 1
    assert_one_line_error(
        result.stderr,
        "refusing to downgrade the production database",
        "--yes",
        "PIXCRAWLER_ALLOW_DOWNGRADE=1",
    )
    assert revision_of(at_head) == {HEAD}


@pytest.mark.only_backend("sqlite")  # offline: the same on either backend
def test_production_downgrade_sql_only_prints_and_never_asks(at_head):
    top, below = REVISIONS[-1], REVISIONS[-2]
    result = run_flask(
        "db", "downgrade", f"{top}:{below}", "--sql", database_url=at_head, env=PRODUCTION
    )
    assert result.returncode == 0, result.stderr
    assert f"-- Running downgrade {top} -> {below}" in result.stdout
    assert revision_of(at_head) == {HEAD}


@pytest.mark.parametrize(
    ("args", "env"),
    [(("--yes",), {}), ((), {"PIXCRAWLER_ALLOW_DOWNGRADE": "1"})],
    ids=["--yes", "PIXCRAWLER_ALLOW_DOWNGRADE"],
)
def test_production_downgrade_with_the_flag_runs(at_head, args, env):
    result = run_flask(
        "db", "downgrade", "003", *args, database_url=at_head, env={**PRODUCTION, **env}
    )
    assert result.returncode == 0, result.stderr
    assert revision_of(at_head) == {"003"}


def downgrade_on_a_terminal(database_url: str, answer: str) -> tuple[int, str]:
    """`flask db downgrade 003` in production with a terminal as stdin, answering `answer`."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "db", "downgrade", "003"],
        cwd=REPO_ROOT,
        env=flask_env(database_url, PRODUCTION),
        stdin=follower,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    os.close(follower)
    os.write(leader, f"{answer}\n".encode())
    output, _ = process.communicate(timeout=120)
    os.close(leader)
    return process.returncode, output


def test_production_downgrade_on_a_terminal_asks_first(at_head):
    code, output = downgrade_on_a_terminal(at_head, "n")
    assert code == 1 and "Downgrade the production database" in output
    assert "downgrade cancelled; nothing was changed" in output
    assert revision_of(at_head) == {HEAD}
    code, output = downgrade_on_a_terminal(at_head, "y")
    assert code == 0, output
    assert revision_of(at_head) == {"003"}


def test_outside_production_downgrade_does_not_ask(at_head):
    result = run_flask("db", "downgrade", database_url=at_head)
    assert result.returncode == 0, result.stderr
    assert revision_of(at_head) == {REVISIONS[-2]}  # one step down, as Flask-Migrate's default
