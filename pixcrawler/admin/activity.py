"""Activity logs: an append-only trail, so read-only, and paged like the other big table."""

from __future__ import annotations

from pixcrawler.admin.base import LargeTableView


class ActivityLogAdmin(LargeTableView):
    column_list = ("id", "timestamp", "user", "action", "resource_type", "resource_id")
    column_labels = {"user": "User", "metadata_": "Metadata"}
    column_sortable_list = ("id",)
    column_default_sort = ("id", True)
    column_filters = ("user.email", "action", "resource_type", "resource_id")
    column_searchable_list = ("action",)
