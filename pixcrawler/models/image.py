"""Images: what crawl jobs collect; the largest, fastest-growing table."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pixcrawler.database import Base, JSONType, UTCDateTime, id_bigint

if TYPE_CHECKING:
    from pixcrawler.models import CrawlJob


INVALID = sa.text("NOT is_valid")
DUPLICATE = sa.text("is_duplicate")


class Image(Base):
    __tablename__ = "images"
    # The admin lists images newest first (ORDER BY id DESC), filtered by one column at a time.
    # Each index below ends with the id, or holds only the rare rows, so a filtered page of any
    # depth is one range of one index, at any table size (006). The file name search has its
    # own index after the class.
    __table_args__ = (
        # The job filter; leads with crawl_job_id, so it serves the foreign key's cascades too.
        sa.Index(None, "crawl_job_id", "id"),
        # Duplicate detection looks a hash up across jobs, or within one (a row or two a hash).
        sa.Index(None, "hash", "id"),
        sa.Index(None, "format", "id"),
        # The rare side of each flag; the common side is most of the primary key's order.
        # (006 makes them partial on SQLite too; a `sqlite_where` here would load SQLite's
        # dialect in every PostgreSQL process, and Alembic compares no index condition.)
        sa.Index("ix_images_invalid", "id", postgresql_where=INVALID),
        sa.Index("ix_images_duplicate", "id", postgresql_where=DUPLICATE),
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


def filename_key(dialect_name: str) -> sa.ColumnElement[str]:
    """What the admin's file name search compares and orders by: the name in lower case.

    On PostgreSQL, in the "C" collation, which compares bytes: that is what lets a LIKE
    'prefix%' range over a btree whatever the database's own collation, and the index below
    holds exactly this expression (so lower() folds ASCII letters only). SQLite has no such
    collation, nor this index: a search there reads the table.
    """
    if dialect_name == "postgresql":
        return sa.func.lower(Image.filename.collate("C"))
    return sa.func.lower(Image.filename)


# The search lists its matches in the order of this index, so any page of any search is one
# range of it (006).
sa.Index("ix_images_filename_prefix", filename_key("postgresql"), Image.id).ddl_if(
    dialect="postgresql"
)
