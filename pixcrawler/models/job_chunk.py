"""Job chunks: the units of work a crawl job is split into, handed to distributed workers.

Workers take the next chunk by priority then age, so `(priority, created_at)` is indexed for
that queue; `task_id` is indexed for finding a chunk from its Celery task, and `(status, id)`
and `(job_id, id)` for the dashboards and the admin's filters, newest first (006).
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pixcrawler.database import Base, JSONType, TimestampMixin
from pixcrawler.database.constraints import non_negative, one_of

if TYPE_CHECKING:
    from pixcrawler.models import CrawlJob


class ChunkStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"


DEFAULT_PRIORITY = 5  # of 0 (lowest) .. 10 (highest)


class JobChunk(TimestampMixin, Base):
    __tablename__ = "job_chunks"
    __table_args__ = (
        one_of("status", ChunkStatus),
        sa.CheckConstraint("priority BETWEEN 0 AND 10", name="priority_range"),
        *non_negative("retry_count"),
        # Leads with job_id, so it also serves the foreign key's cascades.
        sa.UniqueConstraint("job_id", "chunk_index"),
        sa.Index(None, "priority", "created_at"),
        sa.Index(None, "status", "id"),
        sa.Index(None, "job_id", "id"),  # the admin's job filter, newest first (006)
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(sa.ForeignKey("crawl_jobs.id", ondelete="CASCADE"))
    chunk_index: Mapped[int]
    status: Mapped[str] = mapped_column(
        sa.String(20), default=ChunkStatus.PENDING, server_default=ChunkStatus.PENDING
    )
    priority: Mapped[int] = mapped_column(
        default=DEFAULT_PRIORITY, server_default=str(DEFAULT_PRIORITY)
    )
    # The slice of the job's images this chunk covers: {"start": 0, "end": 500}.
    image_range: Mapped[dict[str, Any]] = mapped_column(JSONType)
    error_message: Mapped[str | None] = mapped_column(sa.Text)
    retry_count: Mapped[int] = mapped_column(default=0, server_default="0")
    task_id: Mapped[str | None] = mapped_column(sa.String(255), index=True)

    crawl_job: Mapped[CrawlJob] = relationship(back_populates="chunks")

    def __str__(self) -> str:
        return f"chunk {self.chunk_index} of job {self.job_id}"
