"""What a seed run keeps track of while it generates: ids to continue from, and the crawl jobs
that later tables (images, chunks, validation and export jobs) are built on."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class _Job:
    """What later tables need to know about a generated crawl job."""

    id: int
    project_id: int
    owner_id: uuid.UUID
    name: str
    keywords: tuple[str, ...]
    status: str
    images: int
    valid: int
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    # Chunk counts by state, and the Celery task ids of the chunks being processed.
    chunks: tuple[int, int, int, int] = (0, 0, 0, 0)  # total, completed, active, failed
    active_task_ids: list[str] = field(default_factory=list)
    updated_at: datetime | None = None


@dataclass
class _State:
    """Ids to continue from, so seeding twice adds rows instead of colliding."""

    next_ids: dict[str, int] = field(default_factory=dict)
    existing_profiles: int = 0
