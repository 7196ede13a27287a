"""Admin accounts: the credentials that let a profile into the admin UI.

Kept apart from `profiles` on purpose: on Supabase the profiles table is usually readable through
the data API, and password hashes must never be. One row per admin, removed with its profile.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pixcrawler.database import Base, TimestampMixin, UTCDateTime
from pixcrawler.database.constraints import non_negative

if TYPE_CHECKING:
    from pixcrawler.models import Profile


class AdminAccount(TimestampMixin, Base):
    __tablename__ = "admin_accounts"
    __table_args__ = tuple(non_negative("failed_logins"))

    profile_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("profiles.id", ondelete="CASCADE"), primary_key=True
    )
    # A werkzeug.security salted hash; the password itself is never stored.
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    profile: Mapped[Profile] = relationship(back_populates="admin_account")

    def __str__(self) -> str:
        return str(self.profile_id)
