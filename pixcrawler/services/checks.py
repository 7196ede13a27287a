"""System checks, as `flask check` and the admin report them: is this app fit to serve?

Each check returns findings (id, level, message, hint) rather than raising, so one run reports
every problem at once. The migration checks read `migrator.state.migration_state`, the one
place that computes where the schema stands. `deploy=True` adds the checks that only matter on
a production server (secret key, debug, database, cookies).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.script.revision import RevisionError
from alembic.util import CommandError as AlembicError
from flask import Flask, current_app

from pixcrawler.config import (
    KNOWN_SECRET_KEYS,
    SECRET_KEY_HINT,
    SQLITE_FILENAME,
    secret_key_weakness,
)
from pixcrawler.migrator.drift import DriftSkipped
from pixcrawler.migrator.state import MigrationState, migration_state

ERROR = "error"
WARNING = "warning"
INFO = "info"
LEVELS = (INFO, WARNING, ERROR)  # in rising severity


@dataclass(frozen=True)
class Finding:
    """One result of a check: `id` is stable (scripts and docs refer to it), `level` is its
    severity."""

    id: str
    level: str
    message: str
    hint: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def run_checks(deploy: bool = False) -> list[Finding]:
    """Every finding for the current app; empty when all is well."""
    app = current_app._get_current_object()
    findings: list[Finding] = []
    for check in checks_for(deploy):
        findings.extend(check(app))
    return findings


def checks_for(deploy: bool) -> list[Callable[[Flask], Iterable[Finding]]]:
    """The checks to run, in report order; --deploy adds the settings checks."""
    checks: list[Callable[[Flask], Iterable[Finding]]] = [check_migrations]
    if deploy:
        checks += [
            check_secret_key,
            check_debug,
            check_environment,
            check_database_backend,
            check_session_cookies,
        ]
    return checks


def failed(findings: Iterable[Finding], fail_level: str = ERROR) -> bool:
    """True when any finding is at `fail_level` or worse (the command then exits non-zero)."""
    threshold = LEVELS.index(fail_level)
    return any(LEVELS.index(f.level) >= threshold for f in findings)


def check_migrations(app: Flask) -> list[Finding]:
    """Database reachable, a single head, every revision applied, models matching the tables."""
    try:
        state = migration_state(with_drift=True)
    except (AlembicError, RevisionError) as exc:
        return [
            Finding(
                "migrations.E000",
                ERROR,
                f"the migration scripts cannot be read: {exc}",
                f"Check the revisions in {app.config['MIGRATIONS_DIR']}.",
            )
        ]
    return list(migration_findings(state))


def migration_findings(state: MigrationState) -> Iterable[Finding]:
    """What a migration state means for the operator, in the order to fix it."""
    if state.error:
        yield Finding(
            "database.E001",
            ERROR,
            f"the database {state.database} is unreachable: {state.error}",
            "Check DATABASE_URL and that the database server is running.",
        )
        return
    if len(state.heads) > 1:
        yield Finding(
            "migrations.E001",
            ERROR,
            f"the migrations have {len(state.heads)} heads: {', '.join(state.heads)}",
            "Join them with `flask db merge heads -m 'merge heads'`, review it, then upgrade.",
        )
    if state.unknown_current:
        yield Finding(
            "migrations.E003",
            ERROR,
            "the database is at revision "
            f"{', '.join(state.unknown_current)}, which these migration scripts do not contain",
            "Newer code migrated this database; deploy that code, or downgrade with it.",
        )
    elif state.pending:
        ids = ", ".join(r.id for r in state.pending)
        what = "no schema yet" if not state.current else f"at {', '.join(state.current)}"
        yield Finding(
            "migrations.E002",
            ERROR,
            f"{len(state.pending)} migration(s) not applied ({what}): {ids}",
            "Run `flask db upgrade` (`flask showmigrations --plan` lists what it will run).",
        )
    if state.drift:
        yield Finding(
            "migrations.E004",
            ERROR,
            "the models and the database disagree: " + "; ".join(state.drift),
            "Make a migration with `flask db migrate -m '<what changed>'` and review it, "
            "or bring the models back in line with the schema.",
        )
    elif state.drift_skipped == DriftSkipped.NOT_AT_HEAD:
        yield Finding(
            "migrations.I001",
            INFO,
            "models were not compared with the database, which is not at the single head",
            "Fix the migration findings above, then run `flask check` again.",
        )
    elif state.drift_skipped == DriftSkipped.LOCKED:
        yield Finding(
            "migrations.W001",
            WARNING,
            f"models were not compared with the database: {DriftSkipped.LOCKED}",
            "Run `flask check` again once that session is done "
            "(`SELECT * FROM pg_locks WHERE NOT granted` shows who waits).",
        )


def check_secret_key(app: Flask) -> list[Finding]:
    """Sessions are signed with SECRET_KEY: a known or guessable one lets anyone forge them.

    The same rule stops a production start-up (`config.check_production_secret`)."""
    key = app.config.get("SECRET_KEY")
    if not key:
        return [Finding("security.E001", ERROR, "SECRET_KEY is not set", SECRET_KEY_HINT)]
    if key in KNOWN_SECRET_KEYS:
        return [
            Finding(
                "security.E002",
                ERROR,
                "SECRET_KEY is a development default published with the code",
                SECRET_KEY_HINT,
            )
        ]
    weakness = secret_key_weakness(key)
    if weakness:
        message = f"SECRET_KEY is weak: {weakness}"
        return [Finding("security.E003", ERROR, message, SECRET_KEY_HINT)]
    return []


def check_debug(app: Flask) -> list[Finding]:
    """The debugger and TESTING's error propagation are for development only."""
    findings = []
    if app.debug or debug_in_environment():
        findings.append(
            Finding(
                "security.E004",
                ERROR,
                "debug mode is on: the Werkzeug debugger runs code for anyone who reaches it",
                "Unset FLASK_DEBUG and PIXCRAWLER_DEBUG (and do not pass --debug) on the server.",
            )
        )
    if app.testing:
        findings.append(
            Finding(
                "security.W001",
                WARNING,
                "TESTING is on: errors propagate instead of being handled",
                "Use PIXCRAWLER_ENV=production on the server.",
            )
        )
    return findings


def debug_in_environment() -> bool:
    """PIXCRAWLER_DEBUG asks for debug mode. `flask` resets `app.debug` from FLASK_DEBUG once
    the app is built, so a check run by `flask check` cannot see it there, while a WSGI server
    on `wsgi:app` would run with it."""
    value = os.environ.get("PIXCRAWLER_DEBUG", "").strip().lower()
    return value not in ("", "0", "false", "no", "off")


def check_environment(app: Flask) -> list[Finding]:
    """Production settings come from PIXCRAWLER_ENV=production."""
    if app.config.get("ENV_NAME") == "production":
        return []
    return [
        Finding(
            "config.W001",
            WARNING,
            f"the app runs with the {app.config.get('ENV_NAME')!r} configuration",
            "Set PIXCRAWLER_ENV=production on the server.",
        )
    ]


def check_database_backend(app: Flask) -> list[Finding]:
    """A server needs a database server: SQLite is one writer and one file."""
    url = sa.engine.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "sqlite":
        return []
    hint = "Set DATABASE_URL to a PostgreSQL server (postgresql://user:password@host/name)."
    if is_embedded_sqlite(app, url):
        return [
            Finding(
                "database.E002",
                ERROR,
                f"the database is the embedded SQLite file ({SQLITE_FILENAME} in the instance "
                "folder), the default when DATABASE_URL is unset",
                hint,
            )
        ]
    return [
        Finding(
            "database.W001",
            WARNING,
            f"the database is SQLite ({url.database or 'in memory'}): one writer at a time, "
            "no server backups",
            hint,
        )
    ]


def is_embedded_sqlite(app: Flask, url: sa.engine.URL) -> bool:
    """The instance-folder file the config falls back to when DATABASE_URL is unset."""
    if not url.database:
        return False
    default = Path(app.instance_path) / SQLITE_FILENAME
    return Path(url.database).resolve() == default.resolve()


def check_session_cookies(app: Flask) -> list[Finding]:
    """The admin session cookie: HTTPS only, out of scripts' reach, same-site."""
    findings = []
    if not app.config.get("SESSION_COOKIE_SECURE"):
        findings.append(
            Finding(
                "security.E005",
                ERROR,
                "SESSION_COOKIE_SECURE is off: the admin session cookie would travel over "
                "plain HTTP",
                "Set PIXCRAWLER_SESSION_COOKIE_SECURE=true (PIXCRAWLER_ENV=production sets it).",
            )
        )
    if not app.config.get("SESSION_COOKIE_HTTPONLY"):
        findings.append(
            Finding(
                "security.W002",
                WARNING,
                "SESSION_COOKIE_HTTPONLY is off: scripts in the page can read the session",
                "Set PIXCRAWLER_SESSION_COOKIE_HTTPONLY=true.",
            )
        )
    samesite = app.config.get("SESSION_COOKIE_SAMESITE")
    if str(samesite).lower() not in ("lax", "strict"):
        findings.append(
            Finding(
                "security.W003",
                WARNING,
                f"SESSION_COOKIE_SAMESITE is {samesite!r}: other sites can send the session "
                "cookie along with their requests",
                "Set PIXCRAWLER_SESSION_COOKIE_SAMESITE=Lax (or Strict).",
            )
        )
    return findings
