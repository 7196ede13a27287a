"""Who gets in: every admin URL refuses anonymous users, the login form is generic, locks out,
and is protected by CSRF; logout is a POST; the session cookie is HttpOnly, SameSite, Secure."""

from __future__ import annotations

import secrets

import pytest
from werkzeug.routing import Rule

from pixcrawler.extensions import db
from pixcrawler.models import AdminAccount, Profile
from pixcrawler.services import accounts
from tests.admin.helpers import (
    EMAIL,
    PASSWORD,
    admin_rules,
    csrf_token,
    login,
    login_error,
    login_page_token,
)
from tests.conftest import make_app

SAMPLE_ARGS = {"filename": "admin/css/bootstrap4/admin.css", "revision": "001"}


def sample_url(rule: Rule) -> str:
    """A concrete URL for a rule: sample values for its variables."""
    values = {name: SAMPLE_ARGS.get(name, "1") for name in rule.arguments}
    return rule.build(values, append_unknown=False)[1]


def test_admin_has_pages_for_every_table(admin_app):
    endpoints = {rule.endpoint.split(".")[0] for rule in admin_rules(admin_app)}
    tables = {
        "profile",
        "adminaccount",
        "project",
        "crawljob",
        "jobchunk",
        "image",
        "activitylog",
        "validationjob",
        "exportjob",
    }
    assert tables | {"admin", "migrations", "migrations_api"} <= endpoints


def test_every_admin_url_refuses_anonymous_users(admin_app, anon):
    rules = admin_rules(admin_app)
    assert len(rules) > 60  # the whole admin, not a sample
    token = login_page_token(anon)  # a valid token: the login check, not CSRF, must refuse
    checked = 0
    for rule in rules:
        url = sample_url(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            data = {"csrf_token": token} if method == "POST" else None
            response = anon.open(url, method=method, data=data)
            if "/api/" in rule.rule:
                assert response.status_code == 401, (method, url)
                assert response.get_json()["error"] == "authentication required"
            else:
                assert response.status_code == 302, (method, url, response.status_code)
                assert response.location.startswith("/login?next="), (method, url)
            checked += 1
    assert checked >= len(rules)
    with admin_app.app_context():  # and nothing was changed on the way
        assert db.session.query(AdminAccount).count() == 1


def test_json_clients_get_401_not_a_redirect(anon):
    response = anon.get("/admin/api/migrations")
    assert response.status_code == 401
    assert response.is_json
    response = anon.get("/admin/project/", headers={"Accept": "application/json"})
    assert response.status_code == 401
    assert response.get_json() == {"error": "authentication required", "login": "/login"}


def test_login_leads_to_the_page_asked_for(anon):
    response = anon.get("/admin/project/")
    assert response.location == "/login?next=/admin/project/"
    response = login(anon, next="/admin/project/")
    assert response.status_code == 302
    assert response.location == "/admin/project/"
    assert anon.get("/admin/project/").status_code == 200


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)", "/\\evil"]
)
def test_login_never_redirects_off_site(anon, target):
    response = login(anon, next=target)
    assert response.status_code == 302
    assert response.location == "/admin/"


def test_wrong_password_and_unknown_email_look_the_same(anon):
    wrong = login(anon, password="not-the-password")
    unknown = login(anon, email="nobody@example.com")
    assert wrong.status_code == unknown.status_code == 401
    message = login_error(wrong.get_data(as_text=True))
    assert message == login_error(unknown.get_data(as_text=True))
    assert "email" in message.lower() and EMAIL not in message
    assert anon.get("/admin/").status_code == 302  # still not logged in


def test_repeated_failures_lock_the_account(admin_app, anon):
    for _ in range(accounts.MAX_FAILED_LOGINS):
        assert login(anon, password="not-the-password").status_code == 401
    locked = login(anon)  # the right password, too late
    assert locked.status_code == 401
    assert login_error(locked.get_data(as_text=True)) == login_error(
        login(anon, email="nobody@example.com").get_data(as_text=True)
    )
    assert anon.get("/admin/").status_code == 302
    with admin_app.app_context():
        account = db.session.query(AdminAccount).one()
        assert account.locked_until is not None


def test_login_without_csrf_token_is_refused(anon):
    anon.get("/login")
    response = anon.post("/login", data={"email": EMAIL, "password": PASSWORD})
    assert response.status_code == 400
    assert anon.get("/admin/").status_code == 302


def test_login_with_another_sessions_token_is_refused(admin_app, anon):
    other = admin_app.test_client()
    token = login_page_token(other)
    anon.get("/login")
    response = anon.post(
        "/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 400


def test_logout_needs_a_post_with_the_token(admin):
    page = admin.get("/admin/").get_data(as_text=True)
    assert admin.get("/logout").status_code == 405
    assert admin.post("/logout").status_code == 400  # no token: still logged in
    assert admin.get("/admin/").status_code == 200
    response = admin.post("/logout", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302
    assert admin.get("/admin/").status_code == 302


def test_a_new_password_ends_existing_sessions(admin_app, admin):
    assert admin.get("/admin/").status_code == 200
    with admin_app.app_context():
        accounts.change_password(EMAIL, "another-long-password")
        db.session.commit()
    assert admin.get("/admin/").status_code == 302


def test_a_demoted_admin_is_logged_out(admin_app, admin):
    with admin_app.app_context():
        db.session.query(Profile).update({"role": "user"})
        db.session.commit()
    assert admin.get("/admin/").status_code == 302


def test_session_cookie_is_httponly_and_samesite(anon):
    response = login(anon)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http in development and tests


def test_session_cookie_is_secure_in_production(head_database_url):
    app = make_app(head_database_url, ENV_NAME="production", SECRET_KEY=secrets.token_hex(32))
    with app.app_context():
        accounts.create_superuser(EMAIL, PASSWORD)
        db.session.commit()
    try:
        response = login(app.test_client())
        assert response.status_code == 302
        assert "Secure" in response.headers["Set-Cookie"]
    finally:
        with app.app_context():
            db.session.query(Profile).delete()
            db.session.commit()
            db.engine.dispose()


def test_login_page_explains_a_database_without_accounts(empty_app):
    """An empty database has no accounts table: a clear message, not a server error."""
    client = empty_app.test_client()
    response = login(client)
    assert response.status_code == 503
    assert "flask db upgrade" in login_error(response.get_data(as_text=True))


@pytest.mark.parametrize(
    "url", ["/admin/project/new/", "/admin/profile/delete/", "/admin/migrations/upgrade"]
)
@pytest.mark.parametrize("accept", ["text/html", "application/json"])
def test_an_anonymous_post_without_a_token_is_refused_first_with_400(anon, url, accept):
    """README: CSRF protection answers before the login check, for people and machines."""
    response = anon.post(url, data={"id": "1"}, headers={"Accept": accept})
    assert response.status_code == 400
    assert "The CSRF token is missing." in response.get_data(as_text=True)
