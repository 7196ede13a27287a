"""Every search, filter, sort and page of the big lists is served by an index on PostgreSQL.

The lists are fetched as a browser would (a logged-in client), on a database with enough rows
that the planner would rather scan the table than use a poor index (tens of thousands of
images, activity logs and job chunks, analysed). Each page's query is then run again under
EXPLAIN ANALYZE with the parameters it was sent with. The table must be read through an index,
never a sequential scan; the page must read about a page of rows, not walk an index past
thousands that do not match (the values below include rare ones whose rows are all old); and
where the page is full, it comes in the index's order, with no Sort. That is what keeps a
page's cost the same at any size.
"""

from __future__ import annotations

import random
import re
import uuid
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from pixcrawler.extensions import db
from pixcrawler.models import ActivityLog, JobChunk, Profile
from pixcrawler.services.seed import SeedPlan, seed_database
from tests.admin.helpers import add_superuser, login
from tests.admin.test_model_pages import statements
from tests.conftest import make_app

pytestmark = pytest.mark.postgresql

IMAGES = 60_000
LOGS = CHUNKS = 30_000
# Rows a page may read and throw away: a page of 20 among common values costs a few dozen; a
# walk past the rows of other values costs thousands here (millions in production).
DISCARDED_AT_MOST = 500
# A bitmap heap scan is fed by a bitmap index scan: an index read too (the planner takes it
# for a handful of rows; for more, a full page must come without a Sort, checked below).
INDEX_READS = {"Index Scan", "Index Only Scan", "Bitmap Heap Scan"}
TABLES = {"image": "images", "activitylog": "activity_logs", "jobchunk": "job_chunks"}


@dataclass(frozen=True)
class Sample:
    """Values taken from the seeded rows, for the URLs below."""

    job: int
    old_job: int
    hash: str
    prefix: str
    old_prefix: str
    email: str
    old_email: str
    task: str
    old_chunk_job: int


@pytest.fixture(scope="module")
def big(postgres):
    """An app on a PostgreSQL database at head with enough rows in each big table."""
    url = postgres.create()
    app = make_app(url, RATELIMIT_ENABLED=False)
    with app.app_context():
        upgrade()
        seed_database(SeedPlan(images=IMAGES, jobs=60))
        add_logs_and_chunks()
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
        sample = read_sample()
    add_superuser(app)
    client = app.test_client()
    assert login(client).status_code == 302
    yield app, client, sample
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    postgres.drop(url)


def add_logs_and_chunks() -> None:
    """Activity logs of the seeded users, and chunks of a job of many images (the seed makes
    only a few hundred of either at this size)."""
    pick = random.Random(7)
    users = db.session.scalars(sa.text("SELECT id FROM profiles")).all()
    early = Profile(email="early@example.com")  # a user whose few logs are all old
    db.session.add(early)
    db.session.flush()
    db.session.execute(
        sa.insert(ActivityLog),
        [{"user_id": early.id, "action": "project.create"} for _ in range(5)],
    )
    actions = ["project.create", "crawl_job.start", "crawl_job.complete", "export.create"]
    db.session.execute(
        sa.insert(ActivityLog),
        [
            {
                "user_id": pick.choice(users),
                "action": pick.choice(actions),
                "resource_type": "crawl_job",
                "resource_id": str(n),
            }
            for n in range(LOGS)
        ],
    )
    job = db.session.scalar(sa.text("SELECT max(id) FROM crawl_jobs"))
    db.session.execute(
        sa.insert(JobChunk),
        [
            {
                "job_id": job,
                "chunk_index": 1000 + n,
                "status": pick.choice(["pending", "completed", "completed", "failed"]),
                "image_range": {"start": n * 10, "end": n * 10 + 10},
                "task_id": str(uuid.UUID(int=pick.getrandbits(128))),
            }
            for n in range(CHUNKS)
        ],
    )


def read_sample() -> Sample:
    one = lambda sql: db.session.execute(sa.text(sql)).first()  # noqa: E731
    newest = one("SELECT crawl_job_id, hash, filename FROM images ORDER BY id DESC LIMIT 1")
    oldest = one("SELECT crawl_job_id, filename FROM images ORDER BY id LIMIT 1")
    return Sample(
        job=newest.crawl_job_id,
        old_job=oldest.crawl_job_id,
        hash=newest.hash,
        prefix=newest.filename[:1],
        old_prefix=oldest.filename.split("_")[0],
        email=one("SELECT email FROM profiles ORDER BY email LIMIT 1").email,
        old_email="early@example.com",
        task=one("SELECT task_id FROM job_chunks WHERE task_id IS NOT NULL LIMIT 1").task_id,
        old_chunk_job=one("SELECT job_id FROM job_chunks ORDER BY id LIMIT 1").job_id,
    )


# (endpoint, query string with {sample} fields, whether the page is full: read in index order)
OPERATIONS = [
    ("image", "", True),
    ("image", "after=30000", True),
    ("image", "sort=0", True),
    ("image", "sort=0&after=30000", True),
    ("image", "sort=0&desc=1&after=30000", True),
    ("image", "search={s.prefix}", True),
    ("image", "search={s.old_prefix}", True),
    ("image", "search={s.prefix}&after=30000", True),
    ("image", "search=zzz-none", False),
    ("image", "flt0_0={s.job}", True),
    ("image", "flt0_0={s.old_job}", True),
    ("image", "flt0_0=999999", False),
    ("image", "flt0_1={s.hash}", False),
    ("image", "flt0_1=no-such-hash", False),
    ("image", "flt0_2=png", True),
    ("image", "flt0_2=tiff", False),
    ("image", "flt0_3=0", True),
    ("image", "flt0_3=1", True),
    ("image", "flt0_4=1", True),
    ("image", "flt0_4=0", True),
    ("image", "flt0_0={s.job}&after=30000", True),
    ("activitylog", "", True),
    ("activitylog", "after=1000", True),
    ("activitylog", "sort=0", True),
    ("activitylog", "flt0_0={s.email}", True),
    ("activitylog", "flt0_0={s.old_email}", False),
    ("activitylog", "flt0_0=nobody@example.com", False),
    ("activitylog", "flt0_1=crawl_job.start", True),
    ("activitylog", "flt0_1=no.such.action", False),
    ("activitylog", "flt0_2=crawl_job", True),
    ("activitylog", "flt0_2=nothing", False),
    ("jobchunk", "", True),
    ("jobchunk", "sort=0&after=1000", True),
    ("jobchunk", "search={s.task}", False),
    ("jobchunk", "search=no-such-task", False),
    ("jobchunk", "flt0_0=failed", True),
    ("jobchunk", "flt0_0=processing", True),
    ("jobchunk", "flt0_1={s.old_chunk_job}", True),
    ("jobchunk", "flt0_1=999999", False),
]


@pytest.mark.parametrize(("endpoint", "query", "full"), OPERATIONS)
def test_each_list_operation_reads_an_index(big, endpoint, query, full):
    app, client, sample = big
    url = f"/admin/{endpoint}/?{query.format(s=sample)}"
    with statements(app) as sql:
        response = client.get(url)
    assert response.status_code == 200, url
    table = TABLES[endpoint]
    listed = [i for i, s in enumerate(sql) if f"FROM {table}" in s and "LIMIT" in s]
    assert len(listed) == 1, sql
    plan = explain(app, sql[listed[0]], sql.parameters[listed[0]])
    nodes = list(walk(plan))
    reads = [n for n in nodes if n.get("Relation Name") == table]
    # (No read at all is fine too: a filter value known to match nothing.)
    assert all(n["Node Type"] in INDEX_READS for n in reads), (url, node_types(nodes))
    discarded = sum(n.get("Rows Removed by Filter", 0) * n.get("Actual Loops", 1) for n in reads)
    assert discarded <= DISCARDED_AT_MOST, (url, discarded, plan)
    if full:
        assert not [n for n in nodes if n["Node Type"] == "Sort"], (url, plan)
        assert "LIMIT" in sql[listed[0]] and "OFFSET" not in sql[listed[0]]


def explain(app, statement: str, parameters) -> dict:
    with app.app_context():
        connection = db.engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", parameters)
            return cursor.fetchone()[0][0]["Plan"]
        finally:
            connection.close()


def node_types(nodes: list[dict]) -> list[tuple]:
    return [(n["Node Type"], n.get("Relation Name"), n.get("Index Name")) for n in nodes]


def walk(node: dict):
    yield node
    for child in node.get("Plans", []):
        yield from walk(child)


def test_the_file_name_search_has_its_own_index(big):
    """The search compares exactly the expression the index holds, or the index goes unused."""
    app, _, _ = big
    with app.app_context():
        definition = db.session.scalar(
            sa.text("SELECT pg_get_indexdef('ix_images_filename_prefix'::regclass)")
        )
    assert re.search(r'lower\(\(\(?filename\)?::text COLLATE "C"\)\), id\)', definition)
