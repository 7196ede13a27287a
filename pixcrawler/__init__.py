"""PixCrawler's Flask backend: profiles, projects, crawl jobs and the images they collect.

`create_app` (which `flask --app pixcrawler` finds), `create_app_or_exit` and `ConfigError` are
imported on first use: importing one module of the package, `pixcrawler.models` say, then
costs only that module, not the whole app.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ConfigError", "create_app", "create_app_or_exit"]


def __getattr__(name: str) -> Any:
    if name in ("create_app", "create_app_or_exit"):
        from pixcrawler import app

        return getattr(app, name)
    if name == "ConfigError":
        from pixcrawler.config import ConfigError

        return ConfigError
    raise AttributeError(f"module 'pixcrawler' has no attribute {name!r}")
