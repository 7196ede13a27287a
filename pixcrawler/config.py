"""Configuration: class defaults, then the environment, then the mapping given to the factory."""

import os
import zlib
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

from pixcrawler.database.urls import ConfigError, normalize_database_url
from pixcrawler.env_settings import Seconds, load_prefixed_env

__all__ = ["ConfigError", "load_config"]

# Accepted only outside production; production refuses to start with it.
DEVELOPMENT_SECRET_KEY = "pixcrawler-development-key-not-secret"
TESTING_SECRET_KEY = "pixcrawler-testing-key"
KNOWN_SECRET_KEYS = frozenset({DEVELOPMENT_SECRET_KEY, TESTING_SECRET_KEY})

# What a SECRET_KEY needs (production start-up and `flask check --deploy` share the rule): 32
# characters, and no repeats that compression finds. Over 20,000 random keys each, zlib left
# at least 73% of `secrets.token_hex(32)` and 93% of `secrets.token_urlsafe(48)`; it leaves
# 36% of `"password" * 4 + "1"` and 10% of `"a" * 40`.
MIN_SECRET_KEY_LENGTH = 32
MIN_SECRET_KEY_COMPRESSED_RATIO = 0.6
SECRET_KEY_HINT = (
    "Set SECRET_KEY to a random value, e.g. the output of "
    "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
)

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

    # Who gets into the admin (README, "Who gets in"); durations in seconds.
    # A session ends after this long without a request, and this long after its login.
    ADMIN_SESSION_IDLE_TIMEOUT: Seconds = 2 * 60 * 60
    ADMIN_SESSION_LIFETIME: Seconds = 12 * 60 * 60
    LOGIN_RATE_LIMIT = "10 per minute"  # login POSTs per client address (Flask-Limiter notation)
    RATELIMIT_STORAGE_URI = "memory://"  # per process; e.g. redis://host:6379 for several workers
    TRUSTED_PROXY_COUNT = 0  # proxies in front whose X-Forwarded-For/-Proto are believed

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
    SECRET_KEY = TESTING_SECRET_KEY


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


def check_production_secret(secret: str | bytes | None) -> None:
    """Refuse to serve production with a missing, well-known or guessable SECRET_KEY."""
    if not secret:
        raise ConfigError("SECRET_KEY must be set in production (PIXCRAWLER_ENV=production)")
    if secret in KNOWN_SECRET_KEYS:
        raise ConfigError("SECRET_KEY is a development default; set a random one in production")
    weakness = secret_key_weakness(secret)
    if weakness:
        raise ConfigError(f"SECRET_KEY is weak: {weakness}. {SECRET_KEY_HINT}")


def secret_key_weakness(secret: str | bytes) -> str | None:
    """Why a key could be guessed offline from one signed cookie, or None when it looks random.

    Typed or patterned keys fail: too short, or made of repeats (`"a" * 40`, `passwordpassword…`,
    `mysecretmysecret…`), which zlib squeezes well below the size of their text.
    """
    text = secret.decode(errors="replace") if isinstance(secret, bytes) else str(secret)
    if len(text) < MIN_SECRET_KEY_LENGTH:
        return f"it has {len(text)} characters, fewer than {MIN_SECRET_KEY_LENGTH}"
    ratio = compressed_ratio(text)
    if ratio < MIN_SECRET_KEY_COMPRESSED_RATIO:
        return f"it repeats itself (it compresses to {ratio:.0%} of its length)"
    return None


def compressed_ratio(text: str) -> float:
    """zlib's size of `text` (its fixed overhead removed) over its length: an entropy estimate
    that sees repeated blocks as well as a small alphabet."""
    data = text.encode()
    overhead = len(zlib.compress(b"", 9))
    return (len(zlib.compress(data, 9)) - overhead) / len(data)
