"""Fixtures for the admin: an app at head with one superuser, and clients in and out of it."""

from __future__ import annotations

import pytest
from flask_migrate import upgrade

from pixcrawler.extensions import db
from tests.admin.helpers import add_superuser, login
from tests.conftest import make_app


@pytest.fixture
def empty_app(database_url):
    """An app on an empty database.

    Not the shared `app` fixture: pytest-flask pushes a request context for any test using
    `app`, and test-client requests would then share one app context (one ORM session, one
    `g`) instead of getting their own, as they do when served.
    """
    app = make_app(database_url)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def admin_app(migrated_app):
    """An app on a database at head with one admin account (EMAIL / PASSWORD)."""
    add_superuser(migrated_app)
    return migrated_app


@pytest.fixture
def anon(admin_app):
    """A client that never logged in."""
    return admin_app.test_client()


@pytest.fixture
def admin(admin_app):
    """A client logged in as the admin."""
    client = admin_app.test_client()
    response = login(client)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


@pytest.fixture
def app_with(migrated_app, head_database_url):
    """A factory: an app on the database at head with `config` and the admin account (for
    settings read when the app is built, such as TRUSTED_PROXY_COUNT)."""
    apps = []

    def build(**config):
        app = make_app(head_database_url, **config)
        add_superuser(app)
        apps.append(app)
        return app

    yield build
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def schema_app(empty_app):
    """An app on a database of its own at head, with the admin and upgrades allowed: for tests
    that take the schema down and up again."""
    empty_app.config["ADMIN_ALLOW_UPGRADE"] = True
    with empty_app.app_context():
        upgrade()
    add_superuser(empty_app)
    return empty_app
