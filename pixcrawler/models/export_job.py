"""Export jobs: a user's download of a crawl job's images as an archive."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pixcrawler.database import Base, JSONType, TimestampMixin, UTCDateTime
from pixcrawler.database.constraints import non_negative, one_of, percentage
from pixcrawler.models.crawl_job import JobStatus, counter

if TYPE_CHECKING:
    from pixcrawler.models import CrawlJob, Profile


class ExportJob(TimestampMixin, Base):
    __tablename__ = "export_jobs"
    __table_args__ = (
        one_of("status", JobStatus),
        percentage("progress"),
        *non_negative("total_images", "exported_images"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    crawl_job_id: Mapped[int] = mapped_column(
        sa.ForeignKey("crawl_jobs.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("profiles.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(100))
    status: Mapped[str] = mapped_column(
        sa.String(20), default=JobStatus.PENDING, server_default=JobStatus.PENDING, index=True
    )
    progress: Mapped[int] = counter()
    format: Mapped[str] = mapped_column(sa.String(20), default="zip", server_default="zip")
    total_images: Mapped[int] = counter()
    exported_images: Mapped[int] = counter()
    file_size: Mapped[int | None] = mapped_column(sa.BigInteger)
    download_url: Mapped[str | None] = mapped_column(sa.Text)
    export_options: Mapped[dict[str, Any]] = mapped_column(
        JSONType, default=dict, server_default=sa.text("'{}'")
    )
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error_message: Mapped[str | None] = mapped_column(sa.Text)

    crawl_job: Mapped[CrawlJob] = relationship(back_populates="export_jobs")
    user: Mapped[Profile] = relationship(back_populates="export_jobs")

    def __str__(self) -> str:
        return self.name
