"""`flask seed`: the counts asked for, data that agrees with itself and looks real, the same rows
for the same seed, ids that continue (and sequences that follow on PostgreSQL), bad input."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime

import pytest
import sqlalchemy as sa

from pixcrawler.extensions import db
from pixcrawler.models import Project
from pixcrawler.services.bulk_insert import CopyStream, copy_converter, indexes_deferred
from pixcrawler.services.seed import IMAGE_COLUMNS, SeedPlan, image_copy_line
from pixcrawler.services.seed.rows import _Generator
from pixcrawler.services.seed.state import _State
from tests.commands.cli_helpers import ok, one_error_line
from tests.commands.data_helpers import counts, head_cli, snapshot
from tests.databases import delete_all_rows

SMALL = ["--profiles", "3", "--projects", "5", "--jobs", "8", "--images", "600"]
IMAGE_HOSTS = re.compile(
    r"^https://(images\.unsplash\.com|upload\.wikimedia\.org|live\.staticflickr\.com"
    r"|cdn\.pixabay\.com|i\.pinimg\.com)/"
)


def rows_as_dicts(app, table: str) -> list[dict]:
    with app.app_context(), db.engine.connect() as connection:
        model_table = db.metadata.tables[table]
        query = sa.select(model_table).order_by(*model_table.primary_key.columns)
        return [dict(row._mapping) for row in connection.execute(query)]


def test_seed_writes_the_requested_counts(migrated_app, head_database_url):
    run = head_cli(head_database_url)
    result = ok(run("seed", *SMALL, "--seed", "3"))
    assert result.stdout.startswith("Seeded 3 profiles, 5 projects, 8 crawl_jobs, 600 images")
    written = counts(migrated_app)
    assert (written["profiles"], written["projects"]) == (3, 5)
    assert (written["crawl_jobs"], written["images"]) == (8, 600)
    assert written["activity_logs"] >= 3 + 5  # a signup per profile, a creation per project
    assert written["validation_jobs"] >= 1
    assert written["export_jobs"] >= 1


def test_seeded_jobs_agree_with_their_images_and_statuses(migrated_app, head_database_url):
    # Seed 1 draws every job status and every chunk status, so each branch below runs.
    ok(head_cli(head_database_url)("seed", *SMALL, "--seed", "1"))
    images = rows_as_dicts(migrated_app, "images")
    job_chunks = rows_as_dicts(migrated_app, "job_chunks")
    jobs = rows_as_dicts(migrated_app, "crawl_jobs")
    assert {job["status"] for job in jobs} == {
        "pending",
        "running",
        "completed",
        "failed",
        "cancelled",
    }
    assert {chunk["status"] for chunk in job_chunks} == {
        "pending",
        "processing",
        "completed",
        "failed",
    }
    for job in jobs:
        mine = [image for image in images if image["crawl_job_id"] == job["id"]]
        assert job["total_images"] == job["downloaded_images"] == len(mine)
        assert job["valid_images"] == sum(image["is_valid"] for image in mine)
        assert job["max_images"] >= len(mine)
        assert job["keywords"] and all(isinstance(k, str) for k in job["keywords"])
        status = job["status"]
        if status == "pending":
            assert (job["progress"], len(mine), job["started_at"]) == (0, 0, None)
            assert job["completed_at"] is None
        elif status == "running":
            assert 1 <= job["progress"] <= 99
            assert job["started_at"] is not None and job["completed_at"] is None
            assert job["active_chunks"] >= 1
        elif status == "completed":
            assert job["progress"] == 100
            assert job["completed_chunks"] == job["total_chunks"]
            assert job["started_at"] <= job["completed_at"]
        else:  # failed or cancelled: stopped before the limit
            assert job["progress"] < 100
            assert job["started_at"] <= job["completed_at"]
        assert job["created_at"] <= (job["started_at"] or job["created_at"])
        for image in mine:
            assert image["downloaded_at"] >= job["started_at"]
        chunks = [chunk for chunk in job_chunks if chunk["job_id"] == job["id"]]
        by_status = Counter(chunk["status"] for chunk in chunks)
        assert len(chunks) == job["total_chunks"]
        assert by_status["completed"] == job["completed_chunks"]
        assert by_status["processing"] == job["active_chunks"]
        assert by_status["failed"] == job["failed_chunks"]
        assert [chunk["chunk_index"] for chunk in chunks] == list(range(len(chunks)))
        processing = [c["task_id"] for c in chunks if c["status"] == "processing"]
        assert job["task_ids"] == processing


def test_seeded_images_look_real(migrated_app, head_database_url):
    ok(head_cli(head_database_url)("seed", *SMALL, "--seed", "5"))
    images = rows_as_dicts(migrated_app, "images")
    formats = {image["format"] for image in images}
    assert formats <= {"jpg", "png", "webp"} and "jpg" in formats
    for image in images:
        assert IMAGE_HOSTS.match(image["original_url"]), image["original_url"]
        assert image["filename"].endswith("." + image["format"])
        assert image["storage_url"].endswith("/" + image["filename"])
        assert re.fullmatch(r"[0-9a-f]{64}", image["hash"])
        assert 256 <= image["width"] <= 5000 and 256 <= image["height"] <= 5000
        assert 10_000 < image["file_size"] < 50_000_000
        assert isinstance(image["downloaded_at"], datetime)
        assert image["downloaded_at"].tzinfo is not None
        assert image["metadata"]["keyword"] in image["filename"].replace("-", " ")
    duplicates = [image for image in images if image["is_duplicate"]]
    hashes = {image["hash"] for image in images}
    assert len(hashes) == len(images) - len(duplicates)  # a duplicate repeats an earlier hash
    profiles = rows_as_dicts(migrated_app, "profiles")
    assert all(re.fullmatch(r"[a-z]+\.[a-z]+\.\d+@[a-z.]+", p["email"]) for p in profiles)
    assert profiles and any(p["role"] == "admin" for p in profiles)
    assert {p["tier"] for p in profiles} <= {"free", "pro", "enterprise"}


def test_same_seed_gives_the_same_rows_and_another_seed_does_not(migrated_app, head_database_url):
    run = head_cli(head_database_url)
    ok(run("seed", *SMALL, "--seed", "7"))
    first = snapshot(migrated_app)
    with migrated_app.app_context():
        delete_all_rows(db.engine, db.metadata)
    ok(run("seed", *SMALL, "--seed", "7"))
    assert snapshot(migrated_app) == first
    with migrated_app.app_context():
        delete_all_rows(db.engine, db.metadata)
    ok(run("seed", *SMALL, "--seed", "8"))
    assert snapshot(migrated_app)["images"] != first["images"]


def test_seeding_twice_adds_rows_and_new_inserts_still_get_fresh_ids(
    migrated_app, head_database_url
):
    run = head_cli(head_database_url)
    ok(run("seed", *SMALL))
    ok(run("seed", *SMALL))  # same seed: ids continue, emails stay unique
    assert counts(migrated_app)["images"] == 1200
    with migrated_app.app_context():
        owner = db.session.scalars(sa.select(db.metadata.tables["profiles"].c.id)).first()
        project = Project(name="made after seeding", user_id=owner)
        db.session.add(project)
        db.session.commit()  # on PostgreSQL this needs the advanced sequence
        assert project.id == 11


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--images", "10", "--jobs", "0"], "images need crawl jobs"),
        (["--jobs", "3", "--projects", "0"], "crawl jobs need projects"),
        (["--projects", "1", "--profiles", "0"], "projects need owners"),
    ],
)
def test_impossible_counts_are_one_line_and_write_nothing(
    migrated_app, head_database_url, args, message
):
    line = one_error_line(head_cli(head_database_url)("seed", *args))
    assert message in line
    assert not any(counts(migrated_app).values())


def test_negative_count_is_a_usage_error(migrated_app, head_database_url):
    result = head_cli(head_database_url)("seed", "--images", "-1")
    assert result.returncode == 1  # README's rule: one line, exit 1, usage mistakes included
    assert one_error_line(result) == (
        "Error: Invalid value for '--images': -1 is not in the range x>=0. "
        "Try 'python -m flask seed --help' for help."
    )


def test_seed_without_schema_says_to_upgrade(flask_cli):
    line = one_error_line(flask_cli("seed", "--images", "5"))
    assert "flask db upgrade" in line


def test_help_has_an_example(migrated_app):
    result = ok(migrated_app.test_cli_runner().invoke(args=["seed", "--help"]))
    assert "Example: flask seed --images 1000000" in result.output


def test_fast_copy_lines_match_the_generic_converters(migrated_app):
    """image_copy_line skips the per-value converters; it must write the same text."""
    state = _State(next_ids=dict.fromkeys(
        ["projects", "crawl_jobs", "images", "activity_logs", "validation_jobs", "export_jobs"], 1
    ))  # fmt: skip
    generator = _Generator(SeedPlan(profiles=2, projects=2, jobs=4, images=2000), state)
    generator.profile_rows()
    generator.project_rows()
    generator.crawl_job_rows()
    rows = list(generator.image_rows())
    with migrated_app.app_context():
        table = db.metadata.tables["images"]
        converters = [copy_converter(table.c[name].type) for name in IMAGE_COLUMNS]
    assert (
        CopyStream(rows, converters).read() == CopyStream(rows, converters, image_copy_line).read()
    )


def index_definitions(connection) -> list[str]:
    query = "SELECT indexdef FROM pg_indexes WHERE tablename = 'images' ORDER BY indexname"
    return list(connection.scalars(sa.text(query)))


@pytest.mark.only_backend("postgresql")
def test_big_seeds_rebuild_the_images_indexes_exactly(migrated_app):
    """A million-image seed drops the secondary indexes for the COPY and rebuilds them; a
    failure in between brings them back with the rollback."""
    with migrated_app.app_context():
        table = db.metadata.tables["images"]
        with db.engine.connect() as connection:
            before = index_definitions(connection)
            connection.rollback()
            with connection.begin(), indexes_deferred(connection, table) as deferred:
                assert deferred and all(not name.startswith("pk_") for name in deferred)
                assert len(index_definitions(connection)) == len(before) - len(deferred)
            assert index_definitions(connection) == before
            connection.rollback()
            with (
                pytest.raises(RuntimeError),
                connection.begin(),
                indexes_deferred(connection, table),
            ):
                raise RuntimeError("COPY failed")
            assert index_definitions(connection) == before
