"""Validation jobs: checks run over a crawl job's images (size, format, content rules)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pixcrawler.database import Base, JSONType, TimestampMixin, UTCDateTime
from pixcrawler.database.constraints import non_negative, one_of, percentage
from pixcrawler.models.crawl_job import JobStatus, counter

if TYPE_CHECKING:
    from pixcrawler.models import CrawlJob


class ValidationJob(TimestampMixin, Base):
    __tablename__ = "validation_jobs"
    __table_args__ = (
        one_of("status", JobStatus),
        percentage("progress"),
        *non_negative("total_images", "validated_images", "invalid_images"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    crawl_job_id: Mapped[int] = mapped_column(
        sa.ForeignKey("crawl_jobs.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(100))
    status: Mapped[str] = mapped_column(
        sa.String(20), default=JobStatus.PENDING, server_default=JobStatus.PENDING, index=True
    )
    progress: Mapped[int] = counter()
    total_images: Mapped[int] = counter()
    validated_images: Mapped[int] = counter()
    invalid_images: Mapped[int] = counter()
    validation_rules: Mapped[dict[str, Any]] = mapped_column(
        JSONType, default=dict, server_default=sa.text("'{}'")
    )
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error_message: Mapped[str | None] = mapped_column(sa.Text)

    crawl_job: Mapped[CrawlJob] = relationship(back_populates="validation_jobs")

    def __str__(self) -> str:
        return self.name
