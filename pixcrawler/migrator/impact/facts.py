"""What the analyser finds out about one statement: its text, its transaction, the lock it
takes on each table, the work it does there, and the data it deletes. `statements` and
`alter_table` fill it in; `estimates` and `report` read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pglast import ast
from pglast.visitors import referenced_relations

from pixcrawler.migrator.impact.locks import Lock, strongest


class Work:
    CATALOG = "catalog"  # the catalog only: a moment, whatever the table's size
    SCAN = "scan"  # reads every row under the lock (SET NOT NULL, a CHECK or FK validated)
    DATA = "data"  # changes rows (UPDATE, DELETE, INSERT … SELECT)
    INDEX_BUILD = "index build"
    REWRITE = "rewrite"  # copies the table and rebuilds its indexes
    UNKNOWN = "unknown"


HEAVIER = (Work.CATALOG, Work.SCAN, Work.DATA, Work.INDEX_BUILD, Work.REWRITE, Work.UNKNOWN)


@dataclass(frozen=True)
class Effect:
    """One piece of work on one table, which the estimate times."""

    work: str
    table: str
    rehearsal: ast.Node | None = None  # a statement to time on a sample of `table`
    concurrently: bool = False  # CREATE INDEX CONCURRENTLY: two passes over the table
    source: str | None = None  # INSERT … SELECT: the biggest table it reads


@dataclass
class Statement:
    sql: str
    transaction: int  # statements with the same number commit together
    node: ast.Node | None = None
    locks: dict[str, Lock | None] = field(default_factory=dict)  # None: not known
    effects: list[Effect] = field(default_factory=list)
    deletes: list[tuple[str, str]] = field(default_factory=list)  # (table, "drops column …")
    known: bool = True

    @property
    def work(self) -> str:
        if not self.known:
            return Work.UNKNOWN
        return max((e.work for e in self.effects), key=HEAVIER.index, default=Work.CATALOG)

    def lock(self, table: str, mode: Lock) -> None:
        self.locks[table] = strongest(self.locks.get(table), mode)

    def does(self, work: str, table: str, **details) -> None:
        self.effects.append(Effect(work, table, **details))

    def cannot_tell(self) -> None:
        """Unknown: the tables it names, no lock, no work."""
        self.known = False
        self.effects.clear()
        try:
            names = sorted(referenced_relations(self.node)) if self.node is not None else []
        except Exception:  # pglast cannot walk every node kind; the statement stays unknown
            names = []
        self.locks = {name.removeprefix("public."): None for name in names}
