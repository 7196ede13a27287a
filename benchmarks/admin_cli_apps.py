"""App variants for the CLI timing in `benchmarks/admin_pages.py`, loaded with `flask --app`.

`without_admin()` is the app as it would be if the admin were never registered; `eager_admin()`
builds the admin inside the factory, to show what loading it lazily saves.
"""

from __future__ import annotations

from flask import Flask

import pixcrawler.app


def without_admin() -> Flask:
    """create_app with its register_admin step skipped."""
    original = pixcrawler.app.register_admin
    pixcrawler.app.register_admin = lambda app: None
    try:
        return pixcrawler.app.create_app()
    finally:
        pixcrawler.app.register_admin = original


def eager_admin() -> Flask:
    """create_app, then the whole admin built at once, as a non-lazy registration would."""
    from pixcrawler.admin import init_admin

    app = pixcrawler.app.create_app()
    init_admin(app)
    return app
