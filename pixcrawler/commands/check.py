"""`flask check`: Django's system checks for this app, for people and for deploy pipelines."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from pixcrawler.commands._choice import Choice
from pixcrawler.commands._options import json_option, print_json
from pixcrawler.services import checks


@click.command(
    help="""Run the system checks: database reachable, migrations at a single head and all
    applied, models matching the tables; with --deploy also the production settings.

    Each finding has an id, a level (error, warning, info), a message and a hint. The exit
    code is 1 when any finding is at --fail-level or worse, so a deploy script can stop.

    \b
    Example:
      flask check --deploy --json
    """
)
@click.option(
    "--deploy",
    is_flag=True,
    help="Also check production settings: SECRET_KEY, debug, database, session cookies.",
)
@click.option(
    "--fail-level",
    type=Choice(list(checks.LEVELS)),
    default=checks.ERROR,
    show_default=True,
    help="Exit with 1 when a finding is at this level or worse.",
)
@json_option
@with_appcontext
def command(deploy: bool, fail_level: str, as_json: bool) -> None:
    findings = checks.run_checks(deploy=deploy)
    if as_json:
        print_json([f.as_dict() for f in findings])
    else:
        report(findings)
    if checks.failed(findings, fail_level):
        raise click.exceptions.Exit(1)


def report(findings: list[checks.Finding]) -> None:
    """The findings for people, then a one-line count like Django's."""
    for finding in findings:
        click.echo(f"{finding.level.upper()} {finding.id}: {finding.message}")
        if finding.hint:
            click.echo(f"    HINT: {finding.hint}")
    counts = {level: sum(f.level == level for f in findings) for level in checks.LEVELS}
    if not findings:
        click.echo("System check identified no issues.")
    else:
        parts = ", ".join(f"{n} {level}" for level, n in reversed(counts.items()) if n)
        click.echo(f"System check identified {len(findings)} issue(s): {parts}.")
