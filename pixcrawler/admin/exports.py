"""CSV and JSON exports that stream every row the list page would show, whatever the table's
size, holding one batch of rows in memory at a time.

Flask-Admin's own exports load every row first (`get_list` runs `.all()`), and its JSON export
builds the whole file in a tablib Dataset; with a million images that is gigabytes, which is why
the views used to cap exports at 10,000 rows. Here the list's query (search, filters and sort
included, built by Flask-Admin's `get_list`) is read in batches through `yield_per`, a
server-side cursor on PostgreSQL, and each batch is written out before the next one is read.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from itertools import islice
from typing import Any, Protocol

from flask import Response, current_app, g, request, stream_with_context
from flask_admin._compat import csv_encode
from sqlalchemy.orm import Session
from werkzeug.utils import secure_filename

from pixcrawler.extensions import db


class Body(Protocol):
    """A file format, written in pieces: its start (with the column titles), batches of rows
    (text cells), its end."""

    def start(self, titles: list[str]) -> str: ...
    def rows(self, rows: list[list[str]]) -> str: ...
    def end(self) -> str: ...


class StreamedExports:
    """Exports of the whole list, streamed. Put it before Flask-Admin's ModelView.

    The list's export link repeats the page's URL arguments, a keyset page's `?after=` included.
    Where a page starts is not which rows the list holds: the query is asked for with no page
    size (`get_list(..., page_size=0)`), which `KeysetPaging` answers with every row, from the
    first, in the list's order.
    """

    # Rows per batch: what one FETCH from the server-side cursor brings, and one written chunk.
    export_batch_size = 1000

    @property
    def exporting(self) -> bool:
        """Whether this request is an export (set for the request by `_export_csv`/`_json`)."""
        return bool(g.get("admin_exporting", False))

    def get_count_query(self) -> Any:
        """No COUNT(*) for an export: the count is only the list's pager's business."""
        if self.exporting:
            return None
        return super().get_count_query()  # type: ignore[misc]

    def _export_csv(self, return_url: Any) -> Response:
        return self._streamed_export("csv", "text/csv", CsvBody())

    def _export_tablib(self, export_type: str, return_url: str) -> Any:
        if export_type != "json":  # not offered (export_types); Flask-Admin's, in memory
            return super()._export_tablib(export_type, return_url)  # type: ignore[misc]
        return self._streamed_export("json", "application/json", JsonBody())

    def _streamed_export(self, export_type: str, mimetype: str, body: Body) -> Response:
        """The response. The rows are read through a session of the export's own: Flask pops
        the request's contexts (and Flask-SQLAlchemy closes `db.session`) as soon as the view
        returns, before `stream_with_context` pushes them again for the body. The header and
        first batch are read here, so a query the database refuses (a schema behind the
        models) fails before any byte is sent, as a list page would."""
        g.admin_exporting = True
        titles = [csv_encode(title) for _, title in self._export_columns]  # type: ignore[attr-defined]
        session = db.session.session_factory()
        try:
            rows = iter(self.export_query().with_session(session))
            first = self._export_batch(rows)
        except BaseException:
            session.close()
            raise
        name = self.get_export_name(export_type)  # type: ignore[attr-defined]
        response = Response(
            stream_with_context(self._stream(body, titles, first, rows, session)),
            headers={"Content-Disposition": f"attachment;filename={secure_filename(name)}"},
            mimetype=mimetype,
        )
        response.call_on_close(session.close)  # also when the client leaves before the end
        return response

    def export_query(self) -> Any:
        """The list's query, unexecuted and unpaged: Flask-Admin's own search, filters, sort and
        joins, read in batches through a server-side cursor (`yield_per` implies
        `stream_results`). Related objects come from the same join (many-to-one only, the one
        kind `yield_per` allows with a joined load), never a query per row."""
        check_no_macros(self)
        args = self._get_list_extra_args()  # type: ignore[attr-defined]
        sort = self._get_column_by_idx(args.sort)  # type: ignore[attr-defined]
        _, query = self.get_list(  # type: ignore[attr-defined]
            0,
            sort[0] if sort else None,
            args.sort_desc,
            args.search,
            args.filters,
            execute=False,
            page_size=0,
        )
        return query.yield_per(self.export_batch_size)

    def _export_batch(self, rows: Iterator[Any]) -> list[list[str]]:
        """The next batch as text cells, through `get_export_value` (where `spreadsheet_safe`
        applies) as Flask-Admin's exports do; the models are dropped once converted."""
        columns = [name for name, _ in self._export_columns]  # type: ignore[attr-defined]
        return [
            [csv_encode(self.get_export_value(row, name)) for name in columns]  # type: ignore[attr-defined]
            for row in islice(rows, self.export_batch_size)
        ]

    def _stream(
        self,
        body: Body,
        titles: list[str],
        batch: list[list[str]],
        rows: Iterator[Any],
        session: Session,
    ) -> Iterator[str]:
        """The body, one chunk per batch, each chunk whole rows.

        If the database fails mid-stream, the status (200) and the rows before are already
        sent. The error is logged and raised again, so the server drops the connection without
        the body's end (no last chunk of a chunked response): the client sees a failed
        download, never a shorter file that looks complete. A JSON body then also lacks its `]`.
        """
        sent = 0
        try:
            yield body.start(titles) + body.rows(batch)
            while batch:
                sent += len(batch)
                batch = self._export_batch(rows)
                if batch:
                    yield body.rows(batch)
            yield body.end()
        except Exception:
            current_app.logger.exception(
                "export %s stopped after %d rows; the download is cut short", request.path, sent
            )
            raise
        finally:
            session.close()  # ends the read transaction (SQLite holds its lock until then)


def check_no_macros(view: Any) -> None:
    """Flask-Admin's rule: a Jinja macro (a function named `inner`) cannot format an export."""
    exported = {name for name, _ in view._export_columns}
    for name, formatter in (view.column_formatters_export or {}).items():
        if name in exported and getattr(formatter, "__name__", "") == "inner":
            raise NotImplementedError(f"Macros are not implemented in export. Column: {name}")


class CsvBody:
    """CSV as Flask-Admin writes it (Python's `excel` dialect, CRLF line ends), titles first."""

    def start(self, titles: list[str]) -> str:
        return self.rows([titles])

    def rows(self, rows: list[list[str]]) -> str:
        buffer = io.StringIO()
        csv.writer(buffer).writerows(rows)
        return buffer.getvalue()

    def end(self) -> str:
        return ""


class JsonBody:
    """The JSON tablib wrote: an array of objects keyed by the column titles, every value the
    exported text, spelled as `json.dumps(..., ensure_ascii=False)` spells the whole list."""

    def __init__(self) -> None:
        self.titles: list[str] = []
        self.separator = ""  # none before the first object, ", " before the others

    def start(self, titles: list[str]) -> str:
        self.titles = titles
        return "["

    def rows(self, rows: list[list[str]]) -> str:
        if not rows:
            return ""
        objects = (dict(zip(self.titles, row, strict=True)) for row in rows)
        text = self.separator + ", ".join(json.dumps(o, ensure_ascii=False) for o in objects)
        self.separator = ", "
        return text

    def end(self) -> str:
        return "]"
