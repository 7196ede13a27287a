"""The SQL of one revision, rendered offline as Django's `sqlmigrate` does, for either backend.

`flask sqlmigrate`, the admin's revision pages and `flask db lint` (PostgreSQL's SQL, for
squawk) all read it here. It runs Alembic's own `--sql` mode through env.py, so it is exactly
what `flask db upgrade --sql` prints for that step; SQLite's batch operations are rendered on a
throwaway database (`sqlite_offline`).
"""

from __future__ import annotations

from io import StringIO

from alembic import command
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from pixcrawler.migrator.state import app_alembic_config, down_revisions


def revision_sql(revision: str, backwards: bool = False, dialect: str | None = None) -> str:
    """The SQL one revision runs (offline, like Django's `sqlmigrate`), for any backend.

    Raises alembic's CommandError for an unknown revision or dialect.
    """
    config = app_alembic_config()
    scripts = ScriptDirectory.from_config(config)
    script = scripts.get_revision(revision)
    if script is None:
        raise CommandError(f"Can't locate revision identified by {revision!r}")
    config.output_buffer = StringIO()
    config.attributes["configure_logging"] = False
    if dialect:
        config.attributes["dialect_name"] = dialect
    down = down_revisions(script)
    start = down[0] if down else None
    if backwards:
        command.downgrade(config, f"{script.revision}:{start or 'base'}", sql=True)
    else:
        command.upgrade(
            config, f"{start}:{script.revision}" if start else script.revision, sql=True
        )
    return config.output_buffer.getvalue()
