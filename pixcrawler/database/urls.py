"""DATABASE_URL normalisation: every accepted spelling ends on a driver this project installs."""

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

# Hosted providers hand out URLs for other drivers; this project ships psycopg2 and sqlite3 only.
DRIVER_ALIASES = {
    "postgres": "postgresql+psycopg2",
    "postgresql": "postgresql+psycopg2",
    "postgresql+asyncpg": "postgresql+psycopg2",
    "postgres+asyncpg": "postgresql+psycopg2",
    "sqlite+aiosqlite": "sqlite",
}


class ConfigError(Exception):
    """A setting the operator must fix; reported as one line, never a traceback."""


def normalize_database_url(raw: str) -> str:
    """`raw` with its driver rewritten to an installed one; ConfigError if it is unusable."""
    raw = raw.strip()
    url = parse_database_url(raw)
    driver = DRIVER_ALIASES.get(url.drivername, url.drivername)
    check_driver(url.set(drivername=driver))
    # Swap only the scheme: re-rendering the URL would re-escape the rest of it.
    return f"{driver}://{raw.split('://', 1)[1]}"


def parse_database_url(raw: str) -> URL:
    try:
        return make_url(raw.strip())
    except (ArgumentError, ValueError) as exc:
        raise ConfigError(f"DATABASE_URL is malformed ({exc}): {mask(raw)}") from None


def check_driver(url: URL) -> None:
    """Fail now, naming the driver, rather than later as Flask's "No such command 'db'"."""
    try:
        dialect = url.get_dialect()
    except NoSuchModuleError:
        raise ConfigError(
            f"DATABASE_URL names an unknown database type {url.drivername!r}: "
            "use postgresql://… or sqlite:///…"
        ) from None
    try:
        dialect.import_dbapi()
    except ImportError as exc:
        raise ConfigError(
            f"DATABASE_URL needs the Python driver for {url.drivername!r}, "
            f"which is not installed ({exc})"
        ) from None


def mask(raw: str) -> str:
    """The URL with any password hidden, for messages and pages."""
    try:
        return make_url(raw.strip()).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "<unparseable URL>"
