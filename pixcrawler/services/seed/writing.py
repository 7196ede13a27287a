"""Writing a seed: every generated table in one transaction, parents first, then the sequences.

Ids continue after the rows already there (`_current_state`), so seeding twice adds rows. A big
seed into an empty images table builds that table's indexes once, afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import nullcontext
from typing import Any

import sqlalchemy as sa

from pixcrawler.extensions import db
from pixcrawler.services.app_tables import require_schema
from pixcrawler.services.bulk_insert import indexes_deferred, insert_rows
from pixcrawler.services.seed.columns import (
    ACTIVITY_LOG_COLUMNS,
    CRAWL_JOB_COLUMNS,
    EXPORT_JOB_COLUMNS,
    IMAGE_COLUMNS,
    JOB_CHUNK_COLUMNS,
    PROFILE_COLUMNS,
    PROJECT_COLUMNS,
    VALIDATION_JOB_COLUMNS,
)
from pixcrawler.services.seed.copy_encoding import image_copy_line
from pixcrawler.services.seed.plan import SeedPlan
from pixcrawler.services.seed.rows import _Generator
from pixcrawler.services.seed.state import _State
from pixcrawler.services.sequences import advance_sequences

# From this many images into an empty table, PostgreSQL builds the images indexes afterwards.
DEFER_INDEXES_FROM = 100_000


def seed_database(
    plan: SeedPlan, progress: Callable[[str, int], None] | None = None
) -> dict[str, int]:
    """Add demo data in one transaction; returns the rows written per table."""
    plan.check()
    report = progress or (lambda table, count: None)
    with db.engine.begin() as connection:
        require_schema(connection)
        state = _current_state(connection)
        generator = _Generator(plan, state)
        counts: dict[str, int] = {}
        for table_name, columns, rows, copy_line in generated_tables(generator):
            table = db.metadata.tables[table_name]
            with _bulk(connection, table, plan):
                counts[table_name] = insert_rows(connection, table, columns, rows, copy_line)
            report(table_name, counts[table_name])
        advance_sequences(connection, db.metadata.sorted_tables)
    return counts


def _bulk(connection: sa.Connection, table: sa.Table, plan: SeedPlan):
    """Defer the images indexes for a big seed into an empty table; else change nothing."""
    if table.name == "images" and plan.images >= DEFER_INDEXES_FROM:
        empty = connection.scalar(sa.select(sa.literal(1)).select_from(table).limit(1)) is None
        if empty:
            return indexes_deferred(connection, table)
    return nullcontext()


def _current_state(connection: sa.Connection) -> _State:
    state = _State()
    for name in (
        "projects",
        "crawl_jobs",
        "images",
        "activity_logs",
        "validation_jobs",
        "export_jobs",
        "job_chunks",
    ):
        table = db.metadata.tables[name]
        highest = connection.scalar(sa.select(sa.func.max(table.c.id)))
        state.next_ids[name] = (highest or 0) + 1
    profiles = db.metadata.tables["profiles"]
    state.existing_profiles = connection.scalar(sa.select(sa.func.count()).select_from(profiles))
    return state


def generated_tables(
    generator: _Generator,
) -> Iterator[tuple[str, list[str], Any, Callable[[tuple], str] | None]]:
    """(table, columns, rows, fast COPY formatter or None), parents first."""
    yield "profiles", PROFILE_COLUMNS, generator.profile_rows(), None
    yield "projects", PROJECT_COLUMNS, generator.project_rows(), None
    yield "crawl_jobs", CRAWL_JOB_COLUMNS, generator.crawl_job_rows(), None
    yield "images", IMAGE_COLUMNS, generator.image_rows(), image_copy_line
    yield "job_chunks", JOB_CHUNK_COLUMNS, generator.job_chunk_rows(), None
    yield "validation_jobs", VALIDATION_JOB_COLUMNS, generator.validation_job_rows(), None
    yield "export_jobs", EXPORT_JOB_COLUMNS, generator.export_job_rows(), None
    yield "activity_logs", ACTIVITY_LOG_COLUMNS, generator.activity_log_rows(), None
