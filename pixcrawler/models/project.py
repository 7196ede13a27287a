"""Projects: a user's named collection of crawl jobs."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pixcrawler.database import Base, TimestampMixin
from pixcrawler.database.constraints import one_of

if TYPE_CHECKING:
    from pixcrawler.models import CrawlJob, Profile


class ProjectStatus(StrEnum):
    ACTIVE = "active"
    ARCHIVED = "archived"


class Project(TimestampMixin, Base):
    __tablename__ = "projects"
    __table_args__ = (one_of("status", ProjectStatus),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    description: Mapped[str | None] = mapped_column(sa.Text)
    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("profiles.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(
        sa.String(20), default=ProjectStatus.ACTIVE, server_default=ProjectStatus.ACTIVE
    )

    owner: Mapped[Profile] = relationship(back_populates="projects")
    crawl_jobs: Mapped[list[CrawlJob]] = relationship(
        back_populates="project", passive_deletes=True, order_by="CrawlJob.id"
    )

    def __str__(self) -> str:
        return self.name
