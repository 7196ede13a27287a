"""The job chunks admin page: listed with their crawl job, statuses edited from the enum, the
database's own CHECKs still in force behind the form."""

from __future__ import annotations

from pixcrawler.extensions import db
from pixcrawler.models import CrawlJob, JobChunk, Profile, Project
from tests.admin.helpers import csrf_token


def add_chunk(app) -> dict[str, int]:
    with app.app_context():
        owner = Profile(email="owner@example.com")
        job = CrawlJob(
            project=Project(name="Cats", owner=owner), name="Tabby search", keywords=["tabby"]
        )
        chunk = JobChunk(crawl_job=job, chunk_index=3, image_range={"start": 0, "end": 500})
        db.session.add_all([owner, job, chunk])
        db.session.commit()
        return {"job": job.id, "chunk": chunk.id}


def test_job_chunks_are_listed_with_their_crawl_job(admin_app, admin):
    ids = add_chunk(admin_app)
    page = admin.get("/admin/jobchunk/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Tabby search" in text and f"/admin/jobchunk/details/?id={ids['chunk']}" in text
    assert admin.get(f"/admin/jobchunk/details/?id={ids['chunk']}").status_code == 200


def test_a_chunk_is_requeued_from_the_edit_form(admin_app, admin):
    ids = add_chunk(admin_app)
    url = f"/admin/jobchunk/edit/?id={ids['chunk']}"
    form = admin.get(url).get_data(as_text=True)
    for status in ("pending", "processing", "completed", "failed"):
        assert f'value="{status}"' in form
    fields = {
        "crawl_job": str(ids["job"]),
        "chunk_index": "3",
        "image_range": '{"start": 0, "end": 250}',
        "retry_count": "1",
        "task_id": "celery-42",
        "csrf_token": csrf_token(form),
    }
    bad = admin.post(url, data={**fields, "status": "lost", "priority": "9"})
    assert "Not a valid choice" in bad.get_data(as_text=True)
    refused = admin.post(url, data={**fields, "status": "pending", "priority": "11"})
    assert refused.status_code == 200  # the CHECK (0..10) refused it; the form comes back
    good = admin.post(url, data={**fields, "status": "pending", "priority": "9"})
    assert good.status_code == 302
    with admin_app.app_context():
        chunk = db.session.get(JobChunk, ids["chunk"])
        assert (chunk.status, chunk.priority, chunk.task_id, chunk.image_range) == (
            "pending",
            9,
            "celery-42",
            {"start": 0, "end": 250},
        )
