"""`flask showmigrations`: every revision with [X]/[ ], the head and current marked, `--plan`
in upgrade order, `--json`; on an empty database, part-way, at head, and with two heads."""

from __future__ import annotations

import json

import sqlalchemy as sa
from flask_migrate import upgrade

from pixcrawler.extensions import db
from tests.commands.cli_helpers import (
    UNREACHABLE,
    migrations_with_two_heads,
    ok,
    one_error_line,
    revision_ids,
)
from tests.conftest import make_app, run_flask


def lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith(" [")]


def test_empty_database_lists_every_revision_pending(flask_cli, backend):
    ids = revision_ids()
    result = ok(flask_cli("showmigrations"))
    first = result.stdout.splitlines()[0]
    assert first.endswith(": no schema yet")
    assert f"({backend}): " in first
    listed = lines(result.stdout)
    assert [line.split()[2] for line in listed] == ids
    assert all(line.startswith(" [ ] ") for line in listed)
    assert listed[-1].endswith("(head)")
    assert result.stderr == ""


def test_part_way_marks_current_and_plan_lists_the_rest_in_order(app):
    ids = revision_ids()
    with app.app_context():
        upgrade(revision=ids[0])
    runner = app.test_cli_runner()
    listed = lines(ok(runner.invoke(args=["showmigrations"])).stdout)
    assert listed[0] == f" [X] {ids[0]}  initial schema  (current)"
    assert all(line.startswith(" [ ] ") for line in listed[1:])

    plan = ok(runner.invoke(args=["showmigrations", "--plan"])).stdout.splitlines()
    assert [line.split()[0] for line in plan] == ids[1:]

    data = json.loads(ok(runner.invoke(args=["showmigrations", "--plan", "--json"])).stdout)
    assert data["current"] == [ids[0]]
    assert data["status"] == "pending"
    assert data["summary"] == f"{len(ids) - 1} pending"
    assert [r["id"] for r in data["plan"]] == ids[1:]
    assert set(data["plan"][0]) == {
        "id",
        "message",
        "down_revisions",
        "created",
        "is_head",
        "is_current",
        "applied",
    }


def test_at_head_everything_is_applied_and_the_plan_is_empty(migrated_app):
    ids = revision_ids()
    runner = migrated_app.test_cli_runner()
    result = ok(runner.invoke(args=["showmigrations"]))
    assert result.stdout.splitlines()[0].endswith(": up to date")
    listed = lines(result.stdout)
    assert all(line.startswith(" [X] ") for line in listed)
    assert listed[-1].endswith("(head, current)")
    assert ok(runner.invoke(args=["showmigrations", "--plan"])).stdout == (
        "Nothing to apply: up to date.\n"
    )
    data = json.loads(ok(runner.invoke(args=["showmigrations", "--json"])).stdout)
    assert data["status"] == "up to date"
    assert data["heads"] == data["current"] == [ids[-1]]
    assert data["pending"] == []
    assert [r["id"] for r in data["revisions"]] == ids
    assert all(r["applied"] for r in data["revisions"])


def test_two_heads_are_both_shown(database_url, tmp_path):
    folder, branch = migrations_with_two_heads(tmp_path)
    ids = revision_ids()
    env = {"PIXCRAWLER_MIGRATIONS_DIR": str(folder)}

    result = ok(run_flask("showmigrations", database_url=database_url, env=env))
    listed = lines(result.stdout)
    assert f" [ ] {branch}  side branch  (head, after 001)" in listed
    assert any(line.startswith(f" [ ] {ids[-1]} ") and "head" in line for line in listed)
    assert "Several heads" in result.stdout and "flask db merge heads" in result.stdout

    data = json.loads(
        ok(run_flask("showmigrations", "--json", database_url=database_url, env=env)).stdout
    )
    assert data["status"] == "several heads"
    assert sorted(data["heads"]) == sorted([ids[-1], branch])
    assert sorted(data["pending"]) == sorted([*ids, branch])

    ok(run_flask("db", "upgrade", "heads", database_url=database_url, env=env))
    result = ok(run_flask("showmigrations", database_url=database_url, env=env))
    listed = lines(result.stdout)
    assert all(line.startswith(" [X] ") for line in listed)
    assert sum("head, current" in line for line in listed) == 2


def test_unreachable_database_is_one_line():
    app = make_app(UNREACHABLE)
    result = app.test_cli_runner().invoke(args=["showmigrations"])
    line = one_error_line(result)
    assert "127.0.0.1:1" in line and "cannot read the migrations" in line


AHEAD_NOTE = (
    "The database is at 999, which these migration scripts do not contain: newer code "
    "migrated it. Which of their revisions are applied cannot be told, and nothing is pending."
)


def test_a_database_ahead_of_the_code_has_nothing_pending(app):
    ids = revision_ids()
    with app.app_context():
        upgrade()
        with db.engine.begin() as connection:
            connection.execute(sa.text("UPDATE alembic_version SET version_num = '999'"))
    runner = app.test_cli_runner()
    result = ok(runner.invoke(args=["showmigrations"]))
    assert result.stdout.splitlines()[0].endswith(": ahead of the code")
    assert [line.split("  ")[0] for line in lines(result.stdout)] == [f" [?] {i}" for i in ids]
    assert result.stdout.endswith(AHEAD_NOTE + "\n")
    plan = ok(runner.invoke(args=["showmigrations", "--plan"])).stdout
    assert plan == f"Nothing to apply: ahead of the code.\n{AHEAD_NOTE}\n"
    data = json.loads(ok(runner.invoke(args=["showmigrations", "--json"])).stdout)
    assert data["pending"] == [] and data["unknown_current"] == ["999"]
    assert [r["applied"] for r in data["revisions"]] == [None] * len(ids)
    assert data["ahead_note"] == AHEAD_NOTE
    assert (
        json.loads(ok(runner.invoke(args=["showmigrations", "--plan", "--json"])).stdout)["plan"]
        == []
    )


def test_beside_an_unknown_revision_a_known_one_still_shows_what_it_applied(app):
    """Two rows in alembic_version (a branch of newer code): 002's ancestors are applied,
    whether the rest are cannot be told."""
    first, second, *rest = revision_ids()
    with app.app_context():
        upgrade(revision=second)
        with db.engine.begin() as connection:
            connection.execute(sa.text("INSERT INTO alembic_version VALUES ('999')"))
    result = ok(app.test_cli_runner().invoke(args=["showmigrations"]))
    assert [line.split("  ")[0] for line in lines(result.stdout)] == [
        f" [X] {first}",
        f" [X] {second}",
        *[f" [?] {i}" for i in rest],
    ]
    assert "(current)" in lines(result.stdout)[1]


def test_a_missing_migrations_folder_is_one_line(database_url, tmp_path):
    app = make_app(database_url, MIGRATIONS_DIR=str(tmp_path / "nowhere"))
    result = app.test_cli_runner().invoke(args=["showmigrations"])
    assert "cannot read the migration scripts" in one_error_line(result)
