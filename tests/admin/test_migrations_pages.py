"""The migration pages: the whole history, a revision's SQL, and the upgrade button that exists
only behind ADMIN_ALLOW_UPGRADE, needs the CSRF token and a confirmation naming the target."""

from __future__ import annotations

import logging
import re

import pytest

from pixcrawler.extensions import db
from pixcrawler.services.migrations import migration_state, revision_sql
from tests.admin.helpers import add_superuser, cli_current_lines, csrf_token, login
from tests.conftest import make_app


@pytest.fixture
def upgradable(database_url, flask_cli):
    """A factory: an app with the flag as given, its database one revision behind head, and a
    client logged in to it. The schema is set with the real `flask db` commands."""
    apps = []

    def build(allow: bool):
        assert flask_cli("db", "upgrade").returncode == 0
        app = make_app(database_url, ADMIN_ALLOW_UPGRADE=allow)
        apps.append(app)
        add_superuser(app)
        assert flask_cli("db", "downgrade", "-1").returncode == 0
        client = app.test_client()
        # Admins can log in while a migration is pending, even one that changes their tables.
        assert login(client).status_code == 302
        with app.app_context():
            (target,) = [r.id for r in migration_state().pending]
        return app, client, target

    yield build
    for app in apps:
        with app.app_context():
            db.engine.dispose()


def current(flask_cli) -> list[str]:
    return [line.split()[0] for line in cli_current_lines(flask_cli("db", "current"))]


def test_history_lists_every_revision(admin_app, admin):
    page = admin.get("/admin/migrations/").get_data(as_text=True)
    with admin_app.app_context():
        state = migration_state()
    rows = re.findall(r'<tr data-revision="([^"]+)"', page)
    assert rows == [r.id for r in reversed(state.revisions)]  # newest first
    for revision in state.revisions:
        assert revision.message in page
    assert 'id="upgrade-off"' in page  # read-only by default
    assert "<code>base</code>" in page  # 001's parent


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
def test_revision_detail_shows_its_doc_and_sql(admin_app, admin, dialect):
    page = admin.get(f"/admin/migrations/001?dialect={dialect}").get_data(as_text=True)
    with admin_app.app_context():
        expected = revision_sql("001", dialect=dialect)
        doc = next(r.doc for r in migration_state().revisions if r.id == "001")
    sql = re.search(r'<pre class="border p-2" id="revision-sql">(.*?)</pre>', page, re.S)
    assert sql, page
    import html

    assert html.unescape(sql.group(1)) == expected
    assert "CREATE TABLE profiles" in expected
    assert html.escape(doc.splitlines()[0]) in page


def test_a_sqlite_batch_revision_shows_its_table_copy(admin):
    """004 recreates profiles on SQLite; offline, the copy comes from a scratch database."""
    page = admin.get("/admin/migrations/004?dialect=sqlite").get_data(as_text=True)
    assert '<pre class="border p-2" id="revision-sql">' in page
    assert "CREATE TABLE _alembic_tmp_profiles" in page
    assert "ALTER TABLE _alembic_tmp_profiles RENAME TO profiles;" in page


def test_unknown_revision_or_dialect_is_404(admin):
    assert admin.get("/admin/migrations/999").status_code == 404
    assert admin.get("/admin/migrations/001?dialect=oracle").status_code == 404


def test_data_pages_behind_the_schema_send_people_to_the_dashboard(upgradable):
    _app, client, _target = upgradable(allow=False)
    for endpoint in ("profile", "adminaccount", "project", "crawljob", "image", "activitylog"):
        response = client.get(f"/admin/{endpoint}/")
        assert response.status_code in (200, 302), endpoint  # never a server error
        if response.status_code == 302:
            assert response.location == "/admin/"
            page = client.get("/admin/").get_data(as_text=True)
            assert "This page needs a database at head (1 pending)" in page


def test_upgrade_is_refused_when_the_flag_is_off(upgradable, flask_cli):
    _app, client, target = upgradable(allow=False)
    page = client.get("/admin/migrations/").get_data(as_text=True)
    assert 'id="upgrade-form"' not in page
    data = {"target": target, "confirmation": target, "csrf_token": csrf_token(page)}
    response = client.post("/admin/migrations/upgrade", data=data)
    assert response.status_code == 403
    assert target not in current(flask_cli)


def test_upgrade_needs_the_csrf_token(upgradable, flask_cli):
    _app, client, target = upgradable(allow=True)
    response = client.post(
        "/admin/migrations/upgrade", data={"target": target, "confirmation": target}
    )
    assert response.status_code == 400
    assert target not in current(flask_cli)


def test_upgrade_needs_the_target_typed_again(upgradable, flask_cli):
    _app, client, target = upgradable(allow=True)
    page = client.get("/admin/migrations/").get_data(as_text=True)
    assert 'id="upgrade-form"' in page
    for confirmation in ("", "yes", "head"):
        data = {"target": target, "confirmation": confirmation, "csrf_token": csrf_token(page)}
        response = client.post("/admin/migrations/upgrade", data=data)
        assert response.status_code == 400
        assert "Type the target revision id" in response.get_data(as_text=True)
    assert target not in current(flask_cli)


def test_upgrade_applies_the_pending_revision_as_flask_db_upgrade_does(upgradable, flask_cli):
    _app, client, target = upgradable(allow=True)
    assert client.get("/readyz").status_code == 503
    page = client.get("/admin/migrations/").get_data(as_text=True)
    data = {"target": target, "confirmation": target, "csrf_token": csrf_token(page)}
    handlers = list(logging.getLogger().handlers)
    response = client.post("/admin/migrations/upgrade", data=data)
    assert response.status_code == 303
    assert current(flask_cli) == [target]
    assert logging.getLogger().handlers == handlers  # the server's logging is left alone
    page = client.get(response.location).get_data(as_text=True)
    assert f"Upgraded to {target}." in page
    assert client.get("/readyz").status_code == 200
    # Nothing is pending any more: a second attempt is refused with a reason.
    data["csrf_token"] = csrf_token(page)
    response = client.post("/admin/migrations/upgrade", data=data)
    assert response.status_code == 303
    assert "is not a pending revision" in client.get(response.location).get_data(as_text=True)
