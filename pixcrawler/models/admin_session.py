"""Admin sessions: one row per login to the admin, so that the server can end a session.

The signed cookie alone cannot be taken back; this row can. Logout deletes it, a new password
deletes every row of the account, timeouts expire it, and deleting the account (or its
profile) cascades here. Only a SHA-256 digest of the session id is stored: the id itself lives
in the visitor's cookie, so a copy of this table opens no session.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from pixcrawler.database import Base, UTCDateTime


class AdminSession(Base):
    __tablename__ = "admin_sessions"

    # hex SHA-256 of the random session id in the cookie
    id_digest: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    profile_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("admin_accounts.profile_id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Refreshed at most once a minute (services.admin_sessions.TOUCH_INTERVAL), not per request.
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
