"""`flask showmigrations`: which revisions the database has, like Django's showmigrations."""

from __future__ import annotations

import click
from alembic.script.revision import RevisionError
from alembic.util import CommandError as AlembicError
from flask.cli import with_appcontext

from pixcrawler.commands._errors import CommandError
from pixcrawler.commands._options import json_option, print_json
from pixcrawler.migrator.state import MigrationState, Revision, Status, migration_state


@click.command(
    help="""List every migration, oldest first: [X] applied, [ ] pending, with the head(s)
    and the database's current revision marked. Works on an empty database (everything
    pending) and when the scripts have several heads. When the database is at a revision these
    scripts do not contain (ahead of the code), the others are [?]: it cannot be told.

    With --plan, list only what `flask db upgrade` would run, in the order it runs it.

    \b
    Examples:
      flask showmigrations
      flask showmigrations --plan --json
    """
)
@click.option("--plan", is_flag=True, help="List only the pending migrations, in upgrade order.")
@json_option
@with_appcontext
def command(plan: bool, as_json: bool) -> None:
    try:
        state = migration_state()
    except (AlembicError, RevisionError) as exc:
        raise CommandError(f"cannot read the migration scripts: {exc}") from None
    if state.error:
        raise CommandError(f"cannot read the migrations of {state.database}: {state.error}")
    if as_json:
        print_json(plan_dict(state) if plan else state.as_dict())
    elif plan:
        show_plan(state)
    else:
        show_list(state)


def show_list(state: MigrationState) -> None:
    """Every revision, oldest first, [X] applied, [ ] pending or [?] cannot be told."""
    click.echo(f"{state.database} ({state.backend}): {state.summary}")
    for revision in state.revisions:
        mark = {True: "X", False: " ", None: "?"}[revision.applied]
        click.echo(f" [{mark}] {revision.id}  {revision.message}{labels(revision, state)}")
    for line in notes(state):
        click.echo(line)


def show_plan(state: MigrationState) -> None:
    """The pending revisions in the order `flask db upgrade` applies them."""
    if not state.pending:
        click.echo(f"Nothing to apply: {state.summary}.")
    for revision in state.pending:
        click.echo(f"{revision.id}  {revision.message}{labels(revision, state)}")
    for line in notes(state):
        click.echo(line)


def labels(revision: Revision, state: MigrationState) -> str:
    """`(head, current)`, and the parents where the history branches or merges."""
    found = []
    if revision.is_head:
        found.append("head")
    if revision.is_current:
        found.append("current")
    if len(revision.down_revisions) > 1:
        found.append("merges " + " + ".join(revision.down_revisions))
    elif len(state.heads) > 1 and revision.down_revisions:
        found.append(f"after {revision.down_revisions[0]}")
    return f"  ({', '.join(found)})" if found else ""


def notes(state: MigrationState) -> list[str]:
    """What a person should know beyond the list: several heads, a database ahead of the code."""
    lines = []
    if state.status == Status.SEVERAL_HEADS:
        lines.append(
            f"Several heads ({', '.join(state.heads)}): `flask db upgrade` needs one; "
            "join them with `flask db merge heads -m 'merge heads'`."
        )
    if state.ahead_note:
        lines.append(state.ahead_note)
    return lines


def plan_dict(state: MigrationState) -> dict:
    """The --plan --json shape: the state's summary fields and the pending revisions."""
    full = state.as_dict()
    return {
        key: full[key] for key in ("backend", "database", "status", "summary", "current", "heads")
    } | {"plan": [r.as_dict() for r in state.pending]}
