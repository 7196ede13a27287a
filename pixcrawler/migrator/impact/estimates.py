"""Seconds for each statement: the work it does, the sizes of the tables it does it on, and the
throughput measured on this server (`throughput.py`).

A catalog change takes a moment whatever the size (0 here). Work on an empty or new table is
a moment too. Anything else needs both the table's size and a measured throughput; without
either, the estimate is None: unknown, never a constant.
"""

from __future__ import annotations

from pixcrawler.migrator.impact.facts import Effect, Work
from pixcrawler.migrator.impact.schema import Table
from pixcrawler.migrator.impact.throughput import Throughput


def statement_seconds(
    effects: list[Effect], tables: dict[str, Table], throughput: Throughput | None
) -> float | None:
    """The sum of the statement's effects; None if any of them cannot be estimated."""
    total = 0.0
    for effect in effects:
        seconds = effect_seconds(effect, tables, throughput)
        if seconds is None:
            return None
        total += seconds
    return total


def effect_seconds(
    effect: Effect, tables: dict[str, Table], throughput: Throughput | None
) -> float | None:
    if effect.work == Work.CATALOG:
        return 0.0
    if effect.work == Work.DATA and effect.rehearsal is None:  # INSERT
        if effect.source is None:
            return 0.0  # … VALUES: a few rows
        return _insert_select(tables.get(effect.source), throughput)
    table = tables.get(effect.table)
    if table is None or table.rows is None:
        return None
    if table.rows == 0:
        return 0.0
    if throughput is None:
        return None
    if effect.work == Work.SCAN:
        return throughput.scan(table)
    if effect.work == Work.REWRITE:
        return throughput.rewrite(table)
    rehearsed = throughput.rehearsed.get(id(effect.rehearsal))
    if rehearsed is not None and effect.table != throughput.table:
        rehearsed = None
    if effect.work == Work.INDEX_BUILD:
        seconds = throughput.build(table, rehearsed)
        if seconds is None or not effect.concurrently:
            return seconds
        # CONCURRENTLY reads the table a second time to add what was written meanwhile.
        return seconds + throughput.scan(table)
    if effect.work == Work.DATA:  # UPDATE or DELETE
        return throughput.update(table, rehearsed)
    return None


def _insert_select(source: Table | None, throughput: Throughput | None) -> float | None:
    """Every row of the biggest table it reads, read and written: an upper bound."""
    if source is None or source.rows is None:
        return None
    if source.rows == 0:
        return 0.0
    if throughput is None:
        return None
    return throughput.scan(source) + throughput.write(source)
