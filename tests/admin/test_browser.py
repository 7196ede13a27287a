"""The admin in a real browser: headless Chromium logs in, reads the revision in the navigation
bar, opens the Migrations page and takes a screenshot that must not be blank.

Debian's chromium at /usr/bin/chromium, driven by Playwright (its own browser downloads cannot
be fetched here). Skipped when Chromium is absent, except under CI=true, where it fails.
"""

from __future__ import annotations

import base64
import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from pixcrawler.extensions import db
from tests.admin.helpers import EMAIL, PASSWORD, add_superuser
from tests.conftest import make_app
from tests.migrations.conftest import HEAD, REVISIONS
from tests.skips import import_or_skip, skip_unless_ci

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture
def chromium():
    if not CHROMIUM.exists():
        skip_unless_ci("The browser", f"no Chromium at {CHROMIUM}")
    sync_api = import_or_skip("playwright.sync_api", "The browser")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def served(head_database_url):
    """The app at head with one admin, served by werkzeug on a free port of 127.0.0.1."""
    app = make_app(head_database_url)
    add_superuser(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    with app.app_context():
        db.session.remove()
        from tests.databases import delete_all_rows

        delete_all_rows(db.engine, db.metadata)
        db.engine.dispose()


COUNT_COLOURS = """async (dataUrl) => {
  const image = new Image();
  image.src = dataUrl;
  await image.decode();
  const canvas = document.createElement("canvas");
  canvas.width = image.width;
  canvas.height = image.height;
  const context = canvas.getContext("2d");
  context.drawImage(image, 0, 0);
  const pixels = context.getImageData(0, 0, image.width, image.height).data;
  const colours = new Set();
  for (let i = 0; i < pixels.length; i += 4) {
    colours.add((pixels[i] << 16) | (pixels[i + 1] << 8) | pixels[i + 2]);
  }
  return colours.size;
}"""


def distinct_colours(browser, png: bytes) -> int:
    """How many different colours a screenshot holds (a blank page has one or two).

    Counted by the browser itself on a canvas: no image library needed.
    """
    page = browser.new_page()
    try:
        data_url = "data:image/png;base64," + base64.b64encode(png).decode()
        return page.evaluate(COUNT_COLOURS, data_url)
    finally:
        page.close()


def save(page, name: str, backend: str) -> bytes:
    """A full-page screenshot; also written to ADMIN_SCREENSHOT_DIR when set, to look at."""
    shot = page.screenshot(full_page=True)
    if os.environ.get("ADMIN_SCREENSHOT_DIR"):
        Path(os.environ["ADMIN_SCREENSHOT_DIR"], f"{name}-{backend}.png").write_bytes(shot)
    return shot


def test_log_in_read_the_revision_open_migrations(chromium, served, backend):
    _app, base = served
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{base}/admin/")
    assert page.url.startswith(f"{base}/login?next=")  # sent to the login page first
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/admin/")

    save(page, "dashboard", backend)
    badge = page.locator("#schema-badge")
    assert badge.is_visible()
    assert page.locator("#schema-revision").inner_text() == HEAD  # `served` is at head
    assert page.locator("#schema-status").inner_text() == "up to date"

    page.click("text=Migrations")
    page.wait_for_url(f"{base}/admin/migrations/")
    rows = page.locator("#migration-history tbody tr")
    assert rows.count() == len(REVISIONS)
    assert page.locator("#schema-revision").inner_text() == HEAD

    shot = save(page, "migrations", backend)
    assert distinct_colours(chromium, shot) > 50

    # Logging out is a POST from the navigation bar's form.
    page.click("text=Log out")
    page.wait_for_url(f"{base}/login")
    page.goto(f"{base}/admin/migrations/")
    assert page.url.startswith(f"{base}/login?next=")
