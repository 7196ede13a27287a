"""The database's migration state, as `flask showmigrations`, `flask check`, the admin and
`/readyz` all report it: one computation, so they can never disagree."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from flask import current_app

from pixcrawler.database import migration_support
from pixcrawler.database.errors import first_line
from pixcrawler.database.urls import mask

# The drift comparison reads every table's definition. Behind a statement queued for a lock
# (a migration's ALTER waiting on a long transaction) those reads queue too, so on PostgreSQL
# it gives up after this many seconds and says so, rather than wait as long as the migration.
DRIFT_LOCK_TIMEOUT = 1
LOCK_NOT_AVAILABLE = "55P03"  # SQLSTATE of a lock_timeout


class Status:
    UP_TO_DATE = "up to date"
    PENDING = "pending"
    AHEAD = "ahead of the code"
    SEVERAL_HEADS = "several heads"
    NO_SCHEMA = "no schema yet"
    UNREACHABLE = "database unreachable"


class DriftSkipped:
    """Why models and tables were not compared (MigrationState.drift is then None)."""

    UNREACHABLE = "the database does not answer"
    NOT_AT_HEAD = "the schema is not at the single head"
    LOCKED = (
        f"waited {DRIFT_LOCK_TIMEOUT} s for a lock on a table: another session (a migration?) "
        "holds or waits for one"
    )


@dataclass(frozen=True)
class Revision:
    id: str
    message: str
    down_revisions: tuple[str, ...]
    created: datetime | None
    doc: str
    path: str
    is_head: bool
    is_current: bool
    applied: bool | None  # None: cannot be told (the database is at a revision not in these)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "message": self.message,
            "down_revisions": list(self.down_revisions),
            "created": self.created.isoformat() if self.created else None,
            "is_head": self.is_head,
            "is_current": self.is_current,
            "applied": self.applied,
        }


@dataclass(frozen=True)
class MigrationState:
    backend: str
    database: str  # the URL with its password hidden
    current: tuple[str, ...]
    heads: tuple[str, ...]
    revisions: tuple[Revision, ...]  # oldest first
    pending: tuple[Revision, ...]  # in the order `flask db upgrade` runs them
    unknown_current: tuple[str, ...]  # in the database, not in the scripts (newer code ran)
    error: str | None = None
    drift: tuple[str, ...] | None = field(default=None)  # None when not computed
    drift_skipped: str | None = None  # why drift was not computed, when it was asked for

    @property
    def status(self) -> str:
        if self.error:
            return Status.UNREACHABLE
        if self.unknown_current:
            return Status.AHEAD
        if len(self.heads) > 1:
            return Status.SEVERAL_HEADS
        if not self.current and self.revisions:
            return Status.NO_SCHEMA
        if self.pending:
            return Status.PENDING
        return Status.UP_TO_DATE

    @property
    def summary(self) -> str:
        """One line for people: 'up to date', '2 pending', 'several heads', …"""
        if self.status == Status.PENDING:
            return f"{len(self.pending)} pending"
        return self.status

    @property
    def at_head(self) -> bool:
        return self.status == Status.UP_TO_DATE

    @property
    def ahead_note(self) -> str | None:
        """What "ahead of the code" means here, in a sentence; None in any other state."""
        if not self.unknown_current:
            return None
        return (
            f"The database is at {', '.join(self.unknown_current)}, which these migration "
            "scripts do not contain: newer code migrated it. Which of their revisions are "
            "applied cannot be told, and nothing is pending."
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "database": self.database,
            "status": self.status,
            "summary": self.summary,
            "current": list(self.current),
            "heads": list(self.heads),
            "pending": [r.id for r in self.pending],
            "unknown_current": list(self.unknown_current),
            "drift": None if self.drift is None else list(self.drift),
            "drift_skipped": self.drift_skipped,
            "ahead_note": self.ahead_note,
            "error": self.error,
            "revisions": [r.as_dict() for r in self.revisions],
        }


def app_alembic_config():
    """This app's Alembic config. The `Migrate` object is shared by every app in the process,
    so its default folder is the last app's: name this app's own folder explicitly."""
    migrate_state = current_app.extensions["migrate"]
    return migrate_state.migrate.get_config(migrate_state.directory)


def script_directory() -> ScriptDirectory:
    """The app's migrations folder, as Flask-Migrate configures it."""
    config = app_alembic_config()
    return ScriptDirectory.from_config(config)


def migration_state(with_drift: bool = False) -> MigrationState:
    """Read the current revision(s) from the database and compare them with the scripts.

    With `with_drift`, also compare the models with the tables (what `flask check` and the
    dashboard show), but only when the schema is at the single head: before that the
    differences are the pending revisions themselves, and not worth a lock wait.
    """
    engine: sa.Engine = current_app.extensions["migrate"].db.engine
    scripts = script_directory()
    current: tuple[str, ...] = ()
    drift, skipped, error = None, None, None
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_heads()
            if with_drift:
                drift, skipped = compare_models(connection, build_state(scripts, engine, current))
    except sa.exc.DBAPIError as exc:
        error = first_line(exc)
        skipped = DriftSkipped.UNREACHABLE if with_drift else None
    state = build_state(scripts, engine, current, error)
    return replace(state, drift=drift, drift_skipped=skipped)


def compare_models(
    connection: sa.Connection, state: MigrationState
) -> tuple[tuple[str, ...] | None, str | None]:
    """The drift lines, or None and the reason they were not computed."""
    if not state.at_head:
        return None, DriftSkipped.NOT_AT_HEAD
    if connection.dialect.name != "postgresql":
        return tuple(describe(d) for d in schema_drift(connection)), None
    connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{DRIFT_LOCK_TIMEOUT * 1000}ms'")
    try:
        return tuple(describe(d) for d in schema_drift(connection)), None
    except sa.exc.DBAPIError as exc:
        if getattr(exc.orig, "pgcode", None) != LOCK_NOT_AVAILABLE:
            raise
        return None, DriftSkipped.LOCKED


def build_state(scripts, engine, current, error=None) -> MigrationState:
    """The state for `current` (the database's revisions), without drift.

    A current revision these scripts do not contain ("ahead of the code") hides which of
    theirs are applied: the ones below a known current revision are, the others cannot be
    told (`applied` None), and nothing is pending (`flask db upgrade` would fail, not run them).
    """
    known = {s.revision: s for s in scripts.walk_revisions()}
    unknown = tuple(rev for rev in current if rev not in known)
    applied: set[str] = set()
    for rev in current:
        if rev in known:
            applied.update(s.revision for s in scripts.iterate_revisions(rev, "base"))
    heads = tuple(scripts.get_heads())
    ordered = list(reversed(list(scripts.walk_revisions())))
    revisions = tuple(_revision(s, heads, current, applied, bool(unknown)) for s in ordered)
    return MigrationState(
        backend=engine.dialect.name,
        database=mask(engine.url.render_as_string(hide_password=False)),
        current=tuple(current),
        heads=heads,
        revisions=revisions,
        pending=() if unknown else tuple(r for r in revisions if not r.applied),
        unknown_current=unknown,
        error=error,
    )


def _revision(script: Script, heads, current, applied, ahead: bool) -> Revision:
    is_applied = script.revision in applied
    return Revision(
        id=script.revision,
        message=(script.doc or "").strip().splitlines()[0] if script.doc else "",
        down_revisions=_as_tuple(script.down_revision),
        created=_created(script),
        doc=(script.module.__doc__ or "").strip(),
        path=script.path,
        is_head=script.revision in heads,
        is_current=script.revision in current,
        applied=True if is_applied else (None if ahead else False),
    )


def _as_tuple(value) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def _created(script: Script) -> datetime | None:
    for line in (script.module.__doc__ or "").splitlines():
        if line.startswith("Create Date:"):
            try:
                return datetime.fromisoformat(line.split(":", 1)[1].strip())
            except ValueError:
                return None
    return None


def schema_drift(connection: sa.Connection) -> list:
    """What autogenerate would change: empty when models and database agree."""
    options = migration_support.context_options(connection.dialect.name)
    context = MigrationContext.configure(
        connection,
        opts={
            "compare_type": options["compare_type"],
            "include_schemas": options["include_schemas"],
            "include_name": options["include_name"],
        },
    )
    return compare_metadata(context, options["target_metadata"])


def describe(diff) -> str:
    """One readable line per autogenerate difference."""
    if isinstance(diff, list):  # column-level changes come grouped
        return "; ".join(describe(d) for d in diff)
    kind, *rest = diff
    names = []
    for item in rest:
        name = getattr(item, "name", None)
        if name:
            names.append(str(name))
        elif isinstance(item, str):
            names.append(item)
    return f"{kind.replace('_', ' ')}: {' '.join(names[:3])}".strip()


def revision_sql(revision: str, backwards: bool = False, dialect: str | None = None) -> str:
    """The SQL one revision runs (offline, like Django's `sqlmigrate`), for any backend.

    Raises alembic's CommandError for an unknown revision or dialect.
    """
    from io import StringIO

    from alembic import command
    from alembic.util import CommandError

    config = app_alembic_config()
    scripts = ScriptDirectory.from_config(config)
    script = scripts.get_revision(revision)
    if script is None:
        raise CommandError(f"Can't locate revision identified by {revision!r}")
    config.output_buffer = StringIO()
    config.attributes["configure_logging"] = False
    if dialect:
        config.attributes["dialect_name"] = dialect
    down = _as_tuple(script.down_revision)
    start = down[0] if down else None
    if backwards:
        command.downgrade(config, f"{script.revision}:{start or 'base'}", sql=True)
    else:
        command.upgrade(
            config, f"{start}:{script.revision}" if start else script.revision, sql=True
        )
    return config.output_buffer.getvalue()
