"""Projects and their crawl jobs: editable, statuses limited to the model's enums."""

from __future__ import annotations

from wtforms import SelectField

from pixcrawler.admin.base import SecureModelView
from pixcrawler.admin.people import enum_select
from pixcrawler.models import JobStatus, ProjectStatus

# Foreign keys are picked by typing (AJAX), never from a select box holding every row.
OWNER_BY_EMAIL = {"fields": ("email",), "page_size": 10}
PROJECT_BY_NAME = {"fields": ("name",), "page_size": 10}


class ProjectAdmin(SecureModelView):
    column_list = ("id", "name", "owner", "status", "created_at")
    column_searchable_list = ("name", "owner.email")
    column_filters = ("status", "owner.email")
    column_sortable_list = ("id", "name", "status", "created_at")
    column_default_sort = ("id", True)
    column_details_exclude_list = ("crawl_jobs",)
    form_columns = ("name", "description", "owner", "status")
    form_ajax_refs = {"owner": OWNER_BY_EMAIL}
    form_overrides = {"status": SelectField}
    form_args = {"status": enum_select(ProjectStatus)}


class CrawlJobAdmin(SecureModelView):
    """Crawl jobs. Timestamps and counters are the workers'; people fix names and statuses."""

    column_list = (
        "id",
        "name",
        "project",
        "status",
        "progress",
        "total_images",
        "downloaded_images",
        "valid_images",
        "created_at",
    )
    column_searchable_list = ("name", "project.name")
    column_filters = ("status", "project.name")
    column_sortable_list = ("id", "name", "status", "progress", "created_at")
    column_default_sort = ("id", True)
    # `images` is write-only (millions of rows): never loaded by a list, a form or a detail.
    column_details_exclude_list = ("images", "validation_jobs", "export_jobs", "chunks")
    form_columns = ("project", "name", "keywords", "max_images", "status", "progress")
    form_ajax_refs = {"project": PROJECT_BY_NAME}
    form_overrides = {"status": SelectField}
    form_args = {"status": enum_select(JobStatus)}
