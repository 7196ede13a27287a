"""The schema at head, used through the models: cascades, CHECK constraints, types, timestamps.

Everything here runs on SQLite and on PostgreSQL, against the schema the migrations built.
"""

import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from pixcrawler.models import (
    ActivityLog,
    AdminAccount,
    CrawlJob,
    ExportJob,
    Image,
    Profile,
    Project,
    ValidationJob,
)


@pytest.fixture
def graph(session):
    """One of everything, linked: a profile's project's crawl job with its images and jobs."""
    profile = Profile(email="owner@example.com", full_name="Owner")
    project = Project(name="Birds", owner=profile)
    job = CrawlJob(project=project, name="Sparrows", keywords=["sparrow", "house sparrow"])
    session.add_all([profile, project, job])
    session.flush()
    job.images.add_all(
        [
            Image(original_url=f"https://img.example.com/{i}.jpg", filename=f"{i}.jpg")
            for i in range(3)
        ]
    )
    session.add_all(
        [
            ValidationJob(crawl_job=job, name="Sizes"),
            ExportJob(crawl_job=job, user=profile, name="Zip"),
            ActivityLog(user=profile, action="crawl_job.created", resource_type="crawl_job"),
            AdminAccount(profile=profile, password_hash="x"),
        ]
    )
    session.commit()
    return {"profile": profile, "project": project, "job": job}


def count(session, model) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model))


def test_deleting_a_profile_cascades_in_the_database_and_keeps_its_activity(session, graph):
    profile_id = graph["profile"].id
    session.expunge_all()
    session.execute(sa.delete(Profile).where(Profile.id == profile_id))  # no ORM cascade
    session.commit()
    for model in (Project, CrawlJob, Image, ValidationJob, ExportJob, AdminAccount):
        assert count(session, model) == 0, model.__tablename__
    log = session.scalars(sa.select(ActivityLog)).one()
    assert log.user_id is None  # ON DELETE SET NULL


def test_deleting_a_crawl_job_through_the_orm_leaves_the_images_to_the_database(session, graph):
    loaded = []

    def record(target, context):
        loaded.append(target)

    sa.event.listen(Image, "load", record)
    try:
        session.delete(graph["job"])
        session.commit()
    finally:
        sa.event.remove(Image, "load", record)
    assert count(session, Image) == 0
    assert count(session, ValidationJob) == count(session, ExportJob) == 0
    assert loaded == []  # passive deletes: not one image was read into Python
    assert count(session, Project) == 1


def test_deleting_a_project_cascades_to_its_crawl_jobs(session, graph):
    session.execute(sa.delete(Project))
    session.commit()
    assert count(session, CrawlJob) == count(session, Image) == 0
    assert count(session, Profile) == 1


def test_a_reference_to_a_missing_row_is_refused(session):
    session.add(Project(name="Orphan", user_id=uuid.uuid4()))
    with pytest.raises(IntegrityError):
        session.commit()


BAD_VALUES = [
    (Profile, "role", "superuser"),
    (Project, "status", "deleted"),
    (CrawlJob, "status", "paused"),
    (CrawlJob, "progress", 101),
    (CrawlJob, "progress", -1),
    (CrawlJob, "max_images", 0),
    *[
        (CrawlJob, c, -1)
        for c in (
            "total_images",
            "downloaded_images",
            "valid_images",
            "total_chunks",
            "active_chunks",
            "completed_chunks",
            "failed_chunks",
        )
    ],
    (ValidationJob, "status", "done"),
    (ValidationJob, "progress", 150),
    *[(ValidationJob, c, -1) for c in ("total_images", "validated_images", "invalid_images")],
    (ExportJob, "status", "exporting"),
    (ExportJob, "progress", -5),
    *[(ExportJob, c, -1) for c in ("total_images", "exported_images")],
    (AdminAccount, "failed_logins", -1),
]


@pytest.mark.parametrize(
    ("model", "column", "value"), BAD_VALUES, ids=lambda v: getattr(v, "__name__", str(v))
)
def test_check_constraints_refuse_bad_states(session, graph, model, column, value):
    row = session.scalars(sa.select(model)).first()
    table = model.__table__
    where = [c == getattr(row, c.key) for c in table.primary_key.columns]
    with pytest.raises(IntegrityError) as info:
        session.execute(sa.update(table).where(*where).values({column: value}))
    assert "check" in str(info.value).lower()
    session.rollback()


def test_defaults_are_applied_by_the_database(session):
    profile_id = uuid.uuid4()
    session.execute(sa.insert(Profile).values(id=profile_id, email="raw@example.com"))
    project_id = session.execute(
        sa.insert(Project).values(name="P", user_id=profile_id).returning(Project.id)
    ).scalar_one()
    session.execute(sa.insert(CrawlJob).values(project_id=project_id, name="J", keywords=["a"]))
    session.commit()
    job = session.scalars(sa.select(CrawlJob)).one()
    assert (job.status, job.progress, job.max_images, job.task_ids) == ("pending", 0, 1000, [])
    assert job.project.status == "active" and job.project.owner.role == "user"
    assert job.created_at.tzinfo is not None and job.updated_at.tzinfo is not None


def test_profile_ids_are_uuids_chosen_locally_or_given(session):
    local = Profile(email="local@example.com")
    supabase_id = uuid.UUID("3f1c1c8e-1f2a-4a5b-9c3d-2b1e0f9a8c7d")
    remote = Profile(id=supabase_id, email="remote@example.com")
    session.add_all([local, remote])
    session.commit()
    session.expire_all()
    assert isinstance(local.id, uuid.UUID) and local.id.version == 4
    assert session.get(Profile, supabase_id).email == "remote@example.com"


def test_emails_are_unique(session):
    session.add_all([Profile(email="same@example.com"), Profile(email="same@example.com")])
    with pytest.raises(IntegrityError):
        session.commit()


def test_updated_at_changes_on_every_orm_update(session, graph):
    job = graph["job"]
    first = job.updated_at
    job.status = "running"
    session.commit()
    second = job.updated_at
    job.progress = 50
    session.commit()
    assert first < second < job.updated_at
    assert job.created_at <= first


def test_json_and_timestamps_round_trip(session, graph):
    moment = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    image = Image(
        crawl_job_id=graph["job"].id,
        original_url="https://img.example.com/x.png",
        filename="x.png",
        labels=["bird", {"box": [1, 2, 3, 4]}],
        metadata_={"exif": {"iso": 200}, "source": "bing"},
        downloaded_at=moment,
        file_size=5_000_000_000,
    )
    session.add(image)
    session.commit()
    session.expire_all()
    again = session.get(Image, image.id)
    assert again.labels == ["bird", {"box": [1, 2, 3, 4]}]
    assert again.metadata_ == {"exif": {"iso": 200}, "source": "bing"}
    assert again.downloaded_at == moment
    assert again.file_size == 5_000_000_000
    assert again.is_valid is True and again.is_duplicate is False


def test_naive_timestamps_are_refused(session, graph):
    graph["job"].started_at = datetime(2026, 1, 1)
    with pytest.raises(sa.exc.StatementError, match="naive datetime"):
        session.commit()
    session.rollback()


@pytest.mark.only_backend("postgresql")
def test_fast_growing_tables_have_64_bit_keys_on_postgresql(session):
    rows = session.execute(
        sa.text(
            "SELECT table_name, data_type FROM information_schema.columns "
            "WHERE column_name = 'id' AND table_schema = current_schema()"
        )
    ).all()
    types = dict(rows)
    assert types["images"] == types["activity_logs"] == "bigint"
    assert types["projects"] == "integer" and types["profiles"] == "uuid"
    json_types = session.execute(
        sa.text(
            "SELECT data_type FROM information_schema.columns WHERE table_name = 'images' "
            "AND column_name = 'metadata' AND table_schema = current_schema()"
        )
    ).scalar_one()
    assert json_types == "jsonb"
