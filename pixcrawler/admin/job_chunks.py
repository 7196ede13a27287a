"""Job chunks: the workers' units of work. People requeue a chunk (status, priority) or fix its
range; the task id and retry count are the workers' but stay editable for recovery. A job of a
million images has thousands of chunks, so the list pages like the other big tables: by keyset,
filtered by equalities that an index ending with the id serves, and searched by an exact task
id (its own index)."""

from __future__ import annotations

from flask_admin.contrib.sqla.filters import FilterEqual, IntEqualFilter
from wtforms import SelectField

from pixcrawler.admin.base import KeysetPaging, SecureModelView
from pixcrawler.admin.jobs import CRAWL_JOB_BY_NAME
from pixcrawler.admin.people import enum_select
from pixcrawler.models import ChunkStatus, JobChunk


class JobChunkAdmin(KeysetPaging, SecureModelView):
    column_list = (
        "id",
        "crawl_job",
        "chunk_index",
        "status",
        "priority",
        "retry_count",
        "task_id",
        "created_at",
    )
    column_searchable_list = ("task_id",)
    column_filters = (
        FilterEqual(JobChunk.status, "Status", options=[(s.value, s.value) for s in ChunkStatus]),
        IntEqualFilter(JobChunk.job_id, "Crawl job id"),
    )
    form_columns = (
        "crawl_job",
        "chunk_index",
        "status",
        "priority",
        "image_range",
        "retry_count",
        "task_id",
        "error_message",
    )
    form_ajax_refs = {"crawl_job": CRAWL_JOB_BY_NAME}
    form_overrides = {"status": SelectField}
    form_args = {"status": enum_select(ChunkStatus)}

    def _apply_search(self, query, count_query, joins, count_joins, search):
        """The chunk of one Celery task: its exact id, not a substring no index could serve."""
        return query.filter(JobChunk.task_id == search.strip()), count_query, joins, count_joins

    def search_placeholder(self) -> str:
        return "Task id (exact)"
