"""Column groups shared by several models."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from pixcrawler.database.types import UTCDateTime


class TimestampMixin:
    """`created_at` set by the database, `updated_at` refreshed on every ORM update."""

    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, server_default=sa.func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, server_default=sa.func.now(), onupdate=sa.func.now()
    )
