"""Revisions 003 (job_chunks), 004 (profiles.tier, images(crawl_job_id, hash)), 005
(admin_sessions) and 006 (the admin lists' indexes): up, down and up again on both backends,
and on PostgreSQL proof that 004 never stops writers and that 006 finishes an interrupted run."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from pixcrawler.extensions import db
from pixcrawler.migrator.drift import schema_drift
from pixcrawler.migrator.sql import revision_sql
from tests.admin.helpers import add_superuser
from tests.conftest import run_flask
from tests.migrations.conftest import HEAD, revision_of, start_flask, wait_until

profiles = sa.table(
    "profiles", sa.column("id", sa.Uuid), sa.column("email"), sa.column("tier", sa.String)
)
projects = sa.table("projects", sa.column("id"), sa.column("name"), sa.column("user_id", sa.Uuid))
crawl_jobs = sa.table(
    "crawl_jobs",
    sa.column("id"),
    sa.column("project_id"),
    sa.column("name"),
    sa.column("keywords", sa.JSON),
)
job_chunks = sa.table(
    "job_chunks",
    sa.column("id"),
    sa.column("job_id"),
    sa.column("chunk_index"),
    sa.column("status"),
    sa.column("priority"),
    sa.column("image_range", sa.JSON),
    sa.column("retry_count"),
)
images = sa.table(
    "images",
    sa.column("crawl_job_id"),
    sa.column("original_url"),
    sa.column("filename"),
    sa.column("hash"),
)


def add_crawl_job(engine: sa.Engine) -> int:
    """A profile, a project and a crawl job, written as plain SQL (models are at head)."""
    with engine.begin() as connection:
        user = uuid.uuid4()
        connection.execute(profiles.insert().values(id=user, email=f"{user.hex}@example.com"))
        project = connection.execute(
            projects.insert().values(name="p", user_id=user).returning(projects.c.id)
        ).scalar_one()
        return connection.execute(
            crawl_jobs.insert()
            .values(project_id=project, name="j", keywords=["cats"])
            .returning(crawl_jobs.c.id)
        ).scalar_one()


def refused(engine: sa.Engine, statement) -> bool:
    try:
        with engine.begin() as connection:
            connection.execute(statement)
    except sa.exc.IntegrityError:
        return True
    return False


def index_names(table: str) -> set[str]:
    return {ix["name"] for ix in sa.inspect(db.engine).get_indexes(table)}


def check_job_chunks(engine: sa.Engine) -> None:
    job = add_crawl_job(engine)
    chunk = {"job_id": job, "image_range": {"start": 0, "end": 500}}
    with engine.begin() as connection:
        connection.execute(job_chunks.insert().values(chunk_index=0, **chunk))
        row = connection.execute(sa.select(job_chunks)).one()
    assert (row.status, row.priority, row.retry_count) == ("pending", 5, 0)
    assert row.image_range == {"start": 0, "end": 500}
    assert refused(engine, job_chunks.insert().values(chunk_index=0, **chunk))  # unique
    assert refused(engine, job_chunks.insert().values(chunk_index=1, priority=11, **chunk))
    assert refused(engine, job_chunks.insert().values(chunk_index=1, status="lost", **chunk))
    assert refused(engine, job_chunks.insert().values(chunk_index=1, retry_count=-1, **chunk))
    assert not refused(engine, job_chunks.insert().values(chunk_index=1, priority=10, **chunk))
    with engine.begin() as connection:
        connection.execute(crawl_jobs.delete().where(crawl_jobs.c.id == job))
        assert connection.execute(sa.select(sa.func.count()).select_from(job_chunks)).scalar() == 0
    expected = {
        "ix_job_chunks_status",
        "ix_job_chunks_task_id",
        "ix_job_chunks_priority_created_at",
    }
    assert expected <= index_names("job_chunks")
    uniques = sa.inspect(engine).get_unique_constraints("job_chunks")
    assert [u["column_names"] for u in uniques] == [["job_id", "chunk_index"]]


def test_003_job_chunks_up_down_up(app):
    with app.app_context():
        upgrade(revision="003")
        check_job_chunks(db.engine)
        downgrade(revision="002")
        assert not sa.inspect(db.engine).has_table("job_chunks")
        upgrade(revision="003")
        check_job_chunks(db.engine)


def check_004(engine: sa.Engine, existing_profile: uuid.UUID) -> None:
    with engine.connect() as connection:
        tier = connection.execute(
            sa.select(profiles.c.tier).where(profiles.c.id == existing_profile)
        ).scalar_one()
    assert tier == "free"  # existing rows got the default
    bad = profiles.insert().values(id=uuid.uuid4(), email="gold@example.com", tier="gold")
    assert refused(engine, bad)
    names = index_names("images")
    assert "ix_images_crawl_job_id_hash" in names
    assert "ix_images_crawl_job_id" not in names  # the new index leads with it and replaces it
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            valid = connection.execute(
                sa.text(
                    "SELECT indisvalid FROM pg_index "
                    "WHERE indexrelid = 'ix_images_crawl_job_id_hash'::regclass"
                )
            ).scalar_one()
            validated = connection.execute(
                sa.text("SELECT convalidated FROM pg_constraint WHERE conname = :name"),
                {"name": "ck_profiles_tier"},
            ).scalar_one()
        assert valid and validated


def check_003(engine: sa.Engine) -> None:
    columns = {c["name"] for c in sa.inspect(engine).get_columns("profiles")}
    assert "tier" not in columns
    names = index_names("images")
    assert "ix_images_crawl_job_id" in names and "ix_images_crawl_job_id_hash" not in names


def test_004_tier_and_hash_index_up_down_up(app):
    with app.app_context():
        upgrade(revision="003")
        add_crawl_job(db.engine)
        with db.engine.connect() as connection:
            existing = connection.execute(sa.select(profiles.c.id)).scalar_one()
        upgrade(revision="004")
        check_004(db.engine, existing)
        downgrade(revision="003")
        check_003(db.engine)
        upgrade(revision="004")
        check_004(db.engine, existing)


def test_004_postgresql_sql_builds_and_drops_the_index_concurrently(app):
    with app.app_context():
        up = revision_sql("004", dialect="postgresql")
        down = revision_sql("004", backwards=True, dialect="postgresql")
    assert "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_images_crawl_job_id_hash" in up
    assert "DROP INDEX CONCURRENTLY IF EXISTS ix_images_crawl_job_id;" in up
    assert "NOT VALID" in up and "VALIDATE CONSTRAINT ck_profiles_tier" in up
    assert "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_images_crawl_job_id " in down
    assert "DROP INDEX CONCURRENTLY IF EXISTS ix_images_crawl_job_id_hash" in down


def index_build_session(server: sa.Engine):
    """The migration session while it waits inside a CONCURRENTLY index statement, or None."""
    with server.connect() as connection:
        return connection.execute(
            sa.text(
                "SELECT query, wait_event_type, xact_start = query_start AS own_transaction "
                "FROM pg_stat_activity WHERE application_name = 'pixcrawler-migrate' "
                "AND query LIKE '%INDEX CONCURRENTLY%' AND wait_event_type = 'Lock'"
            )
        ).first()


@pytest.mark.only_backend("postgresql")
@pytest.mark.parametrize(("start", "command"), [("003", "upgrade"), ("004", "downgrade")])
def test_004_index_work_runs_outside_a_transaction_and_never_blocks_writers(
    database_url, server, start, command
):
    assert run_flask("db", "upgrade", start, database_url=database_url).returncode == 0
    job = add_crawl_job(server)
    # A long transaction that wrote to images: the index build has to wait for it to end.
    long_writer = server.connect()
    long_writer.execute(images.insert().values(crawl_job_id=job, original_url="u", filename="a"))
    env = {"PIXCRAWLER_MIGRATION_LOCK_TIMEOUT": "60"}
    args = ("db", command) + (("003",) if command == "downgrade" else ())
    runner = start_flask(*args, database_url=database_url, env=env)
    try:
        waiting = wait_until(lambda: index_build_session(server), timeout=60)
        # Its own statement-long transaction: not inside the migration's transaction block.
        assert waiting.own_transaction, waiting
        # Meanwhile other writers go on (a plain CREATE INDEX would queue them all behind it).
        with server.connect() as writer:
            writer.exec_driver_sql("SET lock_timeout = '2s'")
            row = {"crawl_job_id": job, "original_url": "u", "filename": "b"}
            writer.execute(images.insert().values(**row))
            writer.execute(crawl_jobs.update().where(crawl_jobs.c.id == job).values(name="k"))
            writer.commit()
    finally:
        long_writer.commit()
        long_writer.close()
    _, stderr = runner.communicate(timeout=120)
    assert runner.returncode == 0, stderr
    assert revision_of(database_url) == ({HEAD} if command == "upgrade" else {"003"})
    with server.connect() as connection:
        invalid = connection.execute(sa.text("SELECT count(*) FROM pg_index WHERE NOT indisvalid"))
        assert invalid.scalar() == 0


admin_sessions = sa.table(
    "admin_sessions",
    sa.column("id_digest"),
    sa.column("profile_id", sa.Uuid),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("last_seen_at", sa.DateTime(timezone=True)),
)


def check_005(engine: sa.Engine, admin: uuid.UUID) -> None:
    """A session row for the admin; deleting the profile deletes it (the cascade)."""
    now = sa.func.current_timestamp()
    row = {"profile_id": admin, "created_at": now, "last_seen_at": now}
    with engine.begin() as connection:
        connection.execute(admin_sessions.insert().values(id_digest="a" * 64, **row))
    assert refused(engine, admin_sessions.insert().values(id_digest="a" * 64, **row))  # the key
    stranger = {**row, "profile_id": uuid.uuid4()}
    assert refused(engine, admin_sessions.insert().values(id_digest="b" * 64, **stranger))
    assert "ix_admin_sessions_profile_id" in index_names("admin_sessions")
    with engine.begin() as connection:
        connection.execute(sa.delete(profiles).where(profiles.c.id == admin))
        assert (
            connection.execute(sa.select(sa.func.count()).select_from(admin_sessions)).scalar()
            == 0
        )


def test_005_admin_sessions_up_down_up(app):
    add_admin = sa.select(profiles.c.id).where(profiles.c.email == "admin@example.com")
    with app.app_context():
        upgrade(revision="004")
        add_superuser(app)
        upgrade(revision="005")
        with db.engine.connect() as connection:
            admin = connection.execute(add_admin).scalar_one()
        check_005(db.engine, admin)
        downgrade(revision="004")
        assert not sa.inspect(db.engine).has_table("admin_sessions")
        add_superuser(app)
        upgrade(revision="005")
        with db.engine.connect() as connection:
            admin = connection.execute(add_admin).scalar_one()
        check_005(db.engine, admin)


INDEXES_006 = {
    "images": {
        "ix_images_crawl_job_id_id",
        "ix_images_hash_id",
        "ix_images_format_id",
        "ix_images_invalid",
        "ix_images_duplicate",
    },
    "activity_logs": {
        "ix_activity_logs_user_id_id",
        "ix_activity_logs_action_id",
        "ix_activity_logs_resource_type_id",
    },
    "job_chunks": {"ix_job_chunks_status_id", "ix_job_chunks_job_id_id"},
}
REPLACED_BY_006 = {
    "images": {"ix_images_crawl_job_id_hash"},
    "activity_logs": {"ix_activity_logs_user_id"},
    "job_chunks": {"ix_job_chunks_status"},
}


def check_006(engine: sa.Engine, applied: bool) -> None:
    """006's indexes, or the ones they replace, and never both; valid on PostgreSQL."""
    postgresql = engine.dialect.name == "postgresql"
    for table in INDEXES_006:
        names = index_names(table)
        new, old = INDEXES_006[table], REPLACED_BY_006[table]
        if table == "images" and postgresql:
            new = new | {"ix_images_filename_prefix"}
        assert new <= names if applied else not new & names, table
        assert not old & names if applied else old <= names, table
    if postgresql:
        with engine.connect() as connection:
            invalid = connection.execute(
                sa.text("SELECT count(*) FROM pg_index WHERE NOT indisvalid")
            )
            assert invalid.scalar() == 0


def test_006_admin_list_indexes_up_down_up(app):
    with app.app_context():
        upgrade(revision="006")
        check_006(db.engine, applied=True)
        with db.engine.connect() as connection:
            assert schema_drift(connection) == []  # `flask db check` is clean at head
        downgrade(revision="005")
        check_006(db.engine, applied=False)
        upgrade(revision="006")
        check_006(db.engine, applied=True)


def test_006_postgresql_sql_builds_and_drops_concurrently(app):
    with app.app_context():
        up = revision_sql("006", dialect="postgresql")
        down = revision_sql("006", backwards=True, dialect="postgresql")
    for name in set().union(*INDEXES_006.values()) | {"ix_images_filename_prefix"}:
        assert f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} " in up
        assert f"DROP INDEX CONCURRENTLY IF EXISTS {name};" in down
    for name in set().union(*REPLACED_BY_006.values()):
        assert f"DROP INDEX CONCURRENTLY IF EXISTS {name};" in up
        assert f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} " in down
    # Each replacement is built before the index it replaces is dropped, and back again.
    assert up.index("ix_images_hash_id ") < up.index(
        "DROP INDEX CONCURRENTLY IF EXISTS ix_images_crawl_job_id_hash"
    )
    assert down.index("ix_images_crawl_job_id_hash ") < down.index(
        "DROP INDEX CONCURRENTLY IF EXISTS ix_images_hash_id"
    )
    assert 'lower(filename COLLATE "C"), id' in up


@pytest.mark.only_backend("postgresql")
def test_006_rerun_after_an_interrupted_build_finishes_the_job(app):
    """A build killed half-way leaves an INVALID index; the rerun drops and builds it again."""
    with app.app_context():
        upgrade(revision="005")
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("CREATE INDEX ix_images_format_id ON images (format, id)")
            # What an interrupted CREATE INDEX CONCURRENTLY leaves behind.
            connection.exec_driver_sql(
                "UPDATE pg_index SET indisvalid = false "
                "WHERE indexrelid = 'ix_images_format_id'::regclass"
            )
        upgrade(revision="006")
        check_006(db.engine, applied=True)
