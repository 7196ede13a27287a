"""Activity logs: an append-only trail, so read-only, and paged like the other big table.

Each filter is an equality served by an index that ends with the id (revision 006); there is
no free-text search, which no index could serve on a log of millions of rows.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_admin.contrib.sqla.filters import BaseSQLAFilter, FilterEqual

from pixcrawler.admin.base import LargeTableView
from pixcrawler.extensions import db
from pixcrawler.models import ActivityLog, Profile


class UserEmailFilter(BaseSQLAFilter):
    """The user by email, looked up first (one probe of the unique email index), so the page
    is then a range of `(user_id, id)` for a known id. Through a subquery or a join the planner
    has to guess how many rows the user has; with a subquery it walked the whole log backwards
    for a user with few rows."""

    def apply(self, query, value, alias=None):
        user_id = db.session.scalar(sa.select(Profile.id).where(Profile.email == value))
        return query.filter(ActivityLog.user_id == user_id if user_id else sa.false())

    def operation(self) -> str:
        return "equals"


class ActivityLogAdmin(LargeTableView):
    column_list = ("id", "timestamp", "user", "action", "resource_type", "resource_id")
    column_labels = {"user": "User", "metadata_": "Metadata"}
    column_filters = (
        UserEmailFilter(ActivityLog.user_id, "User email"),
        FilterEqual(ActivityLog.action, "Action"),
        FilterEqual(ActivityLog.resource_type, "Resource type"),
    )
