"""The database's migration state, as `flask showmigrations`, `flask check`, the admin and
`/readyz` all report it: one computation, so they can never disagree.

Where the database is (current), where the scripts end (heads), what `flask db upgrade` would
run (pending), and, when asked and only at the head, whether models and tables agree (`drift`).
Also the app's own Alembic config and migrations folder, which everything else here reads.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from flask import current_app

from pixcrawler.database.errors import first_line
from pixcrawler.database.urls import mask
from pixcrawler.migrator.drift import DriftSkipped, compare_models


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


def app_alembic_config(directory: str | None = None, **options: Any):
    """This app's Alembic config. The `Migrate` object is shared by every app in the process,
    so its default folder is the last app's: name this app's own folder explicitly (or the
    one given, as `flask db -d`). `options` go to Flask-Migrate's `get_config`."""
    migrate_state = current_app.extensions["migrate"]
    config = migrate_state.migrate.get_config(directory or migrate_state.directory, **options)
    config.stdout = sys.stdout  # Alembic's default is the stdout of import time
    return config


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
                at_head = build_state(scripts, engine, current).at_head
                drift, skipped = (
                    compare_models(connection) if at_head else (None, DriftSkipped.NOT_AT_HEAD)
                )
    except sa.exc.DBAPIError as exc:
        error = first_line(exc)
        skipped = DriftSkipped.UNREACHABLE if with_drift else None
    state = build_state(scripts, engine, current, error)
    return replace(state, drift=drift, drift_skipped=skipped)


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
        down_revisions=down_revisions(script),
        created=_created(script),
        doc=(script.module.__doc__ or "").strip(),
        path=script.path,
        is_head=script.revision in heads,
        is_current=script.revision in current,
        applied=True if is_applied else (None if ahead else False),
    )


def down_revisions(script: Script) -> tuple[str, ...]:
    """The revisions `script` follows: none for the first, two or more for a merge."""
    value = script.down_revision
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
