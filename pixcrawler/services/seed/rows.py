"""Realistic demo data for demos and benchmarks, deterministic for a given seed.

Everything is generated from one `random.Random` and a fixed anchor date, never from the clock,
so the same seed on the same starting database gives the same rows byte for byte. Ids are given
explicitly (continuing after the rows already there) so images can point at their crawl jobs
without a round trip; the PostgreSQL sequences are advanced afterwards.

The numbers agree with each other: a crawl job's counters equal its images in the table, its
progress and timestamps match its status, pending jobs have no images.
"""

from __future__ import annotations

import hashlib
import math
import random
import uuid
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from pixcrawler.extensions import db
from pixcrawler.models import JobStatus
from pixcrawler.services.app_tables import require_schema
from pixcrawler.services.bulk_insert import indexes_deferred, insert_rows
from pixcrawler.services.sequences import advance_sequences

# Seed data lives in the first half of 2026 whatever the date today: determinism over realism.
ANCHOR = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)

FIRST_NAMES = (
    "Amira", "Ben", "Carla", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas",
    "Kavya", "Lena", "Mateo", "Nadia", "Oskar", "Priya", "Quentin", "Rosa", "Samir", "Tamsin",
    "Uma", "Viktor", "Wen", "Yara", "Zoe",
)  # fmt: skip
LAST_NAMES = (
    "Okafor", "Schmidt", "Rossi", "Ivanova", "Haddad", "Tanaka", "Moreau", "Lindqvist", "Patel",
    "Nguyen", "Kowalski", "Garcia", "Murphy", "Novak", "Santos", "Fischer", "Costa", "Berg",
    "Duarte", "Yilmaz",
)  # fmt: skip
EMAIL_DOMAINS = ("example.com", "example.org", "example.net", "lab.example.edu")

# (project theme, crawl keywords): what people actually build image datasets of.
THEMES = (
    ("Urban birds", ("house sparrow", "rock pigeon", "common starling", "carrion crow")),
    ("Dog breeds", ("golden retriever", "border collie", "beagle", "dachshund", "shiba inu")),
    ("Plant diseases", ("tomato leaf blight", "powdery mildew", "apple scab", "rust fungus")),
    ("Street signs", ("stop sign", "yield sign", "speed limit sign", "pedestrian crossing")),
    ("Vintage cars", ("citroen ds", "volkswagen beetle", "jaguar e-type", "fiat 500 1960s")),
    ("Wild mushrooms", ("fly agaric", "chanterelle", "porcini", "death cap")),
    ("Coral reefs", ("brain coral", "staghorn coral", "coral bleaching", "reef fish")),
    ("Retail shelves", ("supermarket shelf", "empty shelf", "price tag", "product facing")),
    ("Solar panel defects", ("solar panel crack", "hot spot thermal", "panel soiling")),
    ("Kitchen utensils", ("whisk", "ladle", "chef knife", "cast iron pan", "spatula")),
    ("Alpine flowers", ("edelweiss", "gentian", "alpine rose", "mountain avens")),
    ("Handwritten notes", ("handwritten letter", "whiteboard notes", "shopping list")),
)
PROJECT_SUFFIXES = ("dataset", "v2", "benchmark", "pilot", "2026", "training set", "eval set")
DESCRIPTIONS = (
    "Training data for a classifier prototype.",
    "Balanced set for the spring model refresh.",
    "Evaluation images collected for the paper's ablation study.",
    "Seed images for active learning; low-confidence cases get labelled by hand.",
    None,
)

# Image sources with the URL shapes those hosts really use.
HOSTS = ("unsplash", "wikimedia", "flickr", "pixabay", "pinimg")
HOST_WEIGHTS = (30, 20, 25, 15, 10)
FORMATS = ("jpg", "png", "webp")
FORMAT_WEIGHTS = (70, 20, 10)
# Bytes per pixel, roughly, for a photo in each format.
BYTES_PER_PIXEL = {"jpg": 0.22, "png": 1.1, "webp": 0.14}
SIZES = (
    (1920, 1080), (1280, 720), (1024, 768), (800, 600), (640, 480), (1600, 1200),
    (2048, 1365), (3000, 2000), (1080, 1350), (512, 512), (4032, 3024), (1200, 800),
)  # fmt: skip
STORAGE_BASE = "https://qzkvcrawlpx.supabase.co/storage/v1/object/public/datasets"
EXPORT_BASE = "https://qzkvcrawlpx.supabase.co/storage/v1/object/sign/exports"

TIERS, TIER_WEIGHTS = ("free", "pro", "enterprise"), (70, 25, 5)
CHUNK_ERRORS = (
    "HTTP 429 Too Many Requests from the image source after 3 retries",
    "connection reset by peer while downloading",
    "storage upload timed out after 30 s",
)
JOB_STATUS_WEIGHTS = {
    JobStatus.COMPLETED: 55,
    JobStatus.RUNNING: 15,
    JobStatus.PENDING: 12,
    JobStatus.FAILED: 10,
    JobStatus.CANCELLED: 8,
}
CHUNK_SIZE = 100  # images per crawl chunk
# From this many images into an empty table, PostgreSQL builds the images indexes afterwards.
DEFER_INDEXES_FROM = 100_000
DUPLICATE_RATE = 0.02

VALIDATION_RULES = {
    "min_width": 256,
    "min_height": 256,
    "formats": list(FORMATS),
    "max_file_size": 10 * 1024 * 1024,
    "deduplicate": True,
}
EXPORT_FORMATS = ("zip", "tar.gz", "coco-json")


class SeedError(ValueError):
    """The requested counts cannot be satisfied (e.g. images but no crawl jobs)."""


@dataclass(frozen=True)
class SeedPlan:
    """How much demo data to add, and the seed that makes it reproducible."""

    profiles: int = 10
    projects: int = 25
    jobs: int = 60
    images: int = 5_000
    seed: int = 1

    def check(self) -> None:
        """Refuse counts that would need parents that are not there."""
        for name in ("profiles", "projects", "jobs", "images"):
            if getattr(self, name) < 0:
                raise SeedError(f"--{name} must not be negative")
        if self.projects and not self.profiles:
            raise SeedError("projects need owners: --profiles must be at least 1")
        if self.jobs and not self.projects:
            raise SeedError("crawl jobs need projects: --projects must be at least 1")
        if self.images and not self.jobs:
            raise SeedError("images need crawl jobs: --jobs must be at least 1")


@dataclass
class _Job:
    """What later tables need to know about a generated crawl job."""

    id: int
    project_id: int
    owner_id: uuid.UUID
    name: str
    keywords: tuple[str, ...]
    status: str
    images: int
    valid: int
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    # Chunk counts by state, and the Celery task ids of the chunks being processed.
    chunks: tuple[int, int, int, int] = (0, 0, 0, 0)  # total, completed, active, failed
    active_task_ids: list[str] = field(default_factory=list)
    updated_at: datetime | None = None


@dataclass
class _State:
    """Ids to continue from, so seeding twice adds rows instead of colliding."""

    next_ids: dict[str, int] = field(default_factory=dict)
    existing_profiles: int = 0


def seed_database(
    plan: SeedPlan, progress: Callable[[str, int], None] | None = None
) -> dict[str, int]:
    """Add demo data in one transaction; returns the rows written per table."""
    plan.check()
    report = progress or (lambda table, count: None)
    with db.engine.begin() as connection:
        require_schema(connection)
        state = _current_state(connection)
        generator = _Generator(plan, state)
        counts: dict[str, int] = {}
        for table_name, columns, rows, copy_line in generator.tables():
            table = db.metadata.tables[table_name]
            with _bulk(connection, table, plan):
                counts[table_name] = insert_rows(connection, table, columns, rows, copy_line)
            report(table_name, counts[table_name])
        advance_sequences(connection, db.metadata.sorted_tables)
    return counts


def _bulk(connection: sa.Connection, table: sa.Table, plan: SeedPlan):
    """Defer the images indexes for a big seed into an empty table; else change nothing."""
    if table.name == "images" and plan.images >= DEFER_INDEXES_FROM:
        empty = connection.scalar(sa.select(sa.literal(1)).select_from(table).limit(1)) is None
        if empty:
            return indexes_deferred(connection, table)
    return nullcontext()


def _current_state(connection: sa.Connection) -> _State:
    state = _State()
    for name in (
        "projects",
        "crawl_jobs",
        "images",
        "activity_logs",
        "validation_jobs",
        "export_jobs",
        "job_chunks",
    ):
        table = db.metadata.tables[name]
        highest = connection.scalar(sa.select(sa.func.max(table.c.id)))
        state.next_ids[name] = (highest or 0) + 1
    profiles = db.metadata.tables["profiles"]
    state.existing_profiles = connection.scalar(sa.select(sa.func.count()).select_from(profiles))
    return state


class _Generator:
    """Builds the rows table by table, parents first; images are produced lazily."""

    def __init__(self, plan: SeedPlan, state: _State):
        self.plan = plan
        self.state = state
        # A string seed is hashed by `random` itself: stable across runs and Python versions.
        self.rng = random.Random(f"pixcrawler-seed:{plan.seed}:{sorted(state.next_ids.items())}")
        self.profiles: list[tuple[uuid.UUID, datetime]] = []
        self.projects: list[tuple[int, uuid.UUID, tuple[str, ...], datetime]] = []
        self.jobs: list[_Job] = []
        self.events: list[tuple[uuid.UUID | None, str, str, str, dict[str, Any], datetime]] = []

    def tables(self) -> Iterator[tuple[str, list[str], Any, Callable[[tuple], str] | None]]:
        """(table, columns, rows, fast COPY formatter or None), parents first."""
        yield "profiles", PROFILE_COLUMNS, self.profile_rows(), None
        yield "projects", PROJECT_COLUMNS, self.project_rows(), None
        yield "crawl_jobs", CRAWL_JOB_COLUMNS, self.crawl_job_rows(), None
        yield "images", IMAGE_COLUMNS, self.image_rows(), image_copy_line
        yield "job_chunks", JOB_CHUNK_COLUMNS, self.job_chunk_rows(), None
        yield "validation_jobs", VALIDATION_JOB_COLUMNS, self.validation_job_rows(), None
        yield "export_jobs", EXPORT_JOB_COLUMNS, self.export_job_rows(), None
        yield "activity_logs", ACTIVITY_LOG_COLUMNS, self.activity_log_rows(), None

    # -- helpers --------------------------------------------------------------------------

    def uuid4(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def moment(self, after: datetime, max_seconds: int) -> datetime:
        """A time up to `max_seconds` after `after`; not past the anchor unless `after` is."""
        latest = max(after, ANCHOR)
        return min(after + timedelta(seconds=self.rng.randrange(1, max_seconds)), latest)

    def take_id(self, table: str) -> int:
        value = self.state.next_ids[table]
        self.state.next_ids[table] = value + 1
        return value

    def event(self, user_id, action, resource_type, resource_id, metadata, at) -> None:
        self.events.append((user_id, action, resource_type, str(resource_id), metadata, at))

    # -- tables ---------------------------------------------------------------------------

    def profile_rows(self) -> list[tuple]:
        rng, rows = self.rng, []
        for index in range(self.plan.profiles):
            number = self.state.existing_profiles + index + 1
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            email = f"{first}.{last}.{number}@{rng.choice(EMAIL_DOMAINS)}".lower()
            digest = hashlib.md5(email.encode(), usedforsecurity=False).hexdigest()
            avatar = f"https://www.gravatar.com/avatar/{digest}?d=identicon&s=200"
            # The first profile of a fresh database is an admin; about one in ten after that.
            admin = number == 1 or rng.random() < 0.1
            created = ANCHOR - timedelta(days=rng.uniform(60, 360))
            created = created.replace(microsecond=0)
            profile_id = self.uuid4()
            self.profiles.append((profile_id, created))
            self.event(profile_id, "user.signup", "profile", profile_id, {}, created)
            for _ in range(rng.randint(1, 3)):
                at = self.moment(created, 50 * 86_400)
                ip = f"198.51.100.{rng.randint(1, 254)}"
                self.event(profile_id, "user.login", "profile", profile_id, {"ip": ip}, at)
            role = "admin" if admin else "user"
            tier = rng.choices(TIERS, TIER_WEIGHTS)[0]
            rows.append(
                (profile_id, email, f"{first} {last}", avatar, role, tier, created, created)
            )
        return rows

    def project_rows(self) -> list[tuple]:
        rng, rows = self.rng, []
        for _ in range(self.plan.projects):
            project_id = self.take_id("projects")
            owner_id, owner_created = rng.choice(self.profiles)
            theme, keywords = rng.choice(THEMES)
            name = f"{theme} {rng.choice(PROJECT_SUFFIXES)}"
            status = "archived" if rng.random() < 0.1 else "active"
            created = self.moment(owner_created, 40 * 86_400)
            updated = self.moment(created, 20 * 86_400)
            self.projects.append((project_id, owner_id, keywords, created))
            self.event(owner_id, "project.create", "project", project_id, {"name": name}, created)
            rows.append(
                (project_id, name, rng.choice(DESCRIPTIONS), owner_id, status, created, updated)
            )
        return rows

    def crawl_job_rows(self) -> list[tuple]:
        rng = self.rng
        statuses = list(JOB_STATUS_WEIGHTS)
        weights = list(JOB_STATUS_WEIGHTS.values())
        drawn = [rng.choices(statuses, weights)[0] for _ in range(self.plan.jobs)]
        if self.plan.images and all(s == JobStatus.PENDING for s in drawn):
            drawn[0] = JobStatus.COMPLETED  # images need at least one job that ran
        allocation = self.allocate_images(drawn)
        rows = []
        for status, images in zip(drawn, allocation, strict=True):
            job_id = self.take_id("crawl_jobs")
            project_id, owner_id, theme_keywords, project_created = rng.choice(self.projects)
            keywords = tuple(
                rng.sample(theme_keywords, rng.randint(1, min(3, len(theme_keywords))))
            )
            name = f"{keywords[0].title()} crawl #{job_id}"
            created = self.moment(project_created, 30 * 86_400)
            job = _Job(job_id, project_id, owner_id, name, keywords, status, images, 0, created,
                       None, None)  # fmt: skip
            rows.append(self.crawl_job_row(job))
            self.jobs.append(job)
        return rows

    def allocate_images(self, statuses: list[str]) -> list[int]:
        """Split the image total over the jobs that ran, unevenly, summing exactly."""
        ran = [i for i, s in enumerate(statuses) if s != JobStatus.PENDING]
        counts = [0] * len(statuses)
        if not ran:
            return counts
        weights = [self.rng.uniform(0.2, 1.0) for _ in ran]
        total = sum(weights)
        for index, weight in zip(ran, weights, strict=True):
            counts[index] = int(self.plan.images * weight / total)
        for step in range(self.plan.images - sum(counts)):
            counts[ran[step % len(ran)]] += 1
        return counts

    def crawl_job_row(self, job: _Job) -> tuple:
        rng, status, images = self.rng, job.status, job.images
        limit = rng.choice((100, 250, 500, 1000, 2000, 5000))
        if status == JobStatus.COMPLETED:
            max_images = max(limit, images)
        else:  # stopped or still going: the limit was not reached
            max_images = max(limit, math.ceil(images * rng.uniform(1.2, 3.0) / 100) * 100, 100)
        job.valid = round(images * rng.uniform(0.85, 0.99))
        total_chunks = 0 if status == JobStatus.PENDING else math.ceil(max_images / CHUNK_SIZE)
        done_chunks = min(images // CHUNK_SIZE, total_chunks)
        active = failed = 0
        if status == JobStatus.COMPLETED:
            progress, done_chunks = 100, total_chunks
        elif status == JobStatus.PENDING:
            progress = 0
        else:
            progress = min(99, images * 100 // max_images)
            if status == JobStatus.RUNNING:
                progress = max(progress, 1)
                done_chunks = min(done_chunks, total_chunks - 1)
                active = min(4, total_chunks - done_chunks)
            elif status == JobStatus.FAILED:
                failed = min(rng.randint(1, 3), total_chunks - done_chunks)
        started = completed = None
        updated = job.created_at
        if status != JobStatus.PENDING:
            started = self.moment(job.created_at, 600)
            job.started_at = started
            duration = timedelta(seconds=30 + images * rng.uniform(0.05, 0.4))
            updated = started + duration
            self.event(job.owner_id, "crawl_job.start", "crawl_job", job.id, {}, started)
            if status in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED):
                completed = updated
                job.completed_at = completed
                action = {"completed": "complete", "failed": "fail", "cancelled": "cancel"}
                self.event(job.owner_id, f"crawl_job.{action[status]}", "crawl_job", job.id,
                           {"images": images}, completed)  # fmt: skip
        job.chunks = (total_chunks, done_chunks, active, failed)
        job.updated_at = updated
        # The job lists the Celery tasks working on it right now: one per active chunk.
        job.active_task_ids = task_ids = [str(self.uuid4()) for _ in range(active)]
        return (
            job.id, job.project_id, job.name, list(job.keywords), max_images, str(status),
            progress, images, images, job.valid, total_chunks, active, done_chunks, failed,
            task_ids, started, completed, job.created_at, updated,
        )  # fmt: skip

    def job_chunk_rows(self) -> list[tuple]:
        """Each job's chunks in order: completed, then processing, failed, and pending ones."""
        rng, rows = self.rng, []
        for job in self.jobs:
            total, done, active, failed = job.chunks
            if not total:
                continue
            span = job.updated_at - job.started_at
            for index in range(total):
                task_id, retries, error = None, 0, None
                updated = job.started_at
                if index < done:
                    status, task_id = "completed", str(self.uuid4())
                    retries = 1 if rng.random() < 0.05 else 0
                    updated = job.started_at + span * ((index + 1) / total)
                elif index < done + active:
                    status, task_id = "processing", job.active_task_ids[index - done]
                elif index < done + active + failed:
                    status, task_id, retries = "failed", str(self.uuid4()), 3
                    error = rng.choice(CHUNK_ERRORS)
                    updated = job.updated_at
                else:
                    status = "pending"
                priority = rng.choices((5, 3, 8), (80, 10, 10))[0]
                image_range = {"start": index * CHUNK_SIZE, "end": (index + 1) * CHUNK_SIZE}
                rows.append((
                    self.take_id("job_chunks"), job.id, index, status, priority, image_range,
                    error, retries, task_id, job.started_at, updated.replace(microsecond=0),
                ))  # fmt: skip
        return rows

    def image_rows(self) -> Iterator[tuple]:
        """One tuple per image, generated on demand: a million never sit in memory."""
        rng = self.rng
        next_id = self.state.next_ids["images"]
        choices, getrandbits, random_ = rng.choices, rng.getrandbits, rng.random
        for job in self.jobs:
            if not job.images:
                continue
            span = ((job.completed_at or ANCHOR) - job.started_at).total_seconds()
            valid_left, previous_hash = job.valid, None
            step = span / job.images
            hosts = choices(HOSTS, HOST_WEIGHTS, k=job.images)
            formats = choices(FORMATS, FORMAT_WEIGHTS, k=job.images)
            sizes = choices(SIZES, k=job.images)
            slugs = [(keyword, keyword.replace(" ", "-")) for keyword in job.keywords]
            storage = f"{STORAGE_BASE}/job-{job.id}/"
            started, second, at = job.started_at, -1, job.started_at
            for k in range(job.images):
                keyword, slug = slugs[k % len(slugs)]
                ext = formats[k]
                width, height = sizes[k]
                filename = f"{slug}_{k + 1:06d}.{ext}"
                url = _source_url(hosts[k], slug, ext, getrandbits)
                size = int(width * height * BYTES_PER_PIXEL[ext] * (0.6 + 0.8 * random_()))
                duplicate = previous_hash is not None and random_() < DUPLICATE_RATE
                digest = previous_hash if duplicate else f"{getrandbits(256):064x}"
                previous_hash = digest
                # Selection sampling: exactly job.valid of the job's images end up valid.
                valid = random_() * (job.images - k) < valid_left
                valid_left -= valid
                if int(step * k) != second:  # images a second apart share one datetime object
                    second = int(step * k)
                    at = started + timedelta(seconds=second)
                yield (
                    next_id, job.id, url, filename, storage + filename,
                    width, height, size, ext, digest, valid, duplicate,
                    [keyword] if valid else None,
                    {"source": hosts[k], "keyword": keyword, "rank": k + 1}, at, at,
                )  # fmt: skip
                next_id += 1
        self.state.next_ids["images"] = next_id

    def validation_job_rows(self) -> list[tuple]:
        rng, rows = self.rng, []
        finished = [job for job in self.jobs if job.status == JobStatus.COMPLETED]
        for index, job in enumerate(finished):
            if index and rng.random() > 0.35:  # the first finished job is always validated
                continue
            status = rng.choices(("completed", "running", "failed", "pending"), (70, 10, 10, 10))[
                0
            ]
            validated = {"completed": job.images, "pending": 0}.get(
                status, int(job.images * rng.uniform(0.1, 0.9))
            )
            invalid = round(validated * (job.images - job.valid) / job.images) if job.images else 0
            progress = validated * 100 // job.images if job.images else 0
            if status == "completed":
                progress = 100
            elif status == "running":
                progress = min(max(progress, 1), 99)
            else:
                progress = min(progress, 99)
            created = self.moment(job.completed_at, 3 * 86_400)
            started = None if status == "pending" else self.moment(created, 300)
            ended = None
            if status in ("completed", "failed"):
                ended = started + timedelta(seconds=10 + job.images * rng.uniform(0.01, 0.05))
            error = "storage read timed out after 30 s" if status == "failed" else None
            updated = ended or started or created
            rows.append((
                self.take_id("validation_jobs"), job.id, f"Validate {job.name}"[:100], status,
                progress, job.images, validated, invalid, VALIDATION_RULES, started, ended,
                error, created, updated,
            ))  # fmt: skip
        return rows

    def export_job_rows(self) -> list[tuple]:
        rng, rows = self.rng, []
        finished = [job for job in self.jobs if job.status == JobStatus.COMPLETED]
        for index, job in enumerate(finished):
            if index and rng.random() > 0.25:  # the first finished job is always exported
                continue
            export_id = self.take_id("export_jobs")
            status = rng.choices(("completed", "running", "failed", "pending"), (75, 10, 5, 10))[0]
            fmt = rng.choice(EXPORT_FORMATS)
            total = job.valid
            exported = {"completed": total, "pending": 0}.get(status, int(total * rng.random()))
            progress = 100 if status == "completed" else (exported * 100 // total if total else 0)
            progress = min(progress, 100 if status == "completed" else 99)
            created = self.moment(job.completed_at, 5 * 86_400)
            started = None if status == "pending" else self.moment(created, 120)
            ended = expires = size = url = None
            if status in ("completed", "failed"):
                ended = started + timedelta(seconds=5 + total * rng.uniform(0.005, 0.02))
            if status == "completed":
                expires = ended + timedelta(days=7)
                size = total * rng.randint(150_000, 600_000)
                url = f"{EXPORT_BASE}/{self.uuid4()}.{fmt.removesuffix('-json')}"
            error = "archive upload failed: connection reset" if status == "failed" else None
            options = {"include_invalid": False, "include_metadata": True, "layout": "by_label"}
            self.event(job.owner_id, "export.create", "export_job", export_id, {"format": fmt},
                       created)  # fmt: skip
            rows.append((
                export_id, job.id, job.owner_id, f"{job.name} export"[:100], status, progress,
                fmt, total, exported, size, url, options, started, ended, expires, error,
                created, ended or started or created,
            ))  # fmt: skip
        return rows

    def activity_log_rows(self) -> list[tuple]:
        # Ids follow time, as they would have in a real log.
        self.events.sort(key=lambda event: event[5])
        return [
            (self.take_id("activity_logs"), user, action, kind, resource, metadata, at)
            for user, action, kind, resource, metadata, at in self.events
        ]


# The last timestamp formatted: consecutive images often share the same datetime object.
_last_timestamp: list[Any] = [None, ""]


def image_copy_line(row: tuple) -> str:
    """One generated image as a COPY text line: a single f-string instead of 16 conversions.

    Only for rows from `image_rows`: their text is built from slugs, hex digits and fixed hosts,
    so nothing needs COPY escaping, and the JSON shapes are known (a test checks that this
    matches the generic converters).
    """
    (image_id, job_id, url, filename, storage_url, width, height, size, ext, digest, valid,
     duplicate, labels, metadata, downloaded_at, created_at) = row  # fmt: skip
    labels_text = f'["{labels[0]}"]' if labels else r"\N"
    metadata_text = (
        f'{{"source":"{metadata["source"]}","keyword":"{metadata["keyword"]}",'
        f'"rank":{metadata["rank"]}}}'
    )
    if downloaded_at is not _last_timestamp[0]:
        _last_timestamp[:] = [downloaded_at, downloaded_at.isoformat()]
    downloaded = _last_timestamp[1]
    created = downloaded if created_at is downloaded_at else created_at.isoformat()
    return (
        f"{image_id}\t{job_id}\t{url}\t{filename}\t{storage_url}\t{width}\t{height}\t{size}\t"
        f"{ext}\t{digest}\t{'t' if valid else 'f'}\t{'t' if duplicate else 'f'}\t"
        f"{labels_text}\t{metadata_text}\t{downloaded}\t{created}\n"
    )


def _source_url(host: str, slug: str, ext: str, getrandbits: Callable[[int], int]) -> str:
    """A URL shaped like the ones each image host really serves."""
    if host == "unsplash":
        return (
            f"https://images.unsplash.com/photo-{1_500_000_000_000 + getrandbits(36)}"
            f"-{getrandbits(48):012x}?w=1600&fm={ext}"
        )
    if host == "wikimedia":
        digest = f"{getrandbits(8):02x}"
        name = slug.replace("-", "_").capitalize()
        return (
            f"https://upload.wikimedia.org/wikipedia/commons/{digest[0]}/{digest}/"
            f"{name}_{getrandbits(20)}.{ext}"
        )
    if host == "flickr":
        return (
            f"https://live.staticflickr.com/{65_000 + getrandbits(10)}/"
            f"{52_000_000_000 + getrandbits(30)}_{getrandbits(40):010x}_b.{ext}"
        )
    if host == "pixabay":
        return (
            f"https://cdn.pixabay.com/photo/2026/0{1 + getrandbits(2)}/1{getrandbits(3)}/"
            f"{slug}-{1_000_000 + getrandbits(22)}_1280.{ext}"
        )
    digest = f"{getrandbits(128):032x}"
    return (
        f"https://i.pinimg.com/originals/{digest[:2]}/{digest[2:4]}/{digest[4:6]}/{digest}.{ext}"
    )


PROFILE_COLUMNS = [
    "id", "email", "full_name", "avatar_url", "role", "tier", "created_at", "updated_at",
]  # fmt: skip
JOB_CHUNK_COLUMNS = [
    "id", "job_id", "chunk_index", "status", "priority", "image_range", "error_message",
    "retry_count", "task_id", "created_at", "updated_at",
]  # fmt: skip
PROJECT_COLUMNS = [
    "id", "name", "description", "user_id", "status", "created_at", "updated_at",
]  # fmt: skip
CRAWL_JOB_COLUMNS = [
    "id", "project_id", "name", "keywords", "max_images", "status", "progress", "total_images",
    "downloaded_images", "valid_images", "total_chunks", "active_chunks", "completed_chunks",
    "failed_chunks", "task_ids", "started_at", "completed_at", "created_at", "updated_at",
]  # fmt: skip
IMAGE_COLUMNS = [
    "id", "crawl_job_id", "original_url", "filename", "storage_url", "width", "height",
    "file_size", "format", "hash", "is_valid", "is_duplicate", "labels", "metadata",
    "downloaded_at", "created_at",
]  # fmt: skip
VALIDATION_JOB_COLUMNS = [
    "id", "crawl_job_id", "name", "status", "progress", "total_images", "validated_images",
    "invalid_images", "validation_rules", "started_at", "completed_at", "error_message",
    "created_at", "updated_at",
]  # fmt: skip
EXPORT_JOB_COLUMNS = [
    "id", "crawl_job_id", "user_id", "name", "status", "progress", "format", "total_images",
    "exported_images", "file_size", "download_url", "export_options", "started_at",
    "completed_at", "expires_at", "error_message", "created_at", "updated_at",
]  # fmt: skip
ACTIVITY_LOG_COLUMNS = [
    "id", "user_id", "action", "resource_type", "resource_id", "metadata", "timestamp",
]  # fmt: skip
