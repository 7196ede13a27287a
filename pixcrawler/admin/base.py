"""The admin's base views: the login check every page shares, the schema badge in the navigation
bar, and list-page defaults that stay fast on tables with millions of rows."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import current_app, flash, g, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_admin import AdminIndexView, BaseView
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla.ajax import QueryAjaxModelLoader
from flask_login import current_user
from werkzeug.exceptions import InternalServerError

from pixcrawler.admin.auth import is_admin, refuse
from pixcrawler.admin.exports import StreamedExports
from pixcrawler.database.errors import first_line
from pixcrawler.extensions import db
from pixcrawler.migrator.state import MigrationState, migration_state


def navbar_state() -> MigrationState:
    """The migration state shown in the navigation bar, read once per request."""
    if "admin_schema" not in g:
        g.admin_schema = migration_state()
    return g.admin_schema


def database_error(exc: sa.exc.DBAPIError) -> ResponseReturnValue:
    """A data page the database cannot answer (usually a schema behind the models): back to
    the dashboard with the reason, instead of a server error."""
    db.session.rollback()
    prefix = current_app.extensions["pixcrawler_admin"].url + "/"
    data_page = request.path.startswith(prefix) and request.endpoint != "admin.index"
    if not data_page or request.method != "GET":
        return InternalServerError(original_exception=exc)
    current_app.logger.warning("admin page %s failed: %s", request.path, exc)
    reason = first_line(exc)
    flash(f"This page needs a database at head ({navbar_state().summary}): {reason}", "error")
    return redirect(url_for("admin.index"))


class AdminOnly:
    """Only logged-in admins see these pages; everyone else goes to the login page (or 401)."""

    # The schema pages also admit a session whose account cannot be checked right now.
    allow_unverified = False

    def is_accessible(self) -> bool:
        return is_admin(self.allow_unverified)

    def inaccessible_callback(self, name: Any, **kwargs: Any) -> ResponseReturnValue:
        if current_user.is_authenticated:  # logged in, but the data cannot be read now
            flash("The data pages need a database at head; see the schema state here.", "error")
            return redirect(url_for("admin.index"))
        return refuse()

    def render(self, template: str, **kwargs: Any) -> str:
        kwargs.setdefault("schema", navbar_state())
        return super().render(template, **kwargs)  # type: ignore[misc]


class SecureIndexView(AdminOnly, AdminIndexView):
    """Base of the dashboard (the admin's home page)."""

    allow_unverified = True


class SecureView(AdminOnly, BaseView):
    """Base of the hand-written admin pages (the schema pages)."""

    allow_unverified = True


def coerce_key(model: type, value: Any) -> Any:
    """A primary key from a URL or a form, as the column's type wants it.

    Flask-Admin passes keys on as strings; SQLAlchemy's Uuid type binds only UUID objects.
    """
    columns = sa.inspect(model).primary_key
    if len(columns) == 1 and isinstance(columns[0].type, sa.Uuid) and isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            return None
    return value


class KeyAwareAjaxLoader(QueryAjaxModelLoader):
    """AJAX lookups for foreign keys, accepting string keys for UUID-keyed tables."""

    def get_one(self, pk: Any) -> Any:
        key = coerce_key(self.model, pk)
        return None if key is None else super().get_one(key)


# A cell that starts with one of these is run as a formula by Excel, LibreOffice or Google
# Sheets (OWASP, "CSV Injection"); a tab or carriage return can hide such a start.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """An exported value a spreadsheet shows as text: a leading apostrophe before a formula
    start, as OWASP advises. Numbers and empty cells stay as they are (-5 is not a formula)."""
    if value is None or isinstance(value, int | float | Decimal):
        return value
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


class SecureModelView(AdminOnly, StreamedExports, ModelView):
    """Base of every model page: details, search, CSV and JSON exports of every matching row
    (streamed), pages of 20 rows."""

    can_view_details = True
    can_export = True
    export_types = ("csv", "json")  # both streamed (exports.py), in tablib's JSON shape
    page_size = 20
    can_set_page_size = True
    page_size_options = (20, 50, 100)
    column_display_pk = True
    # Flask-Admin's own POST forms (edit, delete, actions) carry Flask-WTF's token, which the
    # app-wide CSRFProtect checks; the templates add it through the `csrf_token()` global.

    def get_one(self, id: Any) -> Any:
        key = coerce_key(self.model, id)
        return None if key is None else db.session.get(self.model, key)

    def get_export_value(self, model: Any, name: Any) -> Any:
        """Flask-Admin's one hook for every export format: each cell goes through here."""
        return spreadsheet_safe(super().get_export_value(model, name))

    def _create_ajax_loader(self, name: str, options: dict[str, Any]) -> QueryAjaxModelLoader:
        remote = getattr(self.model, name).prop.mapper.class_
        return KeyAwareAjaxLoader(name, db, remote, **options)


class ReadOnlyModelView(SecureModelView):
    """Append-only or machine-written tables: look, search, export, never change."""

    can_create = False
    can_edit = False
    can_delete = False


class KeysetPaging:
    """List pages for tables with millions of rows: no COUNT(*), keyset pages in the default order.

    Put it before the ModelView base. The default order is the primary key, newest first. Its
    "older" link carries the last id seen (`?after=`), so every page is an index range scan
    however deep the reader goes; other orders fall back to Flask-Admin's numbered pages (OFFSET).
    """

    simple_list_pager = True  # no total: counting millions of rows on every page is the cost
    list_template = "admin/keyset_list.html"
    keyset_column = "id"
    # Filtering a huge table by a free-text search scans it; searching is still allowed, but
    # only on columns listed by each view.

    def keyset_after(self) -> int | None:
        """The cursor of a keyset page: only in the default order, only a valid integer."""
        if request.args.get("sort") is not None:
            return None
        return request.args.get("after", type=int)

    def get_query(self):
        query = super().get_query()  # type: ignore[misc]
        after = self.keyset_after()
        if after is not None:
            query = query.filter(getattr(self.model, self.keyset_column) < after)
        return query

    def keyset_urls(self, data: list[Any], page_size: int) -> dict[str, str | None]:
        """Links for the keyset pager: back to the newest rows, and on to older ones."""
        view_args = self._get_list_extra_args()
        extra = {k: v for k, v in view_args.extra_args.items() if k != "after"}
        newest = self._get_list_url(view_args.clone(page=None, extra_args=extra))
        older = None
        if data and len(data) >= page_size:
            last = getattr(data[-1], self.keyset_column)
            older_args = view_args.clone(page=None, extra_args={**extra, "after": last})
            older = self._get_list_url(older_args)
        return {"newest": newest, "older": older, "paged": self.keyset_after() is not None}


class LargeTableView(KeysetPaging, ReadOnlyModelView):
    """Append-only tables with millions of rows (images, activity logs): keyset pages, no edits."""
