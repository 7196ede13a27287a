"""What the big lists' search, filters and orders return, on SQLite and PostgreSQL.

`test_list_indexes` proves each is served by an index; these prove each gives the right rows:
every match, once, in the promised order, page after page.
"""

from __future__ import annotations

import re

import sqlalchemy as sa

from pixcrawler.extensions import db
from pixcrawler.models import ActivityLog, Image, JobChunk, Profile
from tests.admin.test_model_pages import listed_ids, seed, table_ids


def walk_pages(client, url: str, endpoint: str, word: str) -> list[int]:
    """Every id listed from `url` on, following the pager's `word` link to the end."""
    seen: list[int] = []
    for _ in range(50):  # a link that went nowhere would loop
        page = client.get(url).get_data(as_text=True)
        seen += listed_ids(page, endpoint)
        link = re.search(rf'<a class="page-link" href="([^"#]+)">{word}', page)
        if not link:
            return seen
        url = link.group(1).replace("&amp;", "&")
        assert "after=" in url and "page=" not in url
    raise AssertionError("the pager never ended")


def add_named_images(job_id: int, names: list[str]) -> None:
    rows = [
        {"crawl_job_id": job_id, "original_url": f"https://example.com/{n}", "filename": name}
        for n, name in enumerate(names)
    ]
    db.session.execute(sa.insert(Image), rows)


def ids_where(app, *conditions) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Image.id).where(*conditions).order_by(Image.id)))


def test_file_name_search_is_a_prefix_in_name_order_page_after_page(admin_app, admin):
    ids = seed(admin_app, images=0)
    names = [f"Cat_{n:02}.jpg" for n in range(45, 0, -1)]  # inserted newest-last, names falling
    names += ["dog.jpg", "a-cat.jpg", "CATALOG.png", "cat%.jpg", "catx01.jpg"]
    with admin_app.app_context():
        add_named_images(ids["job"], names)
        db.session.commit()
    found = walk_pages(admin, "/admin/image/?search=cAt", "image", "Next")
    with admin_app.app_context():
        by_id = dict(db.session.execute(sa.select(Image.id, Image.filename)).all())
    listed = [by_id[i] for i in found]
    expected = sorted((n for n in names if n.lower().startswith("cat")), key=str.lower)
    assert listed == expected  # every match once, case-insensitive, by name; not "a-cat"

    # The pattern's own wildcards are taken literally.
    literal = listed_ids(admin.get("/admin/image/?search=cat_").get_data(as_text=True), "image")
    assert (
        sorted(by_id[i] for i in literal) == sorted(n for n in names if n.startswith("Cat_"))[:20]
    )
    percent = listed_ids(admin.get("/admin/image/?search=cat%25").get_data(as_text=True), "image")
    assert [by_id[i] for i in percent] == ["cat%.jpg"]
    assert listed_ids(admin.get("/admin/image/?search=zzz").get_data(as_text=True), "image") == []


def test_a_search_page_after_a_row_that_is_gone_starts_again(admin_app, admin):
    ids = seed(admin_app, images=0)
    with admin_app.app_context():
        add_named_images(ids["job"], ["b1.jpg", "b2.jpg"])
        db.session.commit()
    page = admin.get("/admin/image/?search=b&after=999999").get_data(as_text=True)
    assert len(listed_ids(page, "image")) == 2


def test_image_filters_are_equalities(admin_app, admin):
    ids = seed(admin_app, images=0)
    with admin_app.app_context():
        other = db.session.scalar(sa.text("SELECT max(id) FROM crawl_jobs"))
        rows = [
            {
                "crawl_job_id": ids["job"],
                "original_url": f"https://example.com/{n}",
                "filename": f"f{n}.{'png' if n % 3 else 'jpg'}",
                "format": "png" if n % 3 else "jpg",
                "hash": f"h{n % 5}",
                "is_valid": n % 4 != 0,
                "is_duplicate": n % 7 == 0,
            }
            for n in range(30)
        ]
        db.session.execute(sa.insert(Image), rows)
        db.session.commit()
    cases = {
        f"flt0_0={ids['job']}": [Image.crawl_job_id == ids["job"]],
        f"flt0_0={other + 1}": [sa.false()],
        "flt0_1=h3": [Image.hash == "h3"],
        "flt0_1=h": [sa.false()],  # an equality, not "contains"
        "flt0_2=jpg": [Image.format == "jpg"],
        "flt0_2=pn": [sa.false()],
        "flt0_3=0": [Image.is_valid.is_(False)],
        "flt0_3=1": [Image.is_valid.is_(True)],
        "flt0_4=1": [Image.is_duplicate.is_(True)],
        "flt0_4=0": [Image.is_duplicate.is_(False)],
    }
    for query, conditions in cases.items():
        found = walk_pages(admin, f"/admin/image/?{query}", "image", "Older")
        assert found == ids_where(admin_app, *conditions)[::-1], query


def test_the_filters_offer_only_equalities(admin_app, admin):
    """A "contains" or "not equal" no index could serve is not offered at all."""
    for endpoint in ("image", "activitylog", "jobchunk"):
        page = admin.get(f"/admin/{endpoint}/").get_data(as_text=True)
        operations = set(re.findall(r'"operation": "([^"]+)"', page))
        assert operations == {"equals"}, (endpoint, operations)


def test_activity_log_filters(admin_app, admin):
    seed(admin_app, images=0)
    with admin_app.app_context():
        other = Profile(email="other@example.com")
        db.session.add(other)
        db.session.flush()
        owner = db.session.scalar(
            sa.select(Profile.id).where(Profile.email == "owner@example.com")
        )
        db.session.execute(
            sa.insert(ActivityLog),
            [
                {
                    "user_id": owner if n % 2 else other.id,
                    "action": "a.one" if n % 3 else "a.two",
                    "resource_type": "project" if n % 5 else "crawl_job",
                }
                for n in range(26)
            ],
        )
        other_id = other.id
        db.session.commit()

    def expected(*conditions):
        with admin_app.app_context():
            query = sa.select(ActivityLog.id).where(*conditions).order_by(ActivityLog.id.desc())
            return list(db.session.scalars(query))

    cases = {
        "flt0_0=other@example.com": [ActivityLog.user_id == other_id],
        "flt0_0=nobody@example.com": [sa.false()],
        "flt0_1=a.two": [ActivityLog.action == "a.two"],
        "flt0_2=crawl_job": [ActivityLog.resource_type == "crawl_job"],
    }
    for query, conditions in cases.items():
        found = walk_pages(admin, f"/admin/activitylog/?{query}", "activitylog", "Older")
        assert found == expected(*conditions), query


def test_job_chunks_filter_by_status_and_job_and_find_a_task(admin_app, admin):
    ids = seed(admin_app, images=0)
    with admin_app.app_context():
        db.session.execute(
            sa.insert(JobChunk),
            [
                {
                    "job_id": ids["job"],
                    "chunk_index": 1 + n,
                    "status": "failed" if n % 3 == 0 else "completed",
                    "image_range": {"start": n, "end": n + 1},
                    "task_id": f"task-{n}",
                }
                for n in range(25)
            ],
        )
        db.session.commit()
        failed = list(
            db.session.scalars(
                sa.select(JobChunk.id).where(JobChunk.status == "failed").order_by(JobChunk.id)
            )
        )
        task_7 = db.session.scalar(sa.select(JobChunk.id).where(JobChunk.task_id == "task-7"))
    found = walk_pages(admin, "/admin/jobchunk/?flt0_0=failed", "jobchunk", "Older")
    assert found == failed[::-1]
    everything = walk_pages(admin, f"/admin/jobchunk/?flt0_1={ids['job']}", "jobchunk", "Older")
    assert everything == table_ids(admin_app, "job_chunks")[::-1]
    assert walk_pages(admin, "/admin/jobchunk/?search=task-7", "jobchunk", "Older") == [task_7]
    assert walk_pages(admin, "/admin/jobchunk/?search=task-", "jobchunk", "Older") == []


def test_id_ascending_pages_by_keyset_too(admin_app, admin):
    """Sorting by id (the one order offered) pages by keyset as well: never by OFFSET."""
    seed(admin_app, images=45)
    found = walk_pages(admin, "/admin/image/?sort=0", "image", "Newer")
    assert found == table_ids(admin_app, "images")
    numbered = admin.get("/admin/image/?sort=0&page=2").get_data(as_text=True)
    assert listed_ids(numbered, "image") == found[:20]  # a page number is ignored, not OFFSET
