"""The login and the admin under attack: concurrent guesses against a real server, the rate
limit per client address, bad bytes in parameters, and the security headers."""

from __future__ import annotations

import secrets
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.cookiejar import CookieJar

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from pixcrawler.extensions import db
from pixcrawler.models import AdminAccount, Project
from pixcrawler.services import accounts
from tests.admin.helpers import EMAIL, PASSWORD, csrf_token, login, login_page_token

# -- a real server and browsers --------------------------------------------------------


@contextmanager
def serving(app) -> Iterator[str]:
    """The app on werkzeug's threaded server (a thread per request), on a free local port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 302 is an answer to look at, not to follow


class Browser:
    """One visitor: its own cookies (so its own session and CSRF token)."""

    def __init__(self, base: str):
        self.base = base
        cookies = urllib.request.HTTPCookieProcessor(CookieJar())
        self.opener = urllib.request.build_opener(cookies, NoRedirects())

    def request(self, path: str, form: dict | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(self.base + path, body, timeout=120) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def login_form(self, email: str, password: str) -> dict[str, str]:
        status, page = self.request("/login")
        assert status == 200
        return {"email": email, "password": password, "csrf_token": csrf_token(page)}


# -- the lockout counts every guess ----------------------------------------------------


@pytest.mark.only_backend("postgresql")
def test_thirty_concurrent_wrong_passwords_lock_the_account(app_with):
    """30 guesses at once, each from its own session, through a real server: every one is
    counted, so the account locks and the right password is refused until the lock ends."""
    app = app_with(
        RATELIMIT_ENABLED=False,  # this test is about the lockout alone
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 30, "pool_pre_ping": True},
    )
    with serving(app) as base:
        browsers = [Browser(base) for _ in range(30)]
        forms = [browser.login_form(EMAIL, "wrong password") for browser in browsers]
        start = threading.Barrier(len(browsers))

        def guess(i: int) -> int:
            start.wait()
            return browsers[i].request("/login", forms[i])[0]

        with ThreadPoolExecutor(len(browsers)) as pool:
            statuses = list(pool.map(guess, range(len(browsers))))
        assert statuses == [401] * 30
        with app.app_context():
            locked_until = db.session.scalars(sa.select(AdminAccount.locked_until)).one()
        assert locked_until is not None and locked_until > datetime.now(UTC)
        right = Browser(base)
        status, _ = right.request("/login", right.login_form(EMAIL, PASSWORD))
        assert status == 401
    with app.app_context():
        assert accounts.authenticate(EMAIL, PASSWORD, locked_until + timedelta(seconds=1)).ok


# -- the rate limit per client address ----------------------------------------------------


def post_login(client, email: str, password: str, address: str = "127.0.0.1"):
    environ = {"REMOTE_ADDR": address}
    token = csrf_token(client.get("/login", environ_base=environ).get_data(as_text=True))
    data = {"email": email, "password": password, "csrf_token": token}
    return client.post("/login", data=data, environ_base=environ)


def test_login_posts_are_limited_to_10_a_minute_per_client_address(admin_app, anon):
    for _ in range(10):
        assert post_login(anon, "nobody@example.com", "wrong password").status_code == 401
    assert post_login(anon, "nobody@example.com", "wrong password").status_code == 429
    assert post_login(anon, EMAIL, PASSWORD).status_code == 429  # the right one waits too
    assert anon.get("/login").status_code == 200  # the form itself is not limited
    elsewhere = admin_app.test_client()
    assert post_login(elsewhere, EMAIL, PASSWORD, address="10.0.0.2").status_code == 302


def test_the_login_rate_limit_is_a_config_key(admin_app, anon):
    admin_app.config["LOGIN_RATE_LIMIT"] = "2 per minute"
    for _ in range(2):
        assert post_login(anon, "nobody@example.com", "wrong password").status_code == 401
    assert post_login(anon, "nobody@example.com", "wrong password").status_code == 429


def test_behind_a_trusted_proxy_the_limit_counts_forwarded_addresses(app_with):
    app = app_with(TRUSTED_PROXY_COUNT=1, LOGIN_RATE_LIMIT="2 per minute")
    client = app.test_client()

    def attempt(forwarded: str) -> int:
        via = {"X-Forwarded-For": forwarded}
        token = csrf_token(client.get("/login", headers=via).get_data(as_text=True))
        data = {"email": "nobody@example.com", "password": "x", "csrf_token": token}
        return client.post("/login", data=data, headers=via).status_code

    assert [attempt("10.9.9.9") for _ in range(3)] == [401, 401, 429]
    assert attempt("10.9.9.10") == 401  # another client behind the same proxy


# -- bad bytes are the client's error --------------------------------------------------------


@pytest.mark.parametrize("field", ["email", "password"])
def test_a_nul_in_a_login_field_is_a_400(anon, field):
    data = {"email": EMAIL, "password": PASSWORD, "csrf_token": login_page_token(anon)}
    data[field] += "\x00"
    assert anon.post("/login", data=data).status_code == 400
    assert anon.get("/admin/").status_code == 302


def test_bytes_that_are_not_utf8_are_a_400(anon):
    token = urllib.parse.quote(login_page_token(anon))
    body = f"email=admin%FF%40example.com&password=x&csrf_token={token}"
    response = anon.post("/login", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert anon.get("/login?next=%C3%28").status_code == 400


@pytest.mark.parametrize(
    "url",
    [
        "/admin/project/?search=%00",
        "/admin/profile/?search=admin%00",
        "/admin/project/details/?id=%00",
        "/admin/project/edit/?id=1%00",
        "/admin/project/ajax/lookup/?name=owner&query=%00",
        "/admin/image/?after=%00",
        "/admin/image/?search=%FF",
        "/admin/migrations/?dialect=%00",
        "/admin/migrations/%00",
    ],
)
def test_bad_bytes_in_admin_urls_are_a_400(admin, url):
    assert admin.get(url).status_code == 400


@pytest.mark.parametrize(
    "content_type", ["application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_a_nul_in_an_admin_form_field_is_a_400(admin_app, admin, content_type):
    form = admin.get("/admin/project/new/").get_data(as_text=True)
    data = {"name": "Dogs\x00", "status": "active", "csrf_token": csrf_token(form)}
    response = admin.post("/admin/project/new/", data=data, content_type=content_type)
    assert response.status_code == 400
    with admin_app.app_context():
        assert db.session.query(Project).count() == 0


# -- headers -------------------------------------------------------------------------------


def assert_protective_headers(response) -> None:
    headers = response.headers
    assert headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "url", ["/admin/", "/admin/project/", "/admin/migrations/", "/admin/api/migrations"]
)
def test_admin_pages_refuse_framing_sniffing_and_caching(admin, url):
    response = admin.get(url)
    assert response.status_code == 200
    assert_protective_headers(response)
    assert "Strict-Transport-Security" not in response.headers  # plain http in tests


def test_login_responses_carry_the_headers(anon):
    assert_protective_headers(anon.get("/login"))
    assert_protective_headers(post_login(anon, EMAIL, "wrong password"))
    assert_protective_headers(login(anon))  # the redirect that sets the session cookie


def test_an_export_is_never_cached(admin):
    assert_protective_headers(admin.get("/admin/project/export/csv/"))


def test_static_files_may_be_cached(admin):
    response = admin.get("/admin/static/admin/css/bootstrap4/admin.css")
    response.close()
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_production_adds_hsts(app_with):
    app = app_with(ENV_NAME="production", SECRET_KEY=secrets.token_urlsafe(48))
    response = app.test_client().get("/login")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert_protective_headers(response)
