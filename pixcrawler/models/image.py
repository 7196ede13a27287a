"""Images: what crawl jobs collect; the largest, fastest-growing table."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pixcrawler.database import Base, JSONType, UTCDateTime, id_bigint

if TYPE_CHECKING:
    from pixcrawler.models import CrawlJob


class Image(Base):
    __tablename__ = "images"
    __table_args__ = (
        # Duplicate detection looks up a hash within one job (built CONCURRENTLY by 004). It
        # leads with crawl_job_id, so it also serves the foreign key: no index on that alone.
        sa.Index(None, "crawl_job_id", "hash"),
    )

    id: Mapped[int] = mapped_column(id_bigint, primary_key=True)
    crawl_job_id: Mapped[int] = mapped_column(sa.ForeignKey("crawl_jobs.id", ondelete="CASCADE"))
    original_url: Mapped[str] = mapped_column(sa.Text)
    filename: Mapped[str] = mapped_column(sa.String(255))
    storage_url: Mapped[str | None] = mapped_column(sa.Text)
    width: Mapped[int | None]
    height: Mapped[int | None]
    file_size: Mapped[int | None] = mapped_column(sa.BigInteger)
    format: Mapped[str | None] = mapped_column(sa.String(10))
    # Content hash (e.g. SHA-256 hex) for duplicate detection.
    hash: Mapped[str | None] = mapped_column(sa.String(64))
    is_valid: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    is_duplicate: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    labels: Mapped[Any | None] = mapped_column(JSONType)
    # "metadata" is reserved on declarative classes; the column keeps its name.
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONType)
    downloaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=sa.func.now())

    crawl_job: Mapped[CrawlJob] = relationship(back_populates="images")

    def __str__(self) -> str:
        return self.filename
