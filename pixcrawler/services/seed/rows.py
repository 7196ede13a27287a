"""The rows of every generated table but the images (`images`), parents first.

One `random.Random`, seeded from the plan and the ids to continue from, draws everything in a
fixed order, so the same seed on the same starting database gives the same rows. The numbers
agree with each other: a crawl job's counters equal its images, its progress and timestamps
match its status, its chunks add up, and pending jobs have no images.
"""

from __future__ import annotations

import hashlib
import math
import random
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from pixcrawler.models import JobStatus
from pixcrawler.services.seed.images import image_rows
from pixcrawler.services.seed.plan import SeedPlan
from pixcrawler.services.seed.state import _Job, _State
from pixcrawler.services.seed.vocabulary import (
    ANCHOR,
    CHUNK_ERRORS,
    DESCRIPTIONS,
    EMAIL_DOMAINS,
    EXPORT_BASE,
    EXPORT_FORMATS,
    FIRST_NAMES,
    JOB_STATUS_WEIGHTS,
    LAST_NAMES,
    PROJECT_SUFFIXES,
    THEMES,
    TIER_WEIGHTS,
    TIERS,
    VALIDATION_RULES,
)

CHUNK_SIZE = 100  # images per crawl chunk


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
        """One tuple per image, generated on demand (see `images`)."""
        return image_rows(self.jobs, self.rng, self.state)

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
