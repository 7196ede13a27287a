"""Configuration: class defaults, then the environment, then the mapping given to the factory."""

import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

from pixcrawler.database.urls import ConfigError, normalize_database_url
from pixcrawler.env_settings import Seconds, load_prefixed_env

__all__ = ["ConfigError", "load_config"]

# Accepted only outside production; production refuses to start with it.
DEVELOPMENT_SECRET_KEY = "pixcrawler-development-key-not-secret"

SQLITE_FILENAME = "pixcrawler.sqlite3"

# The repository's migrations/ folder (an editable install keeps it beside the package).
MIGRATIONS_DIR = str(Path(__file__).resolve().parent.parent / "migrations")


class Config:
    """Defaults shared by every environment; no secrets here.

    Each setting's type (its annotation, else its default) is how `PIXCRAWLER_<KEY>` is parsed
    (see env_settings.py): `PIXCRAWLER_ALLOW_DOWNGRADE=off` is False, `=maybe` stops start-up.
    """

    ENV_NAME = "development"
    SECRET_KEY: str | None = None
    SQLALCHEMY_DATABASE_URI: str | None = None
    SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict[str, Any]] = {"pool_pre_ping": True}
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    MIGRATIONS_DIR = MIGRATIONS_DIR
    # Safe migrations (README, "Migrations in production"); PIXCRAWLER_* in env.
    MIGRATION_WAIT_TIMEOUT: Seconds = 300  # how long a runner waits for another one to finish
    MIGRATION_LOCK_TIMEOUT: Seconds = 5  # PostgreSQL lock_timeout for each migration statement
    MIGRATION_STATEMENT_TIMEOUT: Seconds = 300  # PostgreSQL statement_timeout for each statement
    MIGRATION_LOCK_RETRIES = 3  # retries of a migration after a lock timeout
    MIGRATION_RETRY_DELAY: Seconds = 2  # first pause before a retry; doubles each time
    ALLOW_DOWNGRADE = False  # production downgrades without asking (PIXCRAWLER_ALLOW_DOWNGRADE=1)
    ADMIN_ALLOW_UPGRADE = False  # the admin's Migrations page may apply pending revisions

    # Flask's own settings whose default, None, does not show their type.
    DEBUG: bool | None
    PROPAGATE_EXCEPTIONS: bool | None
    TRAP_BAD_REQUEST_ERRORS: bool | None
    TEMPLATES_AUTO_RELOAD: bool | None
    MAX_CONTENT_LENGTH: int | None
    SEND_FILE_MAX_AGE_DEFAULT: timedelta | None
    SERVER_NAME: str | None
    SESSION_COOKIE_DOMAIN: str | None
    SESSION_COOKIE_PATH: str | None
    TRUSTED_HOSTS: list[str] | None
    SECRET_KEY_FALLBACKS: list[str] | None


class DevelopmentConfig(Config):
    SECRET_KEY = DEVELOPMENT_SECRET_KEY


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "pixcrawler-testing-key"


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True


CONFIGS = {c.ENV_NAME: c for c in (DevelopmentConfig, TestingConfig, ProductionConfig)}


def config_class(name: str | None) -> type[Config]:
    """The config class for PIXCRAWLER_ENV (development when unset)."""
    name = (name or "development").strip().lower()
    try:
        return CONFIGS[name]
    except KeyError:
        choices = ", ".join(sorted(CONFIGS))
        raise ConfigError(f"PIXCRAWLER_ENV={name!r} is not one of: {choices}") from None


def load_config(app, overrides: Mapping[str, Any] | None) -> None:
    """Fill `app.config` from the config class, the environment and `overrides`, then check it."""
    overrides = dict(overrides or {})
    env_name = overrides.pop("ENV_NAME", None) or os.environ.get("PIXCRAWLER_ENV")
    chosen = config_class(env_name)
    app.config.from_object(chosen)
    load_prefixed_env(app.config, chosen)
    if "SECRET_KEY" in os.environ:
        app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
    if os.environ.get("DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    app.config.update(overrides)

    uri = app.config.get("SQLALCHEMY_DATABASE_URI") or default_sqlite_url(app.instance_path)
    app.config["SQLALCHEMY_DATABASE_URI"] = normalize_database_url(uri)
    if app.config["ENV_NAME"] == "production":
        check_production_secret(app.config.get("SECRET_KEY"))


def default_sqlite_url(instance_path: str) -> str:
    """The embedded database, so that a new user needs no server; creates the instance folder."""
    folder = Path(instance_path)
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / SQLITE_FILENAME}"


def check_production_secret(secret: str | None) -> None:
    """Refuse to serve production with a missing or well-known SECRET_KEY."""
    if not secret:
        raise ConfigError("SECRET_KEY must be set in production (PIXCRAWLER_ENV=production)")
    if secret in (DEVELOPMENT_SECRET_KEY, TestingConfig.SECRET_KEY):
        raise ConfigError("SECRET_KEY is a development default; set a random one in production")
