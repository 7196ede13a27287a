"""The migration pages: the whole history, a revision's SQL, and the upgrade button that exists
only behind ADMIN_ALLOW_UPGRADE, needs the CSRF token and a confirmation naming the target."""

from __future__ import annotations

import html
import json
import logging
import re

import pytest
from flask_migrate import upgrade

from pixcrawler.extensions import db
from pixcrawler.migrator.sql import revision_sql
from tests.admin.helpers import add_superuser, cli_current_lines, csrf_token, login
from tests.conftest import REPO_ROOT, make_app
from tests.migrations.conftest import HEAD, ScratchMigrations, scripts_on_disk

SCRATCH_UPGRADE = "op.execute('CREATE TABLE IF NOT EXISTS scratch_notes (id INTEGER)')"


@pytest.fixture
def scratch(tmp_path) -> ScratchMigrations:
    """A copy of migrations/ to which a test adds a revision after head."""
    return ScratchMigrations(tmp_path / "migrations")


@pytest.fixture
def upgradable(database_url, flask_cli, scratch):
    """A factory: an app with the flag as given, its database at head with one scratch
    revision after it pending (a real pending revision, 005 at 004, would leave the session
    unverified: see test_sessions), and a client logged in to it. The schema is set with the real
    `flask db` commands."""
    target = scratch.add("add scratch notes", SCRATCH_UPGRADE)
    env = scratch.env
    apps = []

    def build(allow: bool):
        assert flask_cli("db", "upgrade", HEAD, env=env).returncode == 0
        app = make_app(database_url, ADMIN_ALLOW_UPGRADE=allow, MIGRATIONS_DIR=str(scratch.folder))
        apps.append(app)
        add_superuser(app)
        client = app.test_client()
        assert login(client).status_code == 302
        return app, client, target

    yield build
    for app in apps:
        with app.app_context():
            db.engine.dispose()


def current(flask_cli, env) -> list[str]:
    return [line.split()[0] for line in cli_current_lines(flask_cli("db", "current", env=env))]


def test_history_lists_every_revision(admin_app, admin):
    page = admin.get("/admin/migrations/").get_data(as_text=True)
    files = scripts_on_disk()
    rows = re.findall(r'<tr data-revision="([^"]+)"', page)
    assert rows == [f["id"] for f in reversed(files)]  # newest first
    for file in files:
        assert file["message"] in page
    assert 'id="upgrade-off"' in page  # read-only by default
    assert "<code>base</code>" in page  # 001's parent


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
def test_revision_detail_shows_its_doc_and_sql(admin_app, admin, dialect):
    page = admin.get(f"/admin/migrations/001?dialect={dialect}").get_data(as_text=True)
    with admin_app.app_context():
        expected = revision_sql("001", dialect=dialect)  # README: as `flask sqlmigrate` renders it
    sql = re.search(r'<pre class="border p-2" id="revision-sql">(.*?)</pre>', page, re.S)
    assert sql, page
    assert html.unescape(sql.group(1)) == expected
    # Facts from outside that code: each dialect's type for profiles.id, and the file's own text.
    uuid_type = {"postgresql": "UUID", "sqlite": "CHAR(32)"}[dialect]
    assert f"CREATE TABLE profiles (\n    id {uuid_type} NOT NULL" in expected
    text = next((REPO_ROOT / "migrations" / "versions").glob("001_*.py")).read_text()
    described = text.split('"""')[1].split("Revision ID:")[0]  # title and explanation
    for line in filter(None, described.splitlines()):
        assert html.escape(line) in page, line


def test_a_sqlite_batch_revision_shows_its_table_copy(admin):
    """004 recreates profiles on SQLite; offline, the copy comes from a scratch database."""
    page = admin.get("/admin/migrations/004?dialect=sqlite").get_data(as_text=True)
    assert '<pre class="border p-2" id="revision-sql">' in page
    assert "CREATE TABLE _alembic_tmp_profiles" in page
    assert "ALTER TABLE _alembic_tmp_profiles RENAME TO profiles;" in page


def test_unknown_revision_or_dialect_is_404(admin):
    assert admin.get("/admin/migrations/999").status_code == 404
    assert admin.get("/admin/migrations/001?dialect=oracle").status_code == 404


def test_data_pages_behind_the_schema_send_people_to_the_dashboard(empty_app, flask_cli):
    """At 004 the sessions table is missing: admins still log in and see the schema, but the
    data pages (which need the models' tables) send them to the dashboard, never a 500."""
    assert flask_cli("db", "upgrade").returncode == 0
    add_superuser(empty_app)
    assert flask_cli("db", "downgrade", "004").returncode == 0
    client = empty_app.test_client()
    assert login(client).status_code == 302
    assert client.get("/admin/").status_code == 200
    for endpoint in ("profile", "adminaccount", "project", "crawljob", "image", "activitylog"):
        response = client.get(f"/admin/{endpoint}/")
        assert response.status_code == 302, endpoint
        assert response.location == "/admin/"
        page = client.get("/admin/").get_data(as_text=True)
        assert "The data pages need a database at head" in page


def test_upgrade_is_refused_when_the_flag_is_off(upgradable, flask_cli, scratch):
    _app, client, target = upgradable(allow=False)
    page = client.get("/admin/migrations/").get_data(as_text=True)
    assert 'id="upgrade-form"' not in page
    data = {"target": target, "confirmation": target, "csrf_token": csrf_token(page)}
    response = client.post("/admin/migrations/upgrade", data=data)
    assert response.status_code == 403
    assert target not in current(flask_cli, scratch.env)


def test_upgrade_needs_the_csrf_token(upgradable, flask_cli, scratch):
    _app, client, target = upgradable(allow=True)
    response = client.post(
        "/admin/migrations/upgrade", data={"target": target, "confirmation": target}
    )
    assert response.status_code == 400
    assert target not in current(flask_cli, scratch.env)


def test_upgrade_needs_the_target_typed_again(upgradable, flask_cli, scratch):
    _app, client, target = upgradable(allow=True)
    page = client.get("/admin/migrations/").get_data(as_text=True)
    assert 'id="upgrade-form"' in page
    for confirmation in ("", "yes", "head"):
        data = {"target": target, "confirmation": confirmation, "csrf_token": csrf_token(page)}
        response = client.post("/admin/migrations/upgrade", data=data)
        assert response.status_code == 400
        assert "Type the target revision id" in response.get_data(as_text=True)
    assert target not in current(flask_cli, scratch.env)


def test_upgrade_applies_the_pending_revision_as_flask_db_upgrade_does(
    upgradable, flask_cli, scratch
):
    _app, client, target = upgradable(allow=True)
    assert client.get("/readyz").status_code == 503
    page = client.get("/admin/migrations/").get_data(as_text=True)
    data = {"target": target, "confirmation": target, "csrf_token": csrf_token(page)}
    handlers = list(logging.getLogger().handlers)
    response = client.post("/admin/migrations/upgrade", data=data)
    assert response.status_code == 303
    assert current(flask_cli, scratch.env) == [target]
    assert logging.getLogger().handlers == handlers  # the server's logging is left alone
    page = client.get(response.location).get_data(as_text=True)
    assert f"Upgraded to {target}." in page
    assert client.get("/readyz").status_code == 200
    # Nothing is pending any more: a second attempt is refused with a reason.
    data["csrf_token"] = csrf_token(page)
    response = client.post("/admin/migrations/upgrade", data=data)
    assert response.status_code == 303
    assert "is not a pending revision" in client.get(response.location).get_data(as_text=True)


WIDEN = "op.alter_column('images', 'width', type_=sa.BigInteger(), existing_type=sa.Integer())"
# images is empty here: on PostgreSQL the catalog says so; SQLite has no sizes to give.
WIDEN_VERDICT = {
    "postgresql": "safe: no lock that blocks others beyond a moment",
    "sqlite": "blocks reads and writes on images for an unknown time",
}


@pytest.mark.parametrize("allow", [True, False])
def test_the_page_shows_what_each_pending_revision_will_do(database_url, backend, scratch, allow):
    """`flask db impact` for each pending revision, above the upgrade form when there is one;
    the API carries the same analysis."""
    target = scratch.add("widen image width", WIDEN)
    app = make_app(database_url, ADMIN_ALLOW_UPGRADE=allow, MIGRATIONS_DIR=str(scratch.folder))
    try:
        with app.app_context():
            upgrade(revision=HEAD)
        add_superuser(app)
        client = app.test_client()
        assert login(client).status_code == 302
        page = client.get("/admin/migrations/").get_data(as_text=True)
        cli = app.test_cli_runner().invoke(args=["db", "impact", "--json"])
        assert cli.exit_code == 0, cli.output
        (expected,) = json.loads(cli.stdout)["revisions"]
        api = client.get("/admin/api/migrations").get_json()
    finally:
        with app.app_context():
            db.engine.dispose()
    assert ('id="upgrade-form"' in page) is allow
    if allow:
        assert page.index('id="impact"') < page.index('id="upgrade-form"')
    section = re.search(
        rf'<table [^>]*class="[^"]*impact-revision" data-revision="{target}">(.*?)</table>',
        page,
        re.S,
    )
    assert section, page
    cells = [html.unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", section.group(1), re.S)]
    assert cells[:6] == [
        '<code class="impact-sql">ALTER TABLE images ALTER COLUMN width TYPE BIGINT</code>',
        "rewrite",
        {"postgresql": "~0 s", "sqlite": "unknown"}[backend],  # empty, or no sizes
        "images",
        "ACCESS EXCLUSIVE",
        "reads, writes",
    ]
    verdict = re.search(rf'class="impact-verdict" data-revision="{target}">(.*?)</p>', page)
    assert verdict.group(1) == f"<strong>Verdict:</strong> {WIDEN_VERDICT[backend]}"
    (carried,) = api["impact"]["revisions"]
    assert (carried["id"], carried["verdict"]) == (target, WIDEN_VERDICT[backend])
    assert carried["statements"][0]["sql"] == expected["statements"][0]["sql"]
    assert carried["statements"][0]["tables"] == expected["statements"][0]["tables"]
    assert len(api["impact_notes"]) == 1
    assert api["impact_notes"][0] in html.unescape(page)
