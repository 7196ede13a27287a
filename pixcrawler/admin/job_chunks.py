"""Job chunks: the workers' units of work. People requeue a chunk (status, priority) or fix its
range; the task id and retry count are the workers' but stay editable for recovery. A job of a
million images has thousands of chunks, so the list pages like the other big tables."""

from __future__ import annotations

from wtforms import SelectField

from pixcrawler.admin.base import KeysetPaging, SecureModelView
from pixcrawler.admin.jobs import CRAWL_JOB_BY_NAME
from pixcrawler.admin.people import enum_select
from pixcrawler.models import ChunkStatus


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
    column_searchable_list = ("task_id", "crawl_job.name")
    column_filters = ("status", "priority", "crawl_job.name")
    column_sortable_list = ("id", "chunk_index", "status", "priority", "created_at")
    column_default_sort = ("id", True)
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
