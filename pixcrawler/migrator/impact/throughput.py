"""The throughput of this server, as measured on a sample of a table (`probe.py`), and how
it scales to a whole table: per row on the sampled table, per byte on the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pixcrawler.migrator.impact.schema import Table


@dataclass
class Throughput:
    """Seconds the sample took for each kind of work, and how to scale them to a table."""

    table: str
    rows: int  # in the sample
    heap_bytes: int  # of the sample's copy
    scan_seconds: float  # reading SAMPLE rows of the real table, in its order
    write_seconds: float  # writing the sample into a new table
    row_bytes: float  # the real table's bytes per row (dead rows included), for its scans
    index_seconds: dict[str, float] = field(default_factory=dict)  # by index name
    rehearsed: dict[int, float] = field(default_factory=dict)  # by id() of the statement node
    update_seconds: float | None = None
    elapsed: float = 0.0
    temporary: bool = False

    def scan(self, table: Table) -> float:
        return self.scan_seconds * (table.heap_bytes or 0) / (self.rows * self.row_bytes)

    def write(self, table: Table) -> float:
        """Writing the table's live rows anew: per row on the sampled table, per byte on others."""
        if table.name == self.table:
            return self.write_seconds * (table.rows or 0) / self.rows
        return self.write_seconds * (table.heap_bytes or 0) / self.heap_bytes

    def rewrite(self, table: Table) -> float | None:
        """A table rewrite: read it, write its rows anew, rebuild each of its indexes."""
        builds = [self.build(table, self._index(table, name)) for name in table.indexes]
        if None in builds:
            return None
        return self.scan(table) + self.write(table) + sum(builds)

    def build(self, table: Table, sample_seconds: float | None = None) -> float | None:
        """An index build on the table's rows, scaled by rows from the sample's time (the mean
        of the sample's builds when this index was not built on it). A sort costs a little
        more per row as it grows, in theory; measured on a million images (README), the
        per-row time stayed within the sample's noise, and n·log n overestimated more often."""
        if sample_seconds is None:
            if not self.index_seconds:
                return None  # no index could be built on the sample
            sample_seconds = sum(self.index_seconds.values()) / len(self.index_seconds)
        return sample_seconds * (table.rows or 0) / self.rows

    def update(self, table: Table, sample_seconds: float | None = None) -> float | None:
        """An UPDATE or DELETE: its own time on the sample when it ran there, scaled by rows;
        else the sample's update of every row (an upper bound), by rows or, elsewhere, bytes."""
        if sample_seconds is not None and table.name == self.table:
            return sample_seconds * (table.rows or 0) / self.rows
        if self.update_seconds is None:
            return None
        if table.name == self.table:
            return self.update_seconds * (table.rows or 0) / self.rows
        return self.update_seconds * (table.heap_bytes or 0) / self.heap_bytes

    def _index(self, table: Table, name: str) -> float | None:
        return self.index_seconds.get(name) if table.name == self.table else None

    def describe(self) -> str:
        """One line: where and how it was measured, and the rates."""
        where = "a temporary copy, which skips the WAL" if self.temporary else "a copy"
        sample_mb = self.rows * self.row_bytes / 1e6
        writes = self.heap_bytes / 1e6 / self.write_seconds
        spent = sum(self.index_seconds.values())
        builds = (
            f"{_rate(self.rows * len(self.index_seconds) / spent / 1e6)} rows/s" if spent else "?"
        )
        return (
            f"throughput measured on {self.table} in {self.elapsed:.2f} s "
            f"({self.rows:,}-row sample, {where}, rolled back): "
            f"scan {_rate(sample_mb / self.scan_seconds)}B/s, write {_rate(writes)}B/s, "
            f"index build {builds}"
        )


def _rate(value: float) -> str:
    """1.2 G, 45 M, 800 k: per second, in the units people read."""
    for unit, size in (("G", 1e3), ("M", 1.0), ("k", 1e-3)):
        if value >= size:
            return f"{value / size:.3g} {unit}"
    return f"{value * 1e6:.3g} "
