"""Crawl jobs: one search over keywords, split into chunks of work, collecting images."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, WriteOnlyMapped, mapped_column, relationship

from pixcrawler.database import Base, JSONType, TimestampMixin, UTCDateTime
from pixcrawler.database.constraints import non_negative, one_of, percentage

if TYPE_CHECKING:
    from pixcrawler.models import ExportJob, Image, JobChunk, Project, ValidationJob


class JobStatus(StrEnum):
    """Life cycle shared by crawl, validation and export jobs."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


COUNTERS = (
    "total_images",
    "downloaded_images",
    "valid_images",
    "total_chunks",
    "active_chunks",
    "completed_chunks",
    "failed_chunks",
)


def counter() -> Mapped[int]:
    return mapped_column(default=0, server_default="0")


class CrawlJob(TimestampMixin, Base):
    __tablename__ = "crawl_jobs"
    __table_args__ = (
        one_of("status", JobStatus),
        percentage("progress"),
        sa.CheckConstraint("max_images > 0", name="max_images_positive"),
        *non_negative(*COUNTERS),
        # Leads with project_id, so it also serves the foreign key's cascades.
        sa.Index(None, "project_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(100))
    keywords: Mapped[list[str]] = mapped_column(JSONType)
    max_images: Mapped[int] = mapped_column(default=1000, server_default="1000")
    status: Mapped[str] = mapped_column(
        sa.String(20), default=JobStatus.PENDING, server_default=JobStatus.PENDING, index=True
    )
    progress: Mapped[int] = counter()
    total_images: Mapped[int] = counter()
    downloaded_images: Mapped[int] = counter()
    valid_images: Mapped[int] = counter()
    total_chunks: Mapped[int] = counter()
    active_chunks: Mapped[int] = counter()
    completed_chunks: Mapped[int] = counter()
    failed_chunks: Mapped[int] = counter()
    task_ids: Mapped[list[Any]] = mapped_column(
        JSONType, default=list, server_default=sa.text("'[]'")
    )
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    project: Mapped[Project] = relationship(back_populates="crawl_jobs")
    # Write-only: a job may hold millions of images; never load them as one list.
    images: WriteOnlyMapped[Image] = relationship(back_populates="crawl_job", passive_deletes=True)
    validation_jobs: Mapped[list[ValidationJob]] = relationship(
        back_populates="crawl_job", passive_deletes=True
    )
    export_jobs: Mapped[list[ExportJob]] = relationship(
        back_populates="crawl_job", passive_deletes=True
    )
    chunks: Mapped[list[JobChunk]] = relationship(
        back_populates="crawl_job", passive_deletes=True, order_by="JobChunk.chunk_index"
    )

    def __str__(self) -> str:
        return self.name
