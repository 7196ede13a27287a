"""The analysis as operators read it: per revision, each statement's tables, locks, work and
estimate; a verdict in words; the JSON that `--json` prints; and the rule `--fail-on` applies.

A lock lasts until its transaction ends, not until its statement does: an instant ALTER TABLE
followed by a long UPDATE in the same transaction keeps its ACCESS EXCLUSIVE lock for the whole
UPDATE. So the verdict and `--fail-on blocking` count, for each lock, from its statement to the
end of its transaction. Locks on a table that is empty, or that the revision itself creates,
hold nobody up and are left out of both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pixcrawler.migrator.impact.facts import Work
from pixcrawler.migrator.impact.locks import READS, WRITES, Lock, blocks

# Blocking shorter than this is "a moment": README's goal for a writer stalled by a migration.
MOMENT_SECONDS = 0.1
SAFE = "safe: no lock that blocks others beyond a moment"


@dataclass(frozen=True)
class TableImpact:
    name: str
    lock: Lock | None  # None: the statement is unknown
    rows: int | None  # None: not known
    bytes: int | None
    new: bool = False  # created in this run: empty, and nobody else sees it yet

    @property
    def blocks(self) -> tuple[str, ...]:
        return blocks(self.lock)

    @property
    def holds_others_up(self) -> bool:
        """May its lock make other sessions wait? Not on an empty or new table."""
        return bool(self.blocks) and not self.new and self.rows != 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "lock": self.lock.sql_name if self.lock else None,
            "blocks": list(self.blocks) if self.lock else None,
            "rows": self.rows,
            "bytes": self.bytes,
        }


@dataclass
class StatementImpact:
    sql: str
    work: str
    estimated_seconds: float | None
    tables: list[TableImpact]
    transaction: int
    rewrites: tuple[str, ...] = ()  # tables it copies
    row_locks: tuple[str, ...] = ()  # tables whose rows it changes, locking them (UPDATE, DELETE)
    deletes: tuple[tuple[str, str], ...] = ()  # (table, "drops column images.labels")
    held_seconds: float | None = None  # its locks last this long: to its transaction's end

    def as_dict(self) -> dict[str, Any]:
        seconds = self.estimated_seconds
        return {
            "sql": self.sql,
            "work": self.work,
            "estimated_seconds": None if seconds is None else round(seconds, 3),
            "tables": [t.as_dict() for t in self.tables],
        }


@dataclass
class RevisionImpact:
    id: str
    message: str
    statements: list[StatementImpact] = field(default_factory=list)

    def __post_init__(self) -> None:
        hold_until_commit(self.statements)

    @property
    def verdict(self) -> str:
        parts = [*self._blocking(), *self._row_locks(), *self._unknown()]
        if not parts:
            parts.append(SAFE)
        return "; ".join(parts + self._deletions())

    def _blocking(self) -> list[str]:
        windows: dict[str, dict[str, list[float | None]]] = {}
        for statement in self.statements:
            for table in statement.tables:
                if table.holds_others_up:
                    for kind in table.blocks:
                        found = windows.setdefault(table.name, {READS: [], WRITES: []})
                        found[kind].append(statement.held_seconds)
        parts = []
        for name, found in windows.items():
            reads, writes = _longest(found[READS]), _longest(found[WRITES])
            if _matters(reads):
                also = f" (writes {duration(writes)})" if _longer(writes, reads) else ""
                parts.append(f"blocks reads and writes on {name} for {duration(reads)}{also}")
            elif _matters(writes):
                parts.append(f"blocks writes on {name} for {duration(writes)}")
        return parts

    def _row_locks(self) -> list[str]:
        """ROW EXCLUSIVE blocks no one, but each row an UPDATE or DELETE changes stays locked
        until the commit: another session writing that row waits as long."""
        found = []
        for statement in self.statements:
            sizes = {t.name: t for t in statement.tables}
            for name in statement.row_locks:
                table = sizes.get(name)
                if table is None or table.new or table.rows == 0:
                    continue
                held = statement.held_seconds
                if _matters(held):
                    found.append(
                        f"locks the rows it changes in {name} for {duration(held)} "
                        "(writes to them wait)"
                    )
        return found

    def _unknown(self) -> list[str]:
        found = []
        for statement in self.statements:
            if statement.work == Work.UNKNOWN:
                names = ", ".join(t.name for t in statement.tables)
                where = f" to {names}" if names else ""
                found.append(f"cannot tell what `{short(statement.sql)}` does{where}: review it")
        return found

    def _deletions(self) -> list[str]:
        found = []
        for statement in self.statements:
            sizes = {t.name: t.rows for t in statement.tables}
            for table, what in statement.deletes:
                found.append(f"deletes data: {what} ({rows_text(sizes.get(table))})")
        return found

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "message": self.message,
            "verdict": self.verdict,
            "statements": [s.as_dict() for s in self.statements],
        }


@dataclass
class Report:
    revisions: list[RevisionImpact]
    notes: list[str] = field(default_factory=list)  # where sizes and throughput came from

    def as_dict(self) -> dict[str, Any]:
        return {"revisions": [r.as_dict() for r in self.revisions]}

    def failures(self, rule: str, lock_timeout: float) -> list[str]:
        """What `--fail-on rule` refuses, one line each; empty when the run may go ahead."""
        found = []
        for revision in self.revisions:
            for statement in revision.statements:
                if rule == "blocking":
                    found += _blocking_failures(revision.id, statement, lock_timeout)
                elif rule == "rewrite":
                    found += _rewrite_failures(revision.id, statement)
        return found


def hold_until_commit(statements: list[StatementImpact]) -> None:
    """Each statement's locks last until its transaction ends: its own time and the rest."""
    remaining: dict[int, float | None] = {}
    for statement in reversed(statements):
        after = remaining.get(statement.transaction, 0.0)
        own = statement.estimated_seconds
        held = None if own is None or after is None else own + after
        statement.held_seconds = held
        remaining[statement.transaction] = held


def _blocking_failures(revision: str, statement: StatementImpact, limit: float) -> list[str]:
    if statement.work == Work.UNKNOWN:
        touched = [t for t in statement.tables if not t.new and t.rows != 0]
        if touched or not statement.tables:
            names = f" to {', '.join(t.name for t in touched)}" if touched else ""
            return [f"{revision}: cannot tell what `{short(statement.sql)}` does{names}"]
        return []
    held = statement.held_seconds
    found = []
    for table in statement.tables:
        if table.holds_others_up and (held is None or held > limit):
            what = " and ".join(table.blocks)
            found.append(
                f"{revision}: `{short(statement.sql)}` blocks {what} on {table.name} for "
                f"{duration(held)}, longer than MIGRATION_LOCK_TIMEOUT ({limit:g} s)"
            )
    return found


def _rewrite_failures(revision: str, statement: StatementImpact) -> list[str]:
    sizes = {t.name: t for t in statement.tables}
    found = []
    for name in statement.rewrites:
        table = sizes.get(name)
        if table is not None and not table.new and table.rows != 0:
            found.append(
                f"{revision}: `{short(statement.sql)}` rewrites {name} ({rows_text(table.rows)})"
            )
    return found


def _longest(windows: list[float | None]) -> float | bool | None:
    """The longest window; None when one is unknown; False when there is none."""
    if not windows:
        return False
    if any(w is None for w in windows):
        return None
    return max(windows)


def _matters(window) -> bool:
    return window is None or (window is not False and window > MOMENT_SECONDS)


def _longer(writes, reads) -> bool:
    return isinstance(writes, float) and isinstance(reads, float) and writes > 2 * reads


def duration(seconds: float | None) -> str:
    """~0.4 s, ~2.5 s, ~17 s, ~3 min; "an unknown time" when it could not be estimated."""
    if seconds is None:
        return "an unknown time"
    if seconds < 0.05:
        return "~0 s"
    if seconds < 10:
        return f"~{seconds:.1f} s"
    if seconds < 120:
        return f"~{seconds:.0f} s"
    return f"~{seconds / 60:.0f} min"


def rows_text(rows: int | None) -> str:
    return "rows unknown" if rows is None else f"{rows:,} rows"


def short(sql: str, width: int = 60) -> str:
    """A statement on one line, cut to `width` characters."""
    line = " ".join(sql.split())
    return line if len(line) <= width else line[: width - 1] + "…"
