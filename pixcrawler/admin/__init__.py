"""The admin UI: migration state first, then the data behind it.

This module stays cheap to import because `create_app` imports it for every `flask` command:
`register_admin` only installs a loader, and Flask-Admin, Flask-Login, Flask-WTF and Flask-Limiter
are set up when the app serves its first request (`init_admin`). The command line never imports
the first three (Flask itself imports Flask-Limiter for its `flask limiter` plugin command).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, redirect
from werkzeug.wrappers import Response

ADMIN_URL = "/admin"


def register_admin(app: Flask) -> None:
    """The web-facing parts: the probes and `/` now, the admin (and its login) on the first
    request."""
    from pixcrawler.probes import bp as probes

    app.register_blueprint(probes)
    app.add_url_rule("/", "home", home)
    app.wsgi_app = LazyAdminLoader(app, app.wsgi_app)  # type: ignore[method-assign]


def home() -> Response:
    """The URL `flask run` prints: the admin, which sends a visitor who is not logged in on
    to its login page."""
    return redirect(f"{ADMIN_URL}/")


class LazyAdminLoader:
    """Wraps `app.wsgi_app`: builds the admin before the first request reaches Flask.

    Flask refuses new routes once it has handled a request, so this runs before delegating,
    under a lock in case a threaded server sends two requests at once. The test client goes
    through `app.wsgi_app` too.
    """

    def __init__(self, app: Flask, wsgi_app: Callable[..., Iterable[bytes]]):
        self.app = app
        self.wsgi_app = wsgi_app
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if "pixcrawler_admin" not in self.app.extensions:
            with self.lock:
                init_admin(self.app)
        return self.wsgi_app(environ, start_response)


def init_admin(app: Flask) -> Any:
    """Build a new Admin for this app with every page; a second call returns the first one.

    Adding a model page is one `add_view` line below.
    """
    if "pixcrawler_admin" in app.extensions:
        return app.extensions["pixcrawler_admin"]
    import sqlalchemy as sa
    from flask_admin import Admin
    from flask_admin.theme import Bootstrap4Theme

    from pixcrawler.admin import activity, images, jobs, migrations, people, projects
    from pixcrawler.admin.auth import init_auth
    from pixcrawler.admin.base import database_error
    from pixcrawler.admin.dashboard import DashboardView
    from pixcrawler.admin.job_chunks import JobChunkAdmin
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

    app.register_error_handler(sa.exc.DBAPIError, database_error)
    admin = Admin(
        app,
        name="PixCrawler",
        url=ADMIN_URL,
        index_view=DashboardView(name="Dashboard", url=ADMIN_URL),
        theme=Bootstrap4Theme(base_template="admin/pixcrawler_base.html", fluid=True),
    )
    init_auth(app)

    admin.add_view(migrations.MigrationsView(name="Migrations", endpoint="migrations"))
    admin.add_view(migrations.MigrationsApiView(url="api/migrations", endpoint="migrations_api"))
    admin.add_view(people.ProfileAdmin(Profile, db, category="People"))
    admin.add_view(people.AdminAccountAdmin(AdminAccount, db, "Admin accounts", "People"))
    admin.add_view(projects.ProjectAdmin(Project, db, category="Crawling"))
    admin.add_view(projects.CrawlJobAdmin(CrawlJob, db, category="Crawling"))
    admin.add_view(images.ImageAdmin(Image, db, category="Crawling"))
    admin.add_view(jobs.ValidationJobAdmin(ValidationJob, db, category="Jobs"))
    admin.add_view(jobs.ExportJobAdmin(ExportJob, db, category="Jobs"))
    admin.add_view(JobChunkAdmin(JobChunk, db, "Job chunks", "Crawling"))
    admin.add_view(activity.ActivityLogAdmin(ActivityLog, db, "Activity logs", "People"))
    # Last: the loader's unlocked check must not let a request in before every page exists.
    app.extensions["pixcrawler_admin"] = admin
    return admin
