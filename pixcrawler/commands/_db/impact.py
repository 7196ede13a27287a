"""`flask db impact [RANGE]`: what each revision will do to the tables, and for how long.

The analysis is `pixcrawler.migrator.impact`; this module prints it. The analysis (and pglast,
the parser it needs) is imported only when the command runs, so every other command starts as
fast as before.
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from pixcrawler.commands._choice import Choice
from pixcrawler.commands._errors import CommandError
from pixcrawler.commands._options import json_option, print_json
from pixcrawler.migrator.guard import Limits

FAIL_ON = ["blocking", "rewrite", "never"]


@click.command(
    "impact",
    help="What each revision's SQL will do on PostgreSQL: per statement the tables, the lock "
    "on each and what it blocks, the work (catalog, scan, rewrite, index build, data), the "
    "tables' sizes and an estimated duration; then a verdict per revision. RANGE is what "
    "`flask db upgrade` would run now by default, one revision (004), or start:end (002:head).",
)
@click.argument("revisions", metavar="[RANGE]", required=False)
@json_option
@click.option(
    "--fail-on",
    type=Choice(FAIL_ON),
    default="never",
    show_default=True,
    help="Exit 1 when a statement would block reads or writes on a non-empty table for longer "
    "than MIGRATION_LOCK_TIMEOUT (blocking), or would rewrite one (rewrite); unknown "
    "statements count as blocking. never: only report.",
)
@with_appcontext
def command(revisions: str | None, as_json: bool, fail_on: str) -> None:
    from pixcrawler.migrator.impact.analysis import ImpactError, analyse
    from pixcrawler.migrator.impact.text import report_lines

    lock_timeout = Limits.from_config(current_app.config).lock_timeout
    try:
        report = analyse(revisions)
    except ImpactError as exc:
        raise CommandError(str(exc)) from None
    if as_json:
        print_json(report.as_dict())
        for note in report.notes:
            click.echo(note, err=True)
    elif report.revisions:
        click.echo("\n".join(report_lines(report)))
    if not report.revisions:
        click.echo(nothing_pending(), err=as_json)
        return
    refused = report.failures(fail_on, lock_timeout)
    if not refused:
        return
    if not as_json:  # stdout stays JSON alone with --json
        click.echo(f"\nrefused by --fail-on {fail_on}:")
        click.echo("\n".join(f"  {line}" for line in refused))
    more = f" (and {len(refused) - 1} more)" if len(refused) > 1 else ""
    raise CommandError(f"--fail-on {fail_on}: {refused[0]}{more}")


def nothing_pending() -> str:
    from pixcrawler.migrator.state import migration_state

    state = migration_state()
    where = ", ".join(state.current) or "no revision"
    return f"Nothing is pending: the database is at {where}."
