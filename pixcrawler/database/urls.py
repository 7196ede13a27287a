"""DATABASE_URL normalisation: every accepted spelling ends on a driver this project installs;
and `mask`, the one place that hides a URL's secrets before it is shown or logged."""

import re

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


# libpq's parameters that hold a secret; psycopg2 takes any of them from the URL's query string.
SECRET_PARAMETERS = frozenset({"password", "sslpassword"})

# `password=…` inside libpq's key/value form ("host=db password=x"), which can also sit in a
# query parameter (`?dsn=host%3Ddb%20password%3Dx`). A value is a word or a quoted string.
_KEY_VALUE_SECRET = re.compile(
    r"\b(" + "|".join(SECRET_PARAMETERS) + r")(\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]+)",
    re.IGNORECASE,
)


def mask(raw: str) -> str:
    """The URL with every secret hidden (`user:***@`, `?password=***`, `password=***` in a
    libpq key/value string), for messages, logs and pages."""
    text = raw.strip()
    try:
        url = make_url(text)
    except (ArgumentError, ValueError):
        if "=" in text and "://" not in text:  # libpq's key/value form
            return mask_key_value(text)
        return "<unparseable URL>"
    base = url.set(query={}).render_as_string(hide_password=True)
    parameters = [
        f"{key}={mask_parameter(key, value)}"
        for key, values in url.query.items()
        for value in ((values,) if isinstance(values, str) else values)
    ]
    return f"{base}?{'&'.join(parameters)}" if parameters else base


def mask_parameter(key: str, value: str) -> str:
    """One query parameter's value as it may be shown."""
    if key.lower() in SECRET_PARAMETERS:
        return "***"
    return mask_key_value(value)


def mask_key_value(text: str) -> str:
    """libpq key/value text with the value of every secret parameter replaced by ***."""
    return _KEY_VALUE_SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)
