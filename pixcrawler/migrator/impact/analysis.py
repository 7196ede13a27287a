"""`flask db impact` from end to end: which revisions, their PostgreSQL SQL, the schema and
sizes they start from, the throughput of this server, and the report.

The SQL is what `flask sqlmigrate REV --dialect postgresql` prints, whatever the app's backend,
because production runs PostgreSQL. Sizes come from a live PostgreSQL catalog. On SQLite, or
when the database does not answer, the same rules apply to the same SQL, the schema comes from
replaying the earlier revisions' SQL here, and sizes and durations are unknown: the report says
so in one line.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass

import sqlalchemy as sa
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from flask import current_app

from pixcrawler.migrator.impact.catalog import CatalogLocked, read_schema
from pixcrawler.migrator.impact.estimates import statement_seconds
from pixcrawler.migrator.impact.facts import Statement, Work
from pixcrawler.migrator.impact.probe import ProbeFailed, measure
from pixcrawler.migrator.impact.report import Report, RevisionImpact, StatementImpact, TableImpact
from pixcrawler.migrator.impact.schema import Schema, Table
from pixcrawler.migrator.impact.statements import classify, split
from pixcrawler.migrator.lint import LintError, revisions_in
from pixcrawler.migrator.sql import revision_sql
from pixcrawler.migrator.state import MigrationState, migration_state, script_directory

BACKEND_NAMES = {"sqlite": "SQLite"}
TIMED_WORK = frozenset({Work.SCAN, Work.REWRITE, Work.INDEX_BUILD, Work.DATA})


class ImpactError(Exception):
    """A range that names no revision, or SQL that cannot be rendered: one line for people."""


@dataclass(frozen=True)
class Target:
    id: str
    message: str
    down_revisions: tuple[str, ...]


@dataclass
class Step:
    """A statement and the tables it touches, as they stood just before it ran."""

    statement: Statement
    tables: dict[str, Table]


def analyse(spec: str | None = None, state: MigrationState | None = None) -> Report:
    """The report for RANGE `spec` (one revision, or `start:end`), or for what
    `flask db upgrade` would run now when `spec` is None."""
    state = state or migration_state()
    targets = _targets(spec, state)
    if not targets:
        return Report([])
    scripts = {target.id: _sql(target.id) for target in targets}
    live = state.backend == "postgresql" and state.error is None
    engine = current_app.extensions["migrate"].db.engine
    with engine.connect() if live else nullcontext() as connection:
        schema, note = _starting_schema(connection, state, targets, spec)
        steps = {t.id: list(_walk(scripts[t.id], schema)) for t in targets}
        throughput = None
        if schema.sized:  # the catalog answered: worth measuring this server
            throughput, timing = _throughput(connection, [s for v in steps.values() for s in v])
            note = f"{note}; {timing}"
    revisions = [
        RevisionImpact(t.id, t.message, [_impact(step, throughput) for step in steps[t.id]])
        for t in targets
    ]
    return Report(revisions, [note])


def _targets(spec: str | None, state: MigrationState) -> list[Target]:
    if spec:
        try:
            scripts = revisions_in(spec)
        except LintError as exc:  # the usual mistake is a typo: name the revisions there are
            known = [s.revision for s in reversed(list(script_directory().walk_revisions()))]
            raise ImpactError(f"{exc}; known revisions: {', '.join(known)}") from None
        return [Target(s.revision, _message(s.doc), _down(s.down_revision)) for s in scripts]
    if state.error:  # nothing tells what is pending: every revision
        return [Target(r.id, r.message, r.down_revisions) for r in state.revisions]
    return [Target(r.id, r.message, r.down_revisions) for r in state.pending]


def _sql(revision: str) -> str:
    try:
        return revision_sql(revision, dialect="postgresql")
    except (CommandError, RevisionError) as exc:
        reason = " ".join(str(exc).split())
        raise ImpactError(f"cannot render the PostgreSQL SQL of {revision}: {reason}") from None


def _starting_schema(connection, state: MigrationState, targets, spec) -> tuple[Schema, str]:
    """The live catalog's schema and sizes, or the earlier revisions replayed (sizes unknown)."""
    if connection is not None:
        try:
            schema = read_schema(connection)
            schema.sized = True
            return schema, f"Sizes from the catalog of {state.database}"
        except CatalogLocked:
            why = f"A table of {state.database} is locked by another session (a migration?)"
    elif state.error:
        why = f"The database {state.database} does not answer ({state.error})"
    else:
        why = f"The database is {BACKEND_NAMES.get(state.backend, state.backend)}"
    what = "every revision's" if state.error and not spec else "the revisions'"
    rules = f"{what} PostgreSQL SQL analysed with PostgreSQL's rules"
    return _replayed(targets[0]), f"{why}: {rules}; sizes and durations unknown"


def _replayed(first: Target) -> Schema:
    """The schema the revisions before `first` leave, from their SQL."""
    schema = Schema()
    scripts = script_directory()
    earlier = []
    for down in first.down_revisions:
        earlier += [s.revision for s in scripts.iterate_revisions(down, "base")]
    for revision in reversed(list(dict.fromkeys(earlier))):
        for _step in _walk(_sql(revision), schema):
            pass  # each step changes the schema
    schema.forget_sizes()
    return schema


def _walk(sql: str, schema: Schema) -> Iterator[Step]:
    """Each statement classified against the schema, which it then changes."""
    for statement in split(sql):
        classify(statement, schema)
        names = set(statement.locks) | {e.table for e in statement.effects}
        names |= {e.source for e in statement.effects if e.source}
        before = {n: copy.deepcopy(schema.table(n)) for n in names if schema.table(n)}
        if statement.node is not None:
            schema.apply(statement.node)
        for name in names - set(before):
            created = schema.table(name)
            if created is not None and created.new:
                before[name] = copy.deepcopy(created)
        yield Step(statement, before)


def _throughput(connection: sa.Connection, steps: list[Step]):
    """Measure on the biggest table the timed work touches; (None, why) when not needed or
    not possible."""
    candidates = {}
    for step in steps:
        for effect in step.statement.effects:
            name = effect.source or effect.table
            table = step.tables.get(name)
            if effect.work in TIMED_WORK and table is not None and table.rows:
                candidates.setdefault(name, table)
    if not candidates:
        return None, "nothing to time: only catalog changes and empty tables"
    table = max(candidates.values(), key=lambda t: t.bytes or 0)
    rehearsals = [
        effect.rehearsal
        for step in steps
        for effect in step.statement.effects
        if effect.table == table.name and effect.rehearsal is not None
    ]
    updates = any(e.work == Work.DATA for s in steps for e in s.statement.effects)
    try:
        found = measure(connection, table, rehearsals, updates)
    except ProbeFailed as exc:
        return None, f"throughput not measured ({exc}): durations unknown"
    return found, found.describe()


def _impact(step: Step, throughput) -> StatementImpact:
    statement = step.statement
    tables = [
        TableImpact(
            name,
            lock,
            rows=getattr(step.tables.get(name), "rows", None),
            bytes=getattr(step.tables.get(name), "bytes", None),
            new=getattr(step.tables.get(name), "new", False),
        )
        for name, lock in statement.locks.items()
    ]
    seconds = statement_seconds(statement.effects, step.tables, throughput)
    return StatementImpact(
        sql=statement.sql,
        work=statement.work,
        estimated_seconds=None if statement.work == Work.UNKNOWN else seconds,
        tables=tables,
        transaction=statement.transaction,
        rewrites=tuple(e.table for e in statement.effects if e.work == Work.REWRITE),
        row_locks=tuple(
            e.table for e in statement.effects if e.work == Work.DATA and e.rehearsal is not None
        ),
        deletes=tuple(statement.deletes),
    )


def _message(doc: str | None) -> str:
    lines = (doc or "").strip().splitlines()
    return lines[0] if lines else ""


def _down(value) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)
