"""Exports: every row the list would show, past Flask-Admin's old 10,000-row cap, streamed a
batch at a time (a server-side cursor on PostgreSQL), in the very bytes Flask-Admin and tablib
wrote before."""

from __future__ import annotations

import csv
import io
import json
import logging
import re

import pytest
import sqlalchemy as sa
from flask_admin.contrib.sqla import ModelView

from pixcrawler.extensions import db
from pixcrawler.models import Image
from tests.admin.test_model_pages import LIST_PAGES, add_images, listed_ids, seed

PAST_THE_OLD_CAP = 10_050
# What psycopg2 sends to read a batch from a server-side (named) cursor; SQLAlchemy names them.
NAMED_CURSOR_FETCH = re.compile(r'FETCH FORWARD \d+ FROM "c_\w+"')


def view_of(app, endpoint: str):
    """The admin's view behind /admin/<endpoint>/ (built on the first request)."""
    admin = app.extensions["pixcrawler_admin"]
    return next(view for view in admin._views if view.endpoint == endpoint)


def export_rows(client, url: str) -> list[dict[str, str]]:
    """The rows of a CSV or JSON export, as dicts keyed by the column titles."""
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    text = response.get_data(as_text=True)
    if "/export/json/" in url:
        return json.loads(text)
    return list(csv.DictReader(io.StringIO(text)))


def ids_in(rows: list[dict[str, str]]) -> list[int]:
    return [int(row["Id"]) for row in rows]


def image_ids(app) -> list[int]:
    with app.app_context():
        return db.session.scalars(sa.select(Image.id).order_by(Image.id.desc())).all()


def filter_arg(view, label: str, operation: str) -> str:
    """The URL argument of one of the list's filters, as the list page spells it."""
    for key, (_, flt) in view._filter_args.items():
        if flt.name == label and str(flt.operation()) == operation:
            return f"flt0_{key}"
    raise AssertionError(f"no filter {label} {operation}")


@pytest.mark.parametrize("kind", ["csv", "json"])
def test_an_export_holds_every_row_past_the_old_cap(admin_app, admin, kind):
    """Flask-Admin's `export_max_rows` cut the file at 10,000 rows without a word; now every
    row comes, in the list's order (newest first)."""
    seed(admin_app, images=0)
    with admin_app.app_context():
        job_id = db.session.scalar(sa.text("SELECT id FROM crawl_jobs"))
        add_images(job_id, PAST_THE_OLD_CAP)
        db.session.commit()
    rows = export_rows(admin, f"/admin/image/export/{kind}/")
    assert ids_in(rows) == image_ids(admin_app)
    assert len(rows) == PAST_THE_OLD_CAP
    assert rows[-1]["Filename"] == "img-00000.jpg"
    assert rows[0]["Crawl job"] == f"#{job_id} Tabby search"  # the related column, joined


def test_search_and_filters_of_the_list_apply_to_the_export(admin_app, admin):
    """The export's rows are the list's rows, for the same search, filter and sort."""
    seed(admin_app, images=30)
    with admin_app.app_context():
        db.session.execute(
            sa.update(Image).where(Image.id % 3 == 0).values(format="png", is_valid=False)
        )
        db.session.commit()
    view = view_of(admin_app, "image")
    png = filter_arg(view, "Format", "equals")
    for query in (
        "search=img-0001",
        f"{png}=png",
        f"{png}=png&search=img-0002",
        f"{png}=png&sort=0",  # id ascending
        "sort=0&desc=1",
    ):
        listed = listed_ids(admin.get(f"/admin/image/?{query}&page_size=100").text, "image")
        assert listed, query
        for kind in ("csv", "json"):
            assert ids_in(export_rows(admin, f"/admin/image/export/{kind}/?{query}")) == listed


@pytest.mark.parametrize("endpoint", ["image", "activitylog", "jobchunk"])
def test_a_keyset_page_s_after_does_not_cut_the_export(admin_app, admin, endpoint):
    """The export link of an "Older" page carries its `?after=`: the export still holds the
    whole list, not the rows older than that page."""
    seed(admin_app, images=45)
    page = admin.get(f"/admin/{endpoint}/").text
    older = listed_ids(page, endpoint)[-1]  # where the "Older" link starts
    everything = ids_in(export_rows(admin, f"/admin/{endpoint}/export/csv/"))
    after = ids_in(export_rows(admin, f"/admin/{endpoint}/export/csv/?after={older}"))
    assert after == everything and older in everything
    if endpoint == "image":
        assert len(everything) == 45
        assert f"/admin/image/export/csv/?after={older}" in admin.get(
            f"/admin/image/?after={older}"
        ).text.replace("&amp;", "&")


@pytest.mark.parametrize("endpoint", LIST_PAGES)
def test_exports_are_the_bytes_flask_admin_and_tablib_wrote(admin_app, admin, endpoint):
    """Every page's CSV is what Flask-Admin's own streamed CSV writes, and its JSON is what
    Flask-Admin's tablib export writes (keys, value strings, spacing), for the same rows."""
    seed(admin_app, images=3)
    with admin_app.app_context():
        db.session.execute(sa.update(Image).values(labels=["cat"], format="=cmd", width=640))
        db.session.execute(sa.text("UPDATE projects SET name = 'Chats é ü 猫 \"q\", x'"))
        db.session.commit()
    view = view_of(admin_app, endpoint)
    for kind in ("csv", "json"):
        url = f"/admin/{endpoint}/export/{kind}/"
        streamed = admin.get(url)
        with admin_app.test_request_context(url):
            if kind == "csv":
                before = ModelView._export_csv(view, "/")
            else:
                before = ModelView._export_tablib(view, "json", "/")
            before.direct_passthrough = False
            expected = before.get_data()
        assert streamed.status_code == 200
        assert streamed.get_data() == expected, kind
        assert streamed.mimetype == before.mimetype
        # The file name ends with the time to the second; the two may fall in different ones.
        name = undated(streamed.headers["Content-Disposition"])
        assert name == undated(before.headers["Content-Disposition"]) and "<time>" in name
        assert streamed.headers["Cache-Control"] == "no-store"
    assert len(json.loads(streamed.text)) >= 1


def undated(disposition: str) -> str:
    return re.sub(r"_\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2}", "_<time>", disposition)


def test_an_empty_list_exports_titles_and_an_empty_array(admin_app, admin):
    assert admin.get("/admin/image/export/csv/").text.startswith("Id,Crawl job,Filename")
    assert admin.get("/admin/image/export/json/").text == "[]"


def backend_queries(app) -> list[str]:
    """What the other connections to this test's database are running (or ran last)."""
    with app.app_context():
        url = db.engine.url
    monitor = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with monitor.connect() as connection:
            return connection.scalars(
                sa.text(
                    "SELECT query FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid()"
                )
            ).all()
    finally:
        monitor.dispose()


def export_backend_pid(app) -> int:
    with app.app_context():
        url = db.engine.url
    monitor = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with monitor.connect() as connection:
            return connection.scalar(
                sa.text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND query LIKE 'FETCH FORWARD%'"
                )
            )
    finally:
        monitor.dispose()


def test_the_export_is_sent_a_batch_at_a_time(admin_app, admin):
    """Several chunks, each of whole rows: the body is written while the rows are read."""
    seed(admin_app, images=3_500)
    response = admin.get("/admin/image/export/csv/", buffered=False)
    chunks = list(response.response)
    response.close()
    assert len(chunks) >= 4  # 1,000 rows a batch
    assert all(chunk.endswith(b"\r\n") for chunk in chunks if chunk)
    assert sum(chunk.count(b"\r\n") for chunk in chunks) == 3_501  # the titles and every row


@pytest.mark.only_backend("postgresql")
def test_on_postgresql_the_rows_come_from_a_server_side_cursor(admin_app, admin):
    """Halfway through the body, the export's connection is fetching from a named cursor
    (psycopg2's server-side cursor): PostgreSQL holds the rest of the rows, not the app."""
    seed(admin_app, images=3_500)
    response = admin.get("/admin/image/export/json/", buffered=False)
    body = iter(response.response)
    first = next(body)
    seen = backend_queries(admin_app)
    fetches = [q for q in seen if NAMED_CURSOR_FETCH.match(q)]
    rest = list(body)
    response.close()
    assert fetches, seen
    assert rest and len(json.loads(b"".join([first, *rest]))) == 3_500


@pytest.mark.only_backend("postgresql")
def test_a_database_failure_mid_stream_is_logged_and_cuts_the_download(admin_app, admin, caplog):
    """Once the first rows are sent the status cannot change: the error is logged and raised,
    so the server drops the connection instead of ending a short file as if complete."""
    seed(admin_app, images=3_500)
    response = admin.get("/admin/image/export/json/", buffered=False)
    body = iter(response.response)
    first = next(body)
    pid = export_backend_pid(admin_app)
    with admin_app.app_context(), db.engine.connect() as connection:
        connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    with caplog.at_level(logging.ERROR), pytest.raises(sa.exc.DBAPIError):
        for _ in body:
            pass
    response.close()
    assert "stopped after 1000 rows" in caplog.text
    assert not first.endswith(b"]")
