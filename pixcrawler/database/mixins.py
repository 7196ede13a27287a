"""Column groups shared by several models."""

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from pixcrawler.database.types import UTCDateTime


def utcnow() -> datetime:
    return datetime.now(UTC)


class TimestampMixin:
    """`created_at` set by the database, `updated_at` refreshed on every ORM update.

    The refresh is computed here rather than by `now()`: SQLite's clock has one-second
    resolution, PostgreSQL's `now()` is the transaction's start; both would hide updates.
    """

    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, server_default=sa.func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, server_default=sa.func.now(), onupdate=utcnow
    )
