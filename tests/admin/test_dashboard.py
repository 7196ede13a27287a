"""The dashboard and the navigation bar show exactly the revision `flask db current` prints, in
every state a database can be in; the probes and the JSON say the same."""

from __future__ import annotations

import json
import re
import secrets
from datetime import datetime

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from pixcrawler.extensions import db
from pixcrawler.migrator.state import migration_state
from tests.admin.helpers import (
    EMAIL,
    PASSWORD,
    add_superuser,
    cli_current_lines,
    dashboard_lines,
    data_attr,
    login,
)
from tests.commands.cli_helpers import migrations_with_two_heads, revision_ids
from tests.conftest import make_app
from tests.migrations.conftest import REVISIONS, scripts_on_disk


def create_superuser_cli(flask_cli, env=None) -> None:
    """The README's way: `flask createsuperuser`, the password on standard input."""
    result = flask_cli(
        "createsuperuser", "--email", EMAIL, "--password-stdin", stdin=PASSWORD + "\n", env=env
    )
    assert result.returncode == 0, result.stderr


def logged_in_client(app, flask_cli, env=None, upgrade_to="head"):
    """Migrate with the real CLI, create the admin with the real CLI, log in."""
    assert flask_cli("db", "upgrade", upgrade_to, env=env).returncode == 0
    create_superuser_cli(flask_cli, env)
    client = app.test_client()
    assert login(client).status_code == 302
    return client


def assert_page_matches_cli(client, flask_cli, env=None) -> list[str]:
    # Alembic prints several current revisions in set order; the pages sort them.
    expected = sorted(cli_current_lines(flask_cli("db", "current", env=env)))
    page = client.get("/admin/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert dashboard_lines(text) == expected
    ids = [line.split()[0] for line in expected]
    assert data_attr(text, "schema-badge", "revision").split() == ids  # the navigation bar
    assert data_attr(text, "dashboard-current", "revision").split() == ids
    for other in ("/admin/migrations/", "/admin/api/migrations"):
        assert client.get(other).status_code == 200
    return expected


def test_at_head(empty_app, flask_cli):
    client = logged_in_client(empty_app, flask_cli)
    lines = assert_page_matches_cli(client, flask_cli)
    assert len(lines) == 1 and lines[0].endswith("(head)")
    page = client.get("/admin/").get_data(as_text=True)
    assert data_attr(page, "schema-badge", "status") == "up to date"
    assert "They agree" in page  # no drift between the models and the database


def test_partly_migrated(empty_app, flask_cli):
    client = logged_in_client(empty_app, flask_cli)
    assert flask_cli("db", "downgrade", "001").returncode == 0
    assert assert_page_matches_cli(client, flask_cli) == ["001"]
    page = client.get("/admin/").get_data(as_text=True)
    pending = REVISIONS[1:]  # from the files, not from the code that builds the page
    assert data_attr(page, "schema-badge", "status") == "pending"
    assert f"{len(pending)} pending" in page
    # In the order `flask db upgrade` would run them.
    assert re.findall(r'class="pending-revision" data-revision="([^"]+)"', page) == pending


def test_empty_database(empty_app, flask_cli):
    client = logged_in_client(empty_app, flask_cli)
    assert flask_cli("db", "downgrade", "base").returncode == 0
    assert assert_page_matches_cli(client, flask_cli) == []
    page = client.get("/admin/").get_data(as_text=True)
    assert data_attr(page, "schema-badge", "status") == "no schema yet"
    assert "no schema yet" in page
    # Without an accounts table nobody can be checked: the data pages send people back here.
    response = client.get("/admin/project/")
    assert response.status_code == 302 and response.location == "/admin/"


def test_two_heads(database_url, flask_cli, tmp_path):
    scratch, side = migrations_with_two_heads(tmp_path)
    env = {"PIXCRAWLER_MIGRATIONS_DIR": str(scratch)}
    app = make_app(database_url, MIGRATIONS_DIR=str(scratch))
    try:
        client = logged_in_client(app, flask_cli, env=env, upgrade_to="heads")
        lines = assert_page_matches_cli(client, flask_cli, env=env)
        assert len(lines) == 2 and all(line.endswith("(head)") for line in lines)
        assert side in {line.split()[0] for line in lines}
        page = client.get("/admin/").get_data(as_text=True)
        assert data_attr(page, "schema-badge", "status") == "several heads"
        # One branch taken back: the other head stays current.
        assert flask_cli("db", "downgrade", f"{side}@-1", env=env).returncode == 0
        lines = assert_page_matches_cli(client, flask_cli, env=env)
        assert len(lines) == 1 and side not in lines[0]
    finally:
        with app.app_context():
            db.engine.dispose()


def test_readyz_flips_when_migrations_are_applied(empty_app, flask_cli):
    client = empty_app.test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["reason"].startswith("no schema yet: 001")
    assert flask_cli("db", "upgrade", "001").returncode == 0
    response = client.get("/readyz")
    assert response.status_code == 503
    pending = REVISIONS[1:]
    assert response.get_json()["reason"] == f"{len(pending)} pending: " + ", ".join(pending)
    assert flask_cli("db", "upgrade").returncode == 0
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["ready"] is True
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_readyz_says_when_the_database_does_not_answer(tmp_path):
    app = make_app(f"sqlite:///{tmp_path}/no/such/folder/x.sqlite3")
    client = app.test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["reason"].startswith("database unreachable: ")
    assert client.get("/healthz").status_code == 200


def test_api_gives_the_dashboards_facts(admin_app, admin):
    body = admin.get("/admin/api/migrations").get_json()
    with admin_app.app_context():
        state = migration_state(with_drift=True)
    # Nothing pending, so nothing to analyse (tests/admin/test_migrations_pages.py has the rest).
    assert body.pop("impact") == {"revisions": []}
    assert body.pop("impact_notes") == []
    assert body == state.as_dict()
    assert body["status"] == "up to date"
    assert body["drift"] == []
    assert body["database"] == state.database  # masked by the one `mask` (see below)


def stored_revisions(database_url: str) -> list[str]:
    """alembic_version, read with a connection of the test's own."""
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            return sorted(connection.scalars(sa.text("SELECT version_num FROM alembic_version")))
    finally:
        engine.dispose()


def test_api_agrees_with_the_database_and_the_files(empty_app, database_url):
    """Checked against facts read apart from the code that builds the answer."""
    with empty_app.app_context():
        upgrade()
    add_superuser(empty_app)
    files = scripts_on_disk()
    ids = [f["id"] for f in files]
    for at, move in (("002", downgrade), (ids[-1], upgrade)):
        with empty_app.app_context():
            move(revision=at)
            db.engine.dispose()
        # A login at 002, below the sessions table, reads (README, "Unverified sessions").
        client = empty_app.test_client()
        assert login(client).status_code == 302
        body = client.get("/admin/api/migrations").get_json()
        assert body["current"] == stored_revisions(database_url) == [at]
        assert body["heads"] == [ids[-1]]
        later = ids[ids.index(at) + 1 :]
        assert body["pending"] == later
        assert body["status"] == ("pending" if later else "up to date")
        assert body["backend"] == sa.engine.make_url(database_url).get_backend_name()
        assert len(body["revisions"]) == len(files)
        for revision, file in zip(body["revisions"], files, strict=True):
            assert {k: revision[k] for k in ("id", "message", "down_revisions")} == {
                k: file[k] for k in ("id", "message", "down_revisions")
            }
            created = datetime.fromisoformat(revision["created"])
            assert created.replace(tzinfo=None) == file["created"], revision
            assert revision["applied"] == (file["id"] not in later), revision
            assert revision["is_current"] == (file["id"] == at), revision
            assert revision["is_head"] == (file["id"] == ids[-1]), revision


def test_upgrade_to_head_from_python_reads_the_same(admin_app):
    """The in-process upgrade the admin uses is Flask-Migrate's own (a no-op at head)."""
    with admin_app.app_context():
        before = migration_state().current
        upgrade()
        assert migration_state().current == before


def url_with_password(server_url: str, role: str, secret: str, form: str) -> str:
    """The same database, with the role's password where DATABASE_URL can carry it."""
    url = sa.engine.make_url(server_url).set(username=role)
    if form == "userinfo":
        return url.set(password=secret).render_as_string(hide_password=False)
    if form == "query":
        return url.update_query_dict({"password": secret}).render_as_string(hide_password=False)
    dsn = f"user={role} password={secret}"  # libpq's key/value form, which psycopg2 takes
    return url.set(username=None).update_query_dict({"dsn": dsn}).render_as_string(False)


@pytest.mark.only_backend("postgresql")
@pytest.mark.parametrize("form", ["userinfo", "query", "dsn"])
def test_the_database_password_is_never_shown(postgres, backend, form):
    """A role with a real password, in each form: absent from every page that shows the URL."""
    secret = f"Pw-{secrets.token_hex(8)}"
    role = f"pixcrawler_test_{secrets.token_hex(4)}"
    url = postgres.create()
    name = sa.engine.make_url(url).database
    with postgres.admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE ROLE {role} LOGIN PASSWORD '{secret}'")
        connection.exec_driver_sql(f'ALTER DATABASE "{name}" OWNER TO {role}')
    app = make_app(url_with_password(url, role, secret, form))
    try:
        with app.app_context():
            upgrade()
            assert db.session.execute(sa.text("SELECT current_user")).scalar() == role
            db.session.remove()
        add_superuser(app)
        client = app.test_client()
        assert login(client).status_code == 302
        dashboard = client.get("/admin/").get_data(as_text=True)
        api = client.get("/admin/api/migrations").get_json()
        assert "***" in api["database"] and "***" in dashboard
        for page in ("/admin/", "/admin/api/migrations", "/admin/migrations/", "/readyz"):
            assert secret not in client.get(page).get_data(as_text=True), page
        result = app.test_cli_runner().invoke(args=["check", "--deploy"])
        assert secret not in result.output
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        postgres.drop(url)
        with postgres.admin.connect() as connection:
            connection.exec_driver_sql(f"DROP ROLE {role}")


def test_the_password_of_an_unreachable_database_is_never_shown():
    secret = f"Pw-{secrets.token_hex(8)}"
    app = make_app(f"postgresql://u:{secret}@127.0.0.1:1/pix?password={secret}")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert secret not in response.get_data(as_text=True)
    for args in (["db", "current"], ["check"], ["showmigrations"]):
        result = app.test_cli_runner().invoke(args=args)
        assert result.exit_code == 1, result.output
        assert secret not in result.output, args
    assert "u:***@127.0.0.1:1/pix?password=***" in result.output


AHEAD_NOTE = (
    "The database is at 999, which these migration scripts do not contain: newer code "
    "migrated it. Which of their revisions are applied cannot be told, and nothing is pending."
)


def at_head_and_logged_in(app):
    """An app at head with the admin logged in; the session outlives later schema changes."""
    with app.app_context():
        upgrade()
    add_superuser(app)
    client = app.test_client()
    assert login(client).status_code == 302
    return client


def set_revision(app, revision: str) -> None:
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = :v"), {"v": revision})


def test_ahead_of_the_code_nothing_is_pending(empty_app):
    client = at_head_and_logged_in(empty_app)
    set_revision(empty_app, "999")
    page = client.get("/admin/").get_data(as_text=True)
    assert data_attr(page, "schema-badge", "status") == "ahead of the code"
    assert 'class="pending-revision"' not in page
    assert re.search(r'id="dashboard-ahead">([^<]+)<', page).group(1) == AHEAD_NOTE
    history = client.get("/admin/migrations/").get_data(as_text=True)
    with empty_app.app_context():
        count = len(migration_state().revisions)
    assert history.count("<td>cannot be told</td>") == count
    assert AHEAD_NOTE in history
    api = client.get("/admin/api/migrations").get_json()
    assert api["pending"] == [] and api["ahead_note"] == AHEAD_NOTE
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["reason"] == "ahead of the code: at 999, unknown to this code"


def to_first_revision(app):
    with app.app_context():
        downgrade(revision=revision_ids()[0])


def to_base(app):
    with app.app_context():
        downgrade(revision="base")


def with_a_stray_table(app):
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE stray_notes (id INTEGER PRIMARY KEY)"))


NOT_AT_HEAD = "the schema is not at the single head"


@pytest.mark.parametrize(
    ("change", "finding", "drift", "skipped", "card"),
    [
        (None, None, [], None, "They agree"),
        (
            with_a_stray_table,
            "migrations.E004",
            ["stray_notes: table in the database, not in the models"],
            None,
            "1 difference",
        ),
        (to_first_revision, "migrations.I001", None, NOT_AT_HEAD, f"Not compared: {NOT_AT_HEAD}."),
        (to_base, "migrations.I001", None, NOT_AT_HEAD, f"Not compared: {NOT_AT_HEAD}."),
        (
            lambda app: set_revision(app, "999"),
            "migrations.I001",
            None,
            NOT_AT_HEAD,
            f"Not compared: {NOT_AT_HEAD}.",
        ),
    ],
    ids=["at head", "models disagree", "part way", "no schema", "ahead of the code"],
)
def test_the_dashboard_and_flask_check_agree_on_drift(
    empty_app, change, finding, drift, skipped, card
):
    client = at_head_and_logged_in(empty_app)
    if change:
        change(empty_app)
    result = empty_app.test_cli_runner().invoke(args=["check", "--json"])
    drift_findings = [
        f["id"]
        for f in json.loads(result.stdout)
        if f["id"] in ("migrations.E004", "migrations.I001")
    ]
    assert drift_findings == ([finding] if finding else [])
    api = client.get("/admin/api/migrations").get_json()
    assert (api["drift"], api["drift_skipped"]) == (drift, skipped)
    page = client.get("/admin/").get_data(as_text=True)
    assert card in re.search(r'id="dashboard-drift">(.*?)</div>', page, re.S).group(1)
