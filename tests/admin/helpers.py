"""What the admin tests share: reading CSRF tokens and revisions out of pages, logging in."""

from __future__ import annotations

import html
import re

from flask import Flask
from flask.testing import FlaskClient

from pixcrawler.admin import init_admin
from pixcrawler.extensions import db
from pixcrawler.services import accounts

EMAIL = "admin@example.com"
PASSWORD = "correct-horse-battery"

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_FLASH_ERROR = re.compile(r'<p class="error" role="alert">([^<]+)</p>')


def csrf_token(page: str) -> str:
    """The first CSRF token in a page (Flask-WTF's hidden field)."""
    match = _CSRF.search(page)
    assert match, "no csrf_token in the page"
    return match.group(1)


def login_page_token(client: FlaskClient) -> str:
    return csrf_token(client.get("/login").get_data(as_text=True))


def login(client: FlaskClient, email: str = EMAIL, password: str = PASSWORD, **extra):
    """Post the login form as a browser does: with the token from the page."""
    data = {"email": email, "password": password, "csrf_token": login_page_token(client)}
    return client.post("/login", data={**data, **extra})


def login_error(page: str) -> str:
    """The message the login page shows after a failed attempt."""
    match = _FLASH_ERROR.search(page)
    assert match, page
    return html.unescape(match.group(1))


def add_superuser(app: Flask, email: str = EMAIL, password: str = PASSWORD) -> None:
    with app.app_context():
        accounts.create_superuser(email, password)
        db.session.commit()


def data_attr(page: str, element_id: str, name: str) -> str:
    """`data-NAME` of the element with that id."""
    match = re.search(rf'id="{element_id}"[^>]*?data-{name}="([^"]*)"', page, re.S)
    if match is None:  # attribute before the id
        match = re.search(rf'data-{name}="([^"]*)"[^>]*?id="{element_id}"', page, re.S)
    assert match, f"no data-{name} on #{element_id}"
    return html.unescape(match.group(1))


def dashboard_lines(page: str) -> list[str]:
    """The current revision lines on the dashboard, as `flask db current` prints them."""
    return [
        html.unescape(x) for x in re.findall(r'class="current-revision" data-line="([^"]*)"', page)
    ]


def cli_current_lines(result) -> list[str]:
    """`flask db current`'s revision lines (its logging goes to stderr)."""
    assert result.returncode == 0, result.stderr
    return [line.strip() for line in result.stdout.splitlines() if line.strip()]


def admin_rules(app: Flask):
    """Every URL rule under /admin, once the admin is built."""
    init_admin(app)
    return [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/admin")]
