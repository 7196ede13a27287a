"""Images: the biggest table; read-only and keyset-paged, so a million rows stay fast."""

from __future__ import annotations

from markupsafe import Markup, escape

from pixcrawler.admin.base import LargeTableView


def crawl_job_label(view, context, model, name) -> Markup:
    """`#id name` of the image's job, from the row's own join: no query per row."""
    job = model.crawl_job
    return Markup(f"#{job.id} {escape(job.name)}") if job else Markup("")


class ImageAdmin(LargeTableView):
    column_list = (
        "id",
        "crawl_job",
        "filename",
        "format",
        "width",
        "height",
        "file_size",
        "is_valid",
        "is_duplicate",
        "created_at",
    )
    column_labels = {"crawl_job": "Crawl job"}
    column_formatters = {"crawl_job": crawl_job_label}
    # Only orders an index serves; anything else would sort the whole table for one page.
    column_sortable_list = ("id",)
    column_default_sort = ("id", True)
    column_filters = ("crawl_job_id", "is_valid", "is_duplicate", "format", "hash")
    column_searchable_list = ("filename",)
