"""`flask db lint [RANGE]`: squawk over each migration's PostgreSQL SQL, grouped by migration.

The rendering and squawk's run are `pixcrawler.migrator.lint`; this module prints the results.
"""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from pixcrawler.commands._errors import CommandError
from pixcrawler.commands._options import json_option, print_json
from pixcrawler.migrator.lint import LintError, RevisionLint, lint


@click.command(
    "lint",
    help="Lint migrations with squawk (rules in migrations/squawk.toml); exit 1 on violations. "
    "RANGE is one revision (003) or [start]:[end] (002:head); all by default.",
)
@click.argument("revisions", metavar="[RANGE]", required=False)
@json_option
@with_appcontext
def command(revisions: str | None, as_json: bool) -> None:
    try:
        results = lint(revisions)
    except LintError as exc:
        raise CommandError(str(exc)) from None
    if as_json:
        print_json([r.as_dict() for r in results])
    else:
        for result in results:
            report(result)
    failed = [r for r in results if not r.ok]
    count = sum(len(r.violations) for r in failed)
    if failed:
        names = ", ".join(r.revision for r in failed)
        raise CommandError(f"{count} squawk violation(s) in migration(s) {names}")
    if not as_json:
        click.echo(f"{len(results)} migration(s) linted, no violations")


def report(result: RevisionLint) -> None:
    """One line per migration; under a failing one, each violation with its line of SQL."""
    status = "ok" if result.ok else f"{len(result.violations)} violation(s)"
    click.echo(f"{result.revision}  {result.message}: {status}")
    for violation in result.violations:
        click.echo(f"    line {violation.line}: {violation.rule}: {violation.message}")
        if violation.statement:
            click.echo(f"        {violation.statement}")
        if violation.help:
            click.echo(f"        help: {violation.help}")
