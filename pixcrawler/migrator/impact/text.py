"""The report for people: a table per revision, one row per table a statement locks, then the
revision's verdict. (`--json` prints `Report.as_dict()` instead.)"""

from __future__ import annotations

import math

from pixcrawler.migrator.impact.report import Report, RevisionImpact, duration, short

UNITS = ("B", "kB", "MB", "GB", "TB")
HEADER = ("#", "work", "estimate", "table", "lock", "blocks", "rows", "size", "statement")
STATEMENT_WIDTH = 72


def report_lines(report: Report) -> list[str]:
    lines = list(report.notes)
    for revision in report.revisions:
        lines += ["", f"{revision.id}  {revision.message}", *revision_table(revision)]
        lines.append(f"  verdict: {revision.verdict}")
    return lines


def revision_table(revision: RevisionImpact) -> list[str]:
    rows = [HEADER]
    for number, statement in enumerate(revision.statements, 1):
        seconds = statement.estimated_seconds
        first = (
            str(number),
            statement.work,
            "unknown" if seconds is None else duration(seconds),
            short(statement.sql, STATEMENT_WIDTH),
        )
        tables = statement.tables or [None]
        for index, table in enumerate(tables):
            lead = first if index == 0 else ("", "", "", "")
            if table is None:
                cells = ("-", "none", "nothing", "", "")
            else:
                cells = (
                    table.name + (" (new)" if table.new else ""),
                    table.lock.sql_name if table.lock else "unknown",
                    blocks_text(table),
                    "unknown" if table.rows is None else f"{table.rows:,}",
                    size_text(table.bytes),
                )
            rows.append((*lead[:3], *cells, lead[3]))
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    return [
        "  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def blocks_text(table) -> str:
    """What other sessions wait for; "unknown" for an unknown statement's guessless lock."""
    if table.lock is None:
        return "unknown"
    return ", ".join(table.blocks) or "nothing"


def size_text(size: int | None) -> str:
    """Bytes in the units `pg_size_pretty` uses (1024 to the kB)."""
    if size is None:
        return "unknown"
    if size < 1024:
        return f"{size} B"
    power = min(int(math.log(size, 1024)), len(UNITS) - 1)
    return f"{size / 1024**power:,.1f} {UNITS[power]}"
