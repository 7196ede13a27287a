"""Validation and export jobs: editable names, statuses and options; counters are the workers'."""

from __future__ import annotations

from wtforms import SelectField

from pixcrawler.admin.base import SecureModelView
from pixcrawler.admin.people import enum_select
from pixcrawler.admin.projects import OWNER_BY_EMAIL
from pixcrawler.models import JobStatus

CRAWL_JOB_BY_NAME = {"fields": ("name",), "page_size": 10}


class ValidationJobAdmin(SecureModelView):
    column_list = (
        "id",
        "name",
        "crawl_job",
        "status",
        "progress",
        "total_images",
        "validated_images",
        "invalid_images",
        "created_at",
    )
    column_searchable_list = ("name", "crawl_job.name")
    column_filters = ("status", "crawl_job.name")
    column_sortable_list = ("id", "name", "status", "progress", "created_at")
    column_default_sort = ("id", True)
    form_columns = ("crawl_job", "name", "status", "progress", "validation_rules", "error_message")
    form_ajax_refs = {"crawl_job": CRAWL_JOB_BY_NAME}
    form_overrides = {"status": SelectField}
    form_args = {"status": enum_select(JobStatus)}


class ExportJobAdmin(SecureModelView):
    column_list = (
        "id",
        "name",
        "crawl_job",
        "user",
        "status",
        "progress",
        "format",
        "total_images",
        "exported_images",
        "created_at",
    )
    column_searchable_list = ("name", "crawl_job.name", "user.email")
    column_filters = ("status", "format", "user.email")
    column_sortable_list = ("id", "name", "status", "progress", "created_at")
    column_default_sort = ("id", True)
    form_columns = (
        "crawl_job",
        "user",
        "name",
        "status",
        "progress",
        "format",
        "export_options",
        "download_url",
        "error_message",
    )
    form_ajax_refs = {"crawl_job": CRAWL_JOB_BY_NAME, "user": OWNER_BY_EMAIL}
    form_overrides = {"status": SelectField}
    form_args = {"status": enum_select(JobStatus)}
