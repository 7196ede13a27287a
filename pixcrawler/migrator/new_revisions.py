"""What a new revision gets: the next number as its id, and for a merge, the heads it joins.

Revisions are numbered 001, 002, … instead of Alembic's random hex ids (an explicit `--rev-id`
is kept as given). `process_revision_directives` numbers every new revision, writes no file
when autogenerate found nothing, asks about renames (`renames`) and finishes what autogenerate
wrote (`operations`). `merge_targets` and `number_merges` give `flask db merge` and plain
`alembic merge` the same rules: the next number, and at least two revisions to join.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from alembic.operations.ops import MigrationScript
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError

from pixcrawler.migrator import operations, renames

log = logging.getLogger("alembic.env")

# Alembic's own ids are the last 12 hex digits of a uuid4; ours are zero-padded numbers.
GENERATED_ID = re.compile(r"[0-9a-f]{12}")
ID_WIDTH = 3


def process_revision_directives(context, revision, directives: list[MigrationScript]) -> None:
    """Number new revisions 002, 003, …; write no file when autogenerate found nothing; ask
    about renames (`renames`) and finish what autogenerate wrote (`operations`)."""
    script = directives[0]
    cmd_opts = context.config.cmd_opts
    autogenerate = getattr(cmd_opts, "autogenerate", False)
    if autogenerate:
        advice = renames.resolve(context, script)  # checks --rename even when empty
        if not script.upgrade_ops.is_empty():
            operations.finish_revision(script, advice)
    if autogenerate and script.upgrade_ops.is_empty():
        directives[:] = []
        log.info("No changes in schema detected.")
        return
    if GENERATED_ID.fullmatch(script.rev_id):  # an explicit --rev-id is kept as given
        script.rev_id = next_revision_id(ScriptDirectory.from_config(context.config))


def next_revision_id(scripts: ScriptDirectory) -> str:
    """One more than the highest numbered revision, zero-padded: 001 → 002."""
    numbers = [int(rev.revision) for rev in scripts.walk_revisions() if rev.revision.isdigit()]
    return str(max(numbers, default=0) + 1).zfill(ID_WIDTH)


def merge_targets(scripts: ScriptDirectory, revisions: Any) -> tuple[str, ...]:
    """The revisions a merge joins: those given, or every head when none is. Fewer than two
    is refused: Alembic would write a plain child revision, or with none at all a new root."""
    asked = (revisions,) if isinstance(revisions, str) else tuple(revisions or ())
    asked = asked or ("heads",)
    try:
        found = scripts.get_revisions(asked)
    except RevisionError as exc:
        raise CommandError(str(exc)) from None
    ids = tuple(dict.fromkeys(script.revision for script in found if script is not None))
    if len(ids) >= 2:
        return ids
    what = "head" if asked == ("heads",) else "revision"
    raise CommandError(f"nothing to merge: one {what}, {ids[0]}" if ids else "nothing to merge")


def number_merges(scripts: ScriptDirectory) -> None:
    """Give plain `alembic merge` the rules of `flask db merge`: the next number as its id,
    and the heads checked (this run's ScriptDirectory writes the file once env.py is done)."""
    generate = scripts.generate_revision

    def generate_merge(revid: str, message: str | None, head: Any = None, **kw: Any):
        head = merge_targets(scripts, head)
        if GENERATED_ID.fullmatch(revid):  # an explicit --rev-id is kept as given
            revid = next_revision_id(scripts)
        return generate(revid, message, head=head, **kw)

    scripts.generate_revision = generate_merge  # type: ignore[method-assign]
