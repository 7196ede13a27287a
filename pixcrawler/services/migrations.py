"""The database's migration state, as `flask showmigrations`, `flask check`, the admin and
`/readyz` all report it: one computation, so they can never disagree."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import produce_migrations
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from flask import current_app

from pixcrawler.database import migration_support
from pixcrawler.database.errors import first_line
from pixcrawler.database.schema_differences import describe
from pixcrawler.database.urls import mask


class Status:
    UP_TO_DATE = "up to date"
    PENDING = "pending"
    AHEAD = "ahead of the code"
    SEVERAL_HEADS = "several heads"
    NO_SCHEMA = "no schema yet"
    UNREACHABLE = "database unreachable"


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
    applied: bool

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
    """Read the current revision(s) from the database and compare them with the scripts."""
    engine: sa.Engine = current_app.extensions["migrate"].db.engine
    scripts = script_directory()
    current: tuple[str, ...] = ()
    drift = None
    error = None
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_heads()
            if with_drift:
                drift = tuple(schema_drift(connection))
    except sa.exc.DBAPIError as exc:
        error = first_line(exc)
    return build_state(scripts, engine, current, error, drift)


def build_state(scripts, engine, current, error=None, drift=None) -> MigrationState:
    known = {s.revision: s for s in scripts.walk_revisions()}
    unknown = tuple(rev for rev in current if rev not in known)
    applied: set[str] = set()
    for rev in current:
        if rev in known:
            applied.update(s.revision for s in scripts.iterate_revisions(rev, "base"))
    heads = tuple(scripts.get_heads())
    ordered = list(reversed(list(scripts.walk_revisions())))
    revisions = tuple(_revision(s, heads, current, applied) for s in ordered)
    return MigrationState(
        backend=engine.dialect.name,
        database=mask(engine.url.render_as_string(hide_password=False)),
        current=tuple(current),
        heads=heads,
        revisions=revisions,
        pending=tuple(r for r in revisions if not r.applied),
        unknown_current=unknown,
        error=error,
        drift=drift,
    )


def _revision(script: Script, heads, current, applied) -> Revision:
    return Revision(
        id=script.revision,
        message=(script.doc or "").strip().splitlines()[0] if script.doc else "",
        down_revisions=_as_tuple(script.down_revision),
        created=_created(script),
        doc=(script.module.__doc__ or "").strip(),
        path=script.path,
        is_head=script.revision in heads,
        is_current=script.revision in current,
        applied=script.revision in applied,
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


def schema_drift(connection: sa.Connection, metadata: sa.MetaData | None = None) -> list[str]:
    """What `flask db migrate` would change, one line per difference in words (see
    `schema_differences`); empty when the models (or `metadata`) and the database agree.

    The same comparison as `flask db check`: every option env.py gives Alembic, CHECK
    constraints and server defaults included.
    """
    options = migration_support.context_options(connection.dialect.name)
    if metadata is not None:
        options["target_metadata"] = metadata
    context = MigrationContext.configure(connection, opts=options)
    script = produce_migrations(context, options["target_metadata"])
    return describe(script.upgrade_ops_list, connection.dialect)


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
