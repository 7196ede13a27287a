"""The application factory: a table of contents of what an app is made of."""

import sys
from collections.abc import Mapping
from typing import Any

from flask import Flask

from pixcrawler.admin import register_admin
from pixcrawler.cli import register_commands
from pixcrawler.config import ConfigError, load_config
from pixcrawler.database import sqlite
from pixcrawler.extensions import db, migrate
from pixcrawler.migrator import environment as migrator_environment
from pixcrawler.web import register_web


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build an app; `config` overrides the class defaults and the environment (tests use it)."""
    app = Flask(__name__)
    load_config(app, config)
    register_extensions(app)
    register_shell_context(app)
    register_commands(app)
    register_admin(app)
    register_web(app)
    return app


def create_app_or_exit() -> Flask:
    """The app of a process's entry point (`wsgi.py`, plain `alembic`): a configuration mistake
    is the operator's, not a bug, so it ends the process with one `Error:` line (exit 1)."""
    try:
        return create_app()
    except ConfigError as exc:
        sys.exit(f"Error: {exc}")


def register_extensions(app: Flask) -> None:
    import pixcrawler.models  # noqa: F401  (autogenerate must see every table)

    db.init_app(app)
    with app.app_context():
        sqlite.configure_engine(db.engine)
    migrate.init_app(app, db, directory=app.config["MIGRATIONS_DIR"])
    migrator_environment.init_app(app)


def register_shell_context(app: Flask) -> None:
    """`flask shell` opens with `db` and every model imported."""
    import pixcrawler.models as models

    @app.shell_context_processor
    def shell_context() -> dict[str, Any]:
        return {"db": db, **{name: getattr(models, name) for name in models.__all__}}
