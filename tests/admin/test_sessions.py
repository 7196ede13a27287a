"""Sessions the server can end: logout, a new password (service and `flask changepassword`), the
idle timeout and the absolute lifetime, a deleted profile, and "strong" session protection on
the address the app trusts. Sessions that cannot be verified only read, and only those this
process verified earlier are admitted: never a forged cookie, never a logged-out one."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import request
from flask_migrate import downgrade, upgrade

from pixcrawler.extensions import db
from pixcrawler.migrator.state import migration_state
from pixcrawler.models import AdminSession, Profile
from pixcrawler.services import accounts
from tests.admin.helpers import EMAIL, PASSWORD, add_superuser, csrf_token, login
from tests.admin.test_model_pages import statements


def session_cookie(client) -> str:
    return client.get_cookie("session").value


def client_with_cookie(app, value: str):
    """Another browser holding a copy of the cookie (a stolen or saved one)."""
    client = app.test_client()
    client.set_cookie("session", value)
    return client


def logged_in(app):
    client = app.test_client()
    assert login(client).status_code == 302
    return client


def logout(client) -> None:
    token = csrf_token(client.get("/admin/").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302


def session_rows(app) -> list[AdminSession]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(AdminSession)))
        db.session.expunge_all()
        return rows


def move_session_back(app, idle: timedelta, age: timedelta) -> None:
    """Pretend the only session was last used `idle` ago and opened `age` ago."""
    now = datetime.now(UTC)
    with app.app_context():
        db.session.execute(
            sa.update(AdminSession).values(last_seen_at=now - idle, created_at=now - age)
        )
        db.session.commit()


# -- ending a session ---------------------------------------------------------------------


def test_a_cookie_copied_before_logout_is_refused_after_it(admin_app, admin):
    copied = session_cookie(admin)
    assert len(session_rows(admin_app)) == 1
    logout(admin)
    assert session_rows(admin_app) == []
    thief = client_with_cookie(admin_app, copied)
    assert thief.get("/admin/").status_code == 302
    assert thief.get("/admin/api/migrations").status_code == 401


def test_the_server_keeps_only_a_digest_of_the_session_id(admin_app, admin):
    """The session id is only in the signed cookie; its row holds the SHA-256 digest, so a
    copy of the table lets nobody in."""
    serializer = admin_app.session_interface.get_signing_serializer(admin_app)
    session_id = serializer.loads(session_cookie(admin))["admin_session"]
    (row,) = session_rows(admin_app)
    assert row.id_digest == hashlib.sha256(session_id.encode()).hexdigest()
    with admin_app.app_context():
        everything = db.session.execute(sa.text("SELECT * FROM admin_sessions")).all()
    assert session_id not in str(everything)


def test_a_new_password_ends_copied_cookies(admin_app, admin):
    copied = session_cookie(admin)
    other = logged_in(admin_app)  # a second browser of the same admin
    with admin_app.app_context():
        accounts.change_password(EMAIL, "another-long-password")
        db.session.commit()
    assert client_with_cookie(admin_app, copied).get("/admin/").status_code == 302
    assert other.get("/admin/").status_code == 302
    assert session_rows(admin_app) == []


def test_flask_changepassword_ends_the_session(admin_app, admin):
    copied = session_cookie(admin)
    result = admin_app.test_cli_runner().invoke(
        args=["changepassword", EMAIL, "--password-stdin"], input="another-long-password\n"
    )
    assert result.exit_code == 0, result.output
    assert admin.get("/admin/").status_code == 302
    assert client_with_cookie(admin_app, copied).get("/admin/").status_code == 302


def test_loaddata_overwriting_an_admin_account_ends_its_sessions(admin_app, admin, tmp_path):
    """A restore may bring back an older password hash: like a password change, it ends the
    account's sessions (a new account, or one left alone, has none to end)."""
    copied = session_cookie(admin)
    runner = admin_app.test_cli_runner()
    dump = tmp_path / "accounts.jsonl"
    dumped = runner.invoke(args=["dumpdata", "admin_accounts", "-o", str(dump)])
    assert dumped.exit_code == 0, dumped.output
    loaded = runner.invoke(args=["loaddata", str(dump), "--no-input"])
    assert loaded.exit_code == 0, loaded.output
    assert session_rows(admin_app) == []
    assert client_with_cookie(admin_app, copied).get("/admin/").status_code == 302
    assert admin.get("/admin/").status_code == 302


def test_deleting_the_profile_deletes_its_sessions(admin_app, admin):
    with admin_app.app_context():
        db.session.delete(db.session.scalars(sa.select(Profile)).one())
        db.session.commit()
    assert session_rows(admin_app) == []
    assert admin.get("/admin/").status_code == 302


def test_a_session_ends_after_2_hours_idle(admin_app, admin):
    move_session_back(admin_app, idle=timedelta(hours=1, minutes=59), age=timedelta(hours=2))
    assert admin.get("/admin/").status_code == 200  # and that request counts as activity
    [row] = session_rows(admin_app)
    assert datetime.now(UTC) - row.last_seen_at < timedelta(minutes=1)
    move_session_back(admin_app, idle=timedelta(hours=2, seconds=1), age=timedelta(hours=3))
    assert admin.get("/admin/").status_code == 302
    assert session_rows(admin_app) == []  # the expired row is deleted


def test_a_session_ends_12_hours_after_login_however_busy(admin_app, admin):
    move_session_back(admin_app, idle=timedelta(0), age=timedelta(hours=11, minutes=59))
    assert admin.get("/admin/").status_code == 200
    move_session_back(admin_app, idle=timedelta(0), age=timedelta(hours=12, seconds=1))
    assert admin.get("/admin/").status_code == 302


def test_the_timeouts_are_config_keys(migrated_app):
    migrated_app.config.update(ADMIN_SESSION_IDLE_TIMEOUT=60, ADMIN_SESSION_LIFETIME=600)
    add_superuser(migrated_app)
    client = logged_in(migrated_app)
    move_session_back(migrated_app, idle=timedelta(seconds=61), age=timedelta(seconds=61))
    assert client.get("/admin/").status_code == 302
    client = logged_in(migrated_app)
    move_session_back(migrated_app, idle=timedelta(0), age=timedelta(seconds=601))
    assert client.get("/admin/").status_code == 302


def test_last_seen_is_written_at_most_once_a_minute(admin_app, admin):
    with statements(admin_app) as sql:
        for _ in range(3):
            assert admin.get("/admin/migrations/").status_code == 200
    assert not [s for s in sql if s.startswith("UPDATE admin_sessions")]
    move_session_back(admin_app, idle=timedelta(seconds=61), age=timedelta(minutes=5))
    with statements(admin_app) as sql:
        for _ in range(3):
            assert admin.get("/admin/migrations/").status_code == 200
    assert len([s for s in sql if s.startswith("UPDATE admin_sessions")]) == 1


# -- "strong" session protection on the address the app trusts -----------------------------


def test_a_new_user_agent_ends_the_session_for_good(admin_app, admin):
    copied = session_cookie(admin)
    assert admin.get("/admin/", headers={"User-Agent": "curl/8.5"}).status_code == 302
    assert admin.get("/admin/").status_code == 302  # back to its own User-Agent: still out
    assert client_with_cookie(admin_app, copied).get("/admin/").status_code == 302
    assert session_rows(admin_app) == []


def test_a_new_client_address_ends_the_session_for_good(admin_app, admin):
    copied = session_cookie(admin)
    moved = admin.get("/admin/", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert moved.status_code == 302
    assert admin.get("/admin/").status_code == 302
    assert client_with_cookie(admin_app, copied).get("/admin/").status_code == 302


def test_x_forwarded_for_is_ignored_without_trusted_proxies(admin_app):
    """A client cannot choose the address its session is bound to by sending the header."""
    client = admin_app.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    data = {"email": EMAIL, "password": PASSWORD, "csrf_token": token}
    response = client.post("/login", data=data, headers={"X-Forwarded-For": "10.9.9.9"})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200  # the header not replayed: still in
    assert client.get("/admin/", headers={"X-Forwarded-For": "10.8.8.8"}).status_code == 200


def test_with_one_trusted_proxy_the_forwarded_address_is_the_clients(app_with):
    app = app_with(TRUSTED_PROXY_COUNT=1)
    client = app.test_client()
    via = {"X-Forwarded-For": "10.9.9.9"}
    token = csrf_token(client.get("/login", headers=via).get_data(as_text=True))
    data = {"email": EMAIL, "password": PASSWORD, "csrf_token": token}
    assert client.post("/login", data=data, headers=via).status_code == 302
    assert client.get("/admin/", headers=via).status_code == 200
    # The proxy appends what it saw; whatever the client wrote before that is not believed.
    spoofed = {"X-Forwarded-For": "10.7.7.7, 10.9.9.9"}
    assert client.get("/admin/", headers=spoofed).status_code == 200
    assert client.get("/admin/", headers={"X-Forwarded-For": "10.9.9.10"}).status_code == 302


@pytest.mark.parametrize(("proxies", "scheme"), [(0, "http"), (1, "https")])
def test_x_forwarded_proto_is_believed_only_from_a_trusted_proxy(app_with, proxies, scheme):
    """The scheme (Secure cookies, HSTS) comes from X-Forwarded-Proto only behind a trusted
    proxy; by default any client could send it, so it is ignored."""
    app = app_with(TRUSTED_PROXY_COUNT=proxies)
    app.add_url_rule("/scheme", "scheme", lambda: request.scheme)
    headers = {"X-Forwarded-For": "10.9.9.9", "X-Forwarded-Proto": "https"}
    assert app.test_client().get("/scheme", headers=headers).get_data(as_text=True) == scheme


# -- unverified sessions: read only, and only when this process knows them -----------------


def forged_cookie(app, genuine: str) -> str:
    """A cookie signed with the app's key (as someone holding SECRET_KEY could), for a session
    id the server never issued; the rest copied from a genuine cookie."""
    serializer = app.session_interface.get_signing_serializer(app)
    data = serializer.loads(genuine)
    made_up = secrets.token_urlsafe(32)
    return serializer.dumps({**data, "_user_id": made_up, "admin_session": made_up})


def post_upgrade(client, target: str):
    page = client.get("/admin/migrations/").get_data(as_text=True)
    data = {"target": target, "confirmation": target, "csrf_token": csrf_token(page)}
    return client.post("/admin/migrations/upgrade", data=data)


def test_a_forged_session_is_refused_at_head(admin_app, admin):
    forged = client_with_cookie(admin_app, forged_cookie(admin_app, session_cookie(admin)))
    assert forged.get("/admin/").status_code == 302


def test_without_the_sessions_table_only_known_sessions_get_in_and_only_read(schema_app):
    app = schema_app
    kept, left = logged_in(app), logged_in(app)
    copied = session_cookie(left)
    forged = forged_cookie(app, session_cookie(kept))
    logout(left)
    with app.app_context():
        downgrade(revision="001")  # no accounts table, no sessions table
        db.engine.dispose()
    # A logged-out session stays out, and a forged one never gets in.
    assert client_with_cookie(app, copied).get("/admin/").status_code == 302
    assert client_with_cookie(app, forged).get("/admin/").status_code == 302
    # A session this process verified and never saw end sees the schema pages...
    assert kept.get("/admin/").status_code == 200
    assert kept.get("/admin/migrations/").status_code == 200
    assert kept.get("/admin/project/").location == "/admin/"
    # ...and changes nothing: no upgrade, though the flag allows it.
    response = post_upgrade(kept, "002")
    assert response.status_code == 403
    assert "may only read" in response.get_data(as_text=True)
    with app.app_context():
        assert migration_state().current == ("001",)
    # Logout still works for it, and then it is gone too.
    logout(kept)
    assert kept.get("/admin/").status_code == 302


def test_a_login_while_005_is_pending_is_read_only_until_the_upgrade(schema_app):
    """At 004 accounts can be checked but sessions cannot be stored: the login works, lives in
    this process only, may not upgrade, and ends when the sessions table arrives."""
    app = schema_app
    with app.app_context():
        downgrade(revision="004")
    client = logged_in(app)
    assert client.get("/admin/").status_code == 200
    assert post_upgrade(client, "005").status_code == 403
    with app.app_context():
        assert migration_state().current == ("004",)
        upgrade()
    assert client.get("/admin/").status_code == 302  # never stored, so not a live session now
    assert logged_in(app).get("/admin/").status_code == 200


def test_a_new_password_ends_a_session_kept_only_in_memory(schema_app):
    app = schema_app
    with app.app_context():
        downgrade(revision="004")
    client = logged_in(app)
    assert client.get("/admin/").status_code == 200
    result = app.test_cli_runner().invoke(
        args=["changepassword", EMAIL, "--password-stdin"], input="another-long-password\n"
    )
    assert result.exit_code == 0, result.output
    assert client.get("/admin/").status_code == 302


def test_a_login_works_while_a_pending_migration_adds_a_column_to_profiles(schema_app):
    """At 003 `profiles` lacks 004's `tier`: the login reads only the columns it needs."""
    app = schema_app
    with app.app_context():
        downgrade(revision="003")
    client = logged_in(app)
    assert client.get("/admin/").status_code == 200
