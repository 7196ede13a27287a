"""Activity logs: an append-only trail of what users did; kept when the user is deleted."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pixcrawler.database import Base, JSONType, UTCDateTime, id_bigint

if TYPE_CHECKING:
    from pixcrawler.models import Profile


class ActivityLog(Base):
    __tablename__ = "activity_logs"
    # The admin lists the log newest first, filtered by user, action or resource type: each
    # index ends with the id, so a filtered page is one range of one index at any size (006).
    # The user's leads with user_id, so it also serves the foreign key's SET NULL.
    __table_args__ = (
        sa.Index(None, "user_id", "id"),
        sa.Index(None, "action", "id"),
        sa.Index(None, "resource_type", "id"),
    )

    id: Mapped[int] = mapped_column(id_bigint, primary_key=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("profiles.id", ondelete="SET NULL")
    )
    action: Mapped[str] = mapped_column(sa.Text)
    resource_type: Mapped[str | None] = mapped_column(sa.String(50))
    resource_id: Mapped[str | None] = mapped_column(sa.String(50))
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONType)
    timestamp: Mapped[datetime] = mapped_column(
        UTCDateTime, server_default=sa.func.now(), index=True
    )

    user: Mapped[Profile | None] = relationship(back_populates="activity_logs")

    def __str__(self) -> str:
        return self.action
