"""Images: the biggest table; read-only and keyset-paged, so a million rows stay fast.

Every way the list can be narrowed is served by an index (revision 006): the file name search
is a prefix, listed in file name order; each filter is an equality on a column whose index ends
with the id, or, for the flags, an index of the rare rows.
"""

from __future__ import annotations

from flask_admin.contrib.sqla.filters import BooleanEqualFilter, FilterEqual, IntEqualFilter
from markupsafe import Markup, escape

from pixcrawler.admin.base import LargeTableView
from pixcrawler.extensions import db
from pixcrawler.models import Image
from pixcrawler.models.image import filename_key


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
    column_filters = (
        IntEqualFilter(Image.crawl_job_id, "Crawl job id"),
        FilterEqual(Image.hash, "Hash"),
        FilterEqual(Image.format, "Format"),
        BooleanEqualFilter(Image.is_valid, "Valid"),
        BooleanEqualFilter(Image.is_duplicate, "Duplicate"),
    )
    column_searchable_list = ("filename",)

    def search_key(self):
        return filename_key(db.engine.dialect.name)

    def search_placeholder(self) -> str:
        return "File name starts with"
