"""Profiles: the application's users, keyed by their Supabase auth user id."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pixcrawler.database import Base, TimestampMixin
from pixcrawler.database.constraints import one_of

if TYPE_CHECKING:
    from pixcrawler.models import ActivityLog, AdminAccount, ExportJob, Project


class Role(StrEnum):
    USER = "user"
    ADMIN = "admin"


class Tier(StrEnum):
    """The plan a profile is on."""

    FREE = "free"
    PRO = "pro"
    ENTERPRISE = "enterprise"


class Profile(TimestampMixin, Base):
    __tablename__ = "profiles"
    __table_args__ = (one_of("role", Role), one_of("tier", Tier))

    # Equals auth.users.id on Supabase; a local uuid4 when a profile is created here.
    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    # The unique constraint's index serves lookups by email; no second index.
    email: Mapped[str] = mapped_column(sa.String(255), unique=True)
    full_name: Mapped[str | None] = mapped_column(sa.String(100))
    avatar_url: Mapped[str | None] = mapped_column(sa.Text)
    role: Mapped[str] = mapped_column(sa.String(20), default=Role.USER, server_default=Role.USER)
    tier: Mapped[str] = mapped_column(sa.String(20), default=Tier.FREE, server_default=Tier.FREE)

    projects: Mapped[list[Project]] = relationship(
        back_populates="owner", passive_deletes=True, order_by="Project.id"
    )
    activity_logs: Mapped[list[ActivityLog]] = relationship(
        back_populates="user", passive_deletes=True
    )
    export_jobs: Mapped[list[ExportJob]] = relationship(
        back_populates="user", passive_deletes=True
    )
    admin_account: Mapped[AdminAccount | None] = relationship(
        back_populates="profile", passive_deletes=True
    )

    def __str__(self) -> str:
        return self.email
