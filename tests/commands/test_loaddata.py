"""`flask loaddata`: the seed → dumpdata → flush → loaddata → dumpdata round trip gives the same
bytes; awkward values survive; a broken fixture names its file and record and leaves the database
as it was; keys are kept and sequences advanced; loading over existing rows asks first."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from pixcrawler.extensions import db
from pixcrawler.models import CrawlJob, Image, Profile, Project
from pixcrawler.services import accounts
from tests.commands.cli_helpers import ok, one_error_line, run_in_terminal
from tests.commands.data_helpers import counts, head_cli, snapshot

SMALL = ["--profiles", "3", "--projects", "4", "--jobs", "6", "--images", "300"]
OWNER = "6f1c1a52-3f55-4a53-9d0e-1d8f7f2b5c11"


def write_lines(path: Path, records: list) -> Path:
    path.write_text(
        "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records), "utf-8"
    )
    return path


def profile(id_: str = OWNER, email: str = "ada@example.com") -> dict:
    return {"table": "profiles", "row": {"id": id_, "email": email, "role": "user"}}


def project(id_: int, **row) -> dict:
    return {
        "table": "projects",
        "row": {"id": id_, "name": f"Project {id_}", "user_id": OWNER, "status": "active", **row},
    }


@pytest.mark.parametrize("fmt", ["jsonl", "json"])
def test_round_trip_gives_identical_bytes(migrated_app, head_database_url, tmp_path, fmt):
    run = head_cli(head_database_url)
    ok(run("seed", *SMALL, "--seed", "4"))
    with migrated_app.app_context():
        accounts.create_superuser("root@example.com", "correct horse battery staple")
        db.session.commit()
    before = counts(migrated_app)
    first, second = tmp_path / f"first.{fmt}", tmp_path / f"second.{fmt}"
    admins = tmp_path / f"admins.{fmt}"
    ok(run("dumpdata", "-o", str(first), "--format", fmt))
    ok(run("dumpdata", "admin_accounts", "-o", str(admins), "--format", fmt))  # only if named
    ok(run("flush", "--no-input"))
    assert not any(counts(migrated_app).values())
    loaded = ok(run("loaddata", str(first), str(admins)))
    assert loaded.stdout.startswith(f"Loaded {sum(before.values())} rows into ")
    ok(run("dumpdata", "-o", str(second), "--format", fmt))
    assert first.read_bytes() == second.read_bytes()
    assert counts(migrated_app) == before
    assert before["admin_accounts"] == 1  # every app table travels, admin accounts included


def test_awkward_values_round_trip_exactly(migrated_app, head_database_url, tmp_path):
    """UUIDs, microseconds and other offsets, JSON with unicode and nesting, control
    characters in text, booleans and NULLs come back equal, and dump to the same bytes."""
    with migrated_app.app_context():
        owner = Profile(id=uuid.uuid4(), email="zoë@example.com", full_name="Tab\there\nnewline\\")
        project_ = Project(name="Ünïcode ☃ project", owner=owner)
        job = CrawlJob(
            project=project_,
            name="job",
            keywords=["café", 'quote"d', {"nested": [1, 2.5, None, True]}],
            started_at=datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=timezone(timedelta(hours=5))),
        )
        image = Image(
            crawl_job=job,
            original_url="https://example.com/a b.jpg",
            filename="a.jpg",
            is_valid=False,
            is_duplicate=True,
            labels=None,
            metadata_={"z": 1, "a": {"y": [], "b": "x"}},
        )
        db.session.add_all([owner, project_, job, image])
        db.session.commit()
    run = head_cli(head_database_url)
    before = snapshot(migrated_app)
    first = tmp_path / "awkward.jsonl"
    ok(run("dumpdata", "-o", str(first)))
    text = first.read_text("utf-8")
    assert '"started_at": "2026-03-01T07:00:00.123456+00:00"' in text  # UTC, offset kept
    assert '"metadata": {"a": {"b": "x", "y": []}, "z": 1}' in text  # keys sorted
    ok(run("flush", "--no-input"))
    ok(run("loaddata", str(first)))
    assert snapshot(migrated_app) == before
    second = tmp_path / "again.jsonl"
    ok(run("dumpdata", "-o", str(second)))
    assert first.read_bytes() == second.read_bytes()


BROKEN = {
    "unknown table": (
        {"table": "pictures", "row": {"id": 1}},
        "record 4: unknown table 'pictures'",
    ),
    "unknown column": (
        project(103, colour="red"),
        "record 4 (projects): unknown column 'colour'",
    ),
    "bad value": (
        project(103, created_at="yesterday"),
        "record 4 (projects): bad value for 'created_at': \"yesterday\" is not an ISO 8601",
    ),
    "check constraint": (
        project(103, status="sleeping"),
        "record 4 (projects): constraint violation: ",
    ),
    "foreign key": (
        project(103, user_id="00000000-0000-4000-8000-000000000000"),
        "record 4 (projects): constraint violation: ",
    ),
    "unique email": (
        profile("0c4e07c4-96f3-4a4e-b2a4-7c3f4b8d9e10", email="ada@example.com"),
        "record 4 (profiles): constraint violation: ",
    ),
    "NUL in a string": (
        project(103, description="before\u0000after"),
        "record 4 (projects): value for 'description' contains a NUL character (\\u0000)",
    ),
    "NUL in a JSON value": (
        {
            "table": "crawl_jobs",
            "row": {"id": 900, "project_id": 101, "name": "job", "keywords": ["a\u0000b"]},
        },
        "record 4 (crawl_jobs): value for 'keywords' contains a NUL character",
    ),
    "string longer than its column": (
        profile("0c4e07c4-96f3-4a4e-b2a4-7c3f4b8d9e10", email="x" * 288 + "@example.com"),
        "record 4 (profiles): value for 'email' is longer than 255 characters (300)",
    ),
    "malformed line": (
        '{"table": "projects", "row": {"id": 103,',
        "record 4: malformed JSON",
    ),
    "not a record": (
        ["projects", {"id": 103}],
        'record 4: a record is {"table": NAME, "row": {COLUMN: VALUE}}',
    ),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_fixture_names_file_and_record_and_keeps_nothing(
    migrated_app, head_database_url, tmp_path, case
):
    run = head_cli(head_database_url)
    ok(run("seed", *SMALL))
    before = snapshot(migrated_app)
    bad, expected = BROKEN[case]
    # Good records first, in the same batch as the bad one: they must not stay either.
    fixture = write_lines(
        tmp_path / "fixtures.jsonl", [profile(), project(101), project(102), bad]
    )
    line = one_error_line(run("loaddata", "--no-input", str(fixture)))
    assert line.startswith(f"Error: {fixture}, record 4")
    assert expected in line
    assert snapshot(migrated_app) == before


def test_a_bad_second_file_undoes_the_first(migrated_app, head_database_url, tmp_path):
    good = write_lines(tmp_path / "good.jsonl", [profile(), project(1)])
    bad = write_lines(tmp_path / "bad.jsonl", [project(2, name=None)])
    line = one_error_line(head_cli(head_database_url)("loaddata", str(good), str(bad)))
    assert line.startswith(f"Error: {bad}, record 1 (projects): constraint violation")
    assert not any(counts(migrated_app).values())


def test_bad_record_after_many_batches_is_found(migrated_app, head_database_url, tmp_path):
    records = [profile()] + [project(i) for i in range(1, 2501)] + [project(2501, status="x")]
    fixture = write_lines(tmp_path / "many.jsonl", records)
    line = one_error_line(head_cli(head_database_url)("loaddata", str(fixture)))
    assert f"{fixture}, record 2502 (projects): constraint violation" in line
    assert not any(counts(migrated_app).values())


def test_json_array_errors_count_array_elements(migrated_app, head_database_url, tmp_path):
    fixture = tmp_path / "fixtures.json"
    fixture.write_text(
        json.dumps([profile(), project(1)], indent=4)[:-2] + ',\n    {"table": "x", "row": {}}\n]'
    )
    line = one_error_line(head_cli(head_database_url)("loaddata", str(fixture)))
    assert line == f"Error: {fixture}, record 3: unknown table 'x'"
    fixture.write_text(f'[{json.dumps(profile())} {{"table"')
    line = one_error_line(head_cli(head_database_url)("loaddata", str(fixture)))
    assert line == f"Error: {fixture}, record 2: malformed JSON (expected , or ])"


def test_keys_are_kept_and_new_inserts_do_not_collide(migrated_app, head_database_url, tmp_path):
    fixture = write_lines(tmp_path / "f.jsonl", [profile(), project(40), project(7)])
    ok(head_cli(head_database_url)("loaddata", str(fixture)))
    with migrated_app.app_context():
        assert db.session.scalars(sa.select(Project.id).order_by(Project.id)).all() == [7, 40]
        fresh = Project(name="after the load", user_id=uuid.UUID(OWNER))
        db.session.add(fresh)
        db.session.commit()  # PostgreSQL: only works because the sequence was advanced
        assert fresh.id == 41


def test_loading_over_existing_keys_asks_first(migrated_app, head_database_url, tmp_path):
    run = head_cli(head_database_url)
    ok(run("loaddata", str(write_lines(tmp_path / "a.jsonl", [profile(), project(1)]))))
    renamed = write_lines(tmp_path / "b.jsonl", [project(1, name="Renamed"), project(2)])
    line = one_error_line(run("loaddata", str(renamed)))  # no terminal, no --no-input
    assert "existing rows will be overwritten" in line and "--no-input" in line
    assert counts(migrated_app)["projects"] == 1

    code, shown = run_in_terminal(
        "loaddata", str(renamed), database_url=head_database_url, answers=[("Continue?", "n")]
    )
    assert code == 1 and "cancelled" in shown
    assert counts(migrated_app)["projects"] == 1

    result = ok(run("loaddata", "--no-input", str(renamed)))
    assert "(1 overwritten)" in result.stdout
    with migrated_app.app_context():
        names = db.session.scalars(sa.select(Project.name).order_by(Project.id)).all()
    assert names == ["Renamed", "Project 2"]


def test_progress_bar_only_on_a_terminal(migrated_app, head_database_url, tmp_path):
    fixture = write_lines(tmp_path / "f.jsonl", [profile(), project(1)])
    plain = ok(head_cli(head_database_url)("loaddata", str(fixture)))
    assert plain.stderr == ""
    ok(head_cli(head_database_url)("flush", "--no-input"))
    code, shown = run_in_terminal(
        "loaddata", str(fixture), database_url=head_database_url, answers=[]
    )
    assert code == 0 and "Loading" in shown and "100%" in shown


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.jsonl"], "missing.jsonl: no such fixture file"),
        ([], None),
    ],
)
def test_missing_files(migrated_app, head_database_url, args, message):
    result = head_cli(head_database_url)("loaddata", *args)
    if message is None:  # a usage mistake follows the one-line rule too
        assert one_error_line(result) == (
            "Error: Missing argument 'FILE...'. Try 'python -m flask loaddata --help' for help."
        )
        assert result.returncode == 1
    else:
        assert message in one_error_line(result)


def test_loaddata_without_schema_says_to_upgrade(flask_cli, tmp_path):
    fixture = write_lines(tmp_path / "f.jsonl", [profile()])
    assert "flask db upgrade" in one_error_line(flask_cli("loaddata", str(fixture)))


def test_now_is_not_used_for_timestamps(migrated_app, head_database_url, tmp_path):
    """Loaded rows keep the fixture's created_at; the server default does not replace it."""
    stamp = "2024-01-02T03:04:05+00:00"
    fixture = write_lines(tmp_path / "f.jsonl", [profile(), project(1, created_at=stamp)])
    ok(head_cli(head_database_url)("loaddata", str(fixture)))
    with migrated_app.app_context():
        created = db.session.scalar(sa.select(Project.created_at))
    assert created == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
