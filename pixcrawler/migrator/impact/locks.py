"""PostgreSQL's table lock modes, named as PostgreSQL names them, and what each one blocks.

The conflict table is PostgreSQL's own ("Table-Level Lock Modes" in its manual). What an
operator asks is narrower: may others still read the table (a plain SELECT takes ACCESS
SHARE), and may they still write it (INSERT, UPDATE and DELETE take ROW EXCLUSIVE)?
"""

from __future__ import annotations

from enum import IntEnum


class Lock(IntEnum):
    """The eight modes, numbered as PostgreSQL numbers them (`lockdefs.h`), so a higher number
    is the stronger lock PostgreSQL keeps when one statement needs several on a table."""

    ACCESS_SHARE = 1
    ROW_SHARE = 2
    ROW_EXCLUSIVE = 3
    SHARE_UPDATE_EXCLUSIVE = 4
    SHARE = 5
    SHARE_ROW_EXCLUSIVE = 6
    EXCLUSIVE = 7
    ACCESS_EXCLUSIVE = 8

    @property
    def sql_name(self) -> str:
        """ACCESS EXCLUSIVE, SHARE ROW EXCLUSIVE, …: the words of `LOCK TABLE … IN … MODE`."""
        return self.name.replace("_", " ")

    @classmethod
    def named(cls, name: str) -> Lock:
        return cls[name.strip().upper().replace(" ", "_")]


_A = Lock
CONFLICTS: dict[Lock, frozenset[Lock]] = {
    _A.ACCESS_SHARE: frozenset({_A.ACCESS_EXCLUSIVE}),
    _A.ROW_SHARE: frozenset({_A.EXCLUSIVE, _A.ACCESS_EXCLUSIVE}),
    _A.ROW_EXCLUSIVE: frozenset(
        {_A.SHARE, _A.SHARE_ROW_EXCLUSIVE, _A.EXCLUSIVE, _A.ACCESS_EXCLUSIVE}
    ),
    _A.SHARE_UPDATE_EXCLUSIVE: frozenset(
        {
            _A.SHARE_UPDATE_EXCLUSIVE,
            _A.SHARE,
            _A.SHARE_ROW_EXCLUSIVE,
            _A.EXCLUSIVE,
            _A.ACCESS_EXCLUSIVE,
        }
    ),
    _A.SHARE: frozenset(
        {
            _A.ROW_EXCLUSIVE,
            _A.SHARE_UPDATE_EXCLUSIVE,
            _A.SHARE_ROW_EXCLUSIVE,
            _A.EXCLUSIVE,
            _A.ACCESS_EXCLUSIVE,
        }
    ),
    _A.SHARE_ROW_EXCLUSIVE: frozenset(
        {
            _A.ROW_EXCLUSIVE,
            _A.SHARE_UPDATE_EXCLUSIVE,
            _A.SHARE,
            _A.SHARE_ROW_EXCLUSIVE,
            _A.EXCLUSIVE,
            _A.ACCESS_EXCLUSIVE,
        }
    ),
    _A.EXCLUSIVE: frozenset(set(Lock) - {_A.ACCESS_SHARE}),
    _A.ACCESS_EXCLUSIVE: frozenset(Lock),
}

READS, WRITES = "reads", "writes"
READER = Lock.ACCESS_SHARE  # what SELECT takes
WRITER = Lock.ROW_EXCLUSIVE  # what INSERT, UPDATE and DELETE take


def blocks(lock: Lock | None) -> tuple[str, ...]:
    """What other sessions must wait for while `lock` is held: ("reads", "writes"),
    ("writes",) or (); a lock held by several statements blocks the union."""
    if lock is None:
        return ()
    found = []
    if READER in CONFLICTS[lock]:
        found.append(READS)
    if WRITER in CONFLICTS[lock]:
        found.append(WRITES)
    return tuple(found)


def strongest(*locks: Lock | None) -> Lock | None:
    """The lock PostgreSQL holds when a statement asks for several on one table."""
    known = [lock for lock in locks if lock is not None]
    return max(known) if known else None
