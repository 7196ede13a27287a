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
    """List pages for tables with millions of rows: no COUNT(*), no OFFSET, every page one range
    of one index, however deep the reader goes and whatever it filters or searches.

    Put it before the ModelView base. Rows come in the order of a key: the id, newest first (or
    oldest first when the id column is sorted ascending, the only other order offered); while a
    view's prefix search is on (`search_key`), the searched text, then the id. The pager's next
    link carries the id of the last row shown (`?after=`), and the next page starts after that
    row's key. The filters each view offers are equalities on columns whose index ends with the
    id (revision 006), so a filtered page is a range too.
    """

    simple_list_pager = True  # no total: counting millions of rows on every page is the cost
    list_template = "admin/keyset_list.html"
    column_sortable_list: tuple[str, ...] = ("id",)
    column_default_sort = ("id", True)

    def search_key(self) -> sa.ColumnElement[str] | None:
        """The expression a prefix search compares, whose index lists the matches in order; None
        for a view that searches otherwise."""
        return None

    def keyset_order(self) -> tuple[list[sa.ColumnElement[Any]], bool]:
        """The key of the rows' order on this request, and whether it descends."""
        args = self._get_list_extra_args()  # type: ignore[attr-defined]
        key = self.search_key() if args.search else None
        if key is not None:
            return [key, self.model.id], False  # type: ignore[attr-defined]
        descending = args.sort is None or bool(args.sort_desc)  # the id is the only sort offered
        return [self.model.id], descending  # type: ignore[attr-defined]

    def keyset_after(self) -> int | None:
        """The id of the row the page starts after: only a valid integer."""
        return request.args.get("after", type=int)

    def _apply_search(self, query, count_query, joins, count_joins, search):
        """A prefix, case-insensitive: `lower(text) LIKE 'term%'`, a range of the key's index."""
        key = self.search_key()
        if key is None:
            return super()._apply_search(query, count_query, joins, count_joins, search)  # type: ignore[misc]
        term = search.strip().lower()
        pattern = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        return query.filter(key.like(pattern, escape="\\")), count_query, joins, count_joins

    def _apply_sorting(self, query, joins, sort_column, sort_desc):
        columns, descending = self.keyset_order()
        return query.order_by(*(c.desc() if descending else c.asc() for c in columns)), joins

    def _apply_pagination(self, query, page, page_size):
        """A page of the list starts after `?after=`'s row and is never skipped to by OFFSET; an
        export (page size 0) gets every row."""
        if page_size is None:
            page_size = self.page_size  # type: ignore[attr-defined]
        if not page_size:
            return query
        after = self.keyset_after()
        if after is not None:
            query = query.filter(self.after_row(after))
        return query.limit(page_size)

    def after_row(self, after: int) -> sa.ColumnElement[bool]:
        """Rows past the given one in the key's order (all rows if it has gone since)."""
        columns, descending = self.keyset_order()
        if len(columns) == 1:
            return columns[0] < after if descending else columns[0] > after
        values = db.session.execute(
            sa.select(*columns).where(self.model.id == after)  # type: ignore[attr-defined]
        ).first()
        if values is None:
            return sa.true()
        key, seen = sa.tuple_(*columns), sa.tuple_(*values)
        return key < seen if descending else key > seen

    def keyset_urls(self, data: list[Any], page_size: int) -> dict[str, Any]:
        """The pager's links (back to the first page, on to the next) and their words."""
        view_args = self._get_list_extra_args()  # type: ignore[attr-defined]
        extra = {k: v for k, v in view_args.extra_args.items() if k != "after"}
        first = self._get_list_url(view_args.clone(page=None, extra_args=extra))  # type: ignore[attr-defined]
        following = None
        if data and len(data) >= page_size:
            args = view_args.clone(page=None, extra_args={**extra, "after": data[-1].id})
            following = self._get_list_url(args)  # type: ignore[attr-defined]
        columns, descending = self.keyset_order()
        if len(columns) > 1:
            words = ("First", "Next")
        else:
            words = ("Newest", "Older") if descending else ("Oldest", "Newer")
        paged = self.keyset_after() is not None
        return {"first": first, "next": following, "paged": paged, "words": words}


class LargeTableView(KeysetPaging, ReadOnlyModelView):
    """Append-only tables with millions of rows (images, activity logs): keyset pages, no edits."""
