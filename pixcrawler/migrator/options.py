"""What every Alembic run of the app is configured with, whatever the command and the mode.

`context_options` is the one set of options env.py hands to `context.configure`, and that the
drift comparison (`drift.schema_drift`) hands to its own MigrationContext, so `flask db check`,
`flask db migrate`, `flask check` and the admin compare alike: the app's metadata, types, CHECK
constraints and server defaults (`compare`), only the app's own schema (`include_name`),
revisions written without app imports (`render_item`) and numbered (`new_revisions`).
"""

from __future__ import annotations

import re
import warnings
from functools import partial
from pathlib import Path
from typing import Any, Literal

import alembic.context
import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql

from pixcrawler.database.types import UTCDateTime
from pixcrawler.migrator import compare
from pixcrawler.migrator.new_revisions import process_revision_directives

# Alembic's settings ([tool.alembic]): beside the package in the repository, as migrations/ is.
PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"

# Schemas a hosted PostgreSQL (Supabase) keeps for itself; never compared, never dropped.
FOREIGN_SCHEMAS = frozenset(
    {
        "auth",
        "storage",
        "realtime",
        "extensions",
        "graphql",
        "graphql_public",
        "vault",
        "pgsodium",
        "pgsodium_masks",
        "supabase_functions",
        "supabase_migrations",
        "net",
        "cron",
        "information_schema",
        "pg_catalog",
    }
)


def context_options(dialect_name: str) -> dict[str, Any]:
    """Options every run shares, whatever the mode; comparisons see CHECKs and server
    defaults too (`compare`)."""
    options = dict(current_app.extensions["migrate"].configure_args)
    options.update(
        target_metadata=given_metadata() or current_app.extensions["migrate"].db.metadata,
        compare_type=True,
        compare_server_default=compare.compare_server_default,
        autogenerate_plugins=["alembic.autogenerate.*", compare.PLUGIN],
        render_as_batch=dialect_name == "sqlite",
        transaction_per_migration=True,
        include_schemas=False,
        include_name=include_name,
        include_object=partial(built_here, dialect_name),
        process_revision_directives=process_revision_directives,
        render_item=render_item,
    )
    quiet_about_indexes_not_built_here(options["target_metadata"], dialect_name)
    if dialect_name == "sqlite":
        # Our SQLite connections really BEGIN (see database/sqlite.py), so DDL can roll back.
        options["transactional_ddl"] = True
    return options


def include_name(name: str | None, type_: str, parent_names: dict[str, Any]) -> bool:
    """Autogenerate and `flask db check` look only at the app's own schema."""
    if type_ == "schema":
        return name is None or name not in FOREIGN_SCHEMAS
    return True


def built_on(index: sa.Index, dialect_name: str) -> bool:
    """Whether the models build this index on that backend (`Index.ddl_if(dialect=...)`)."""
    only = index._ddl_if.dialect if index._ddl_if is not None else None
    return only is None or dialect_name in ((only,) if isinstance(only, str) else only)


def built_here(
    dialect_name: str, obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Leave a model index that is built only on another backend (e.g. the file name search's,
    PostgreSQL only) out of this backend's comparisons: it is not missing there."""
    return type_ != "index" or reflected or built_on(obj, dialect_name)


def quiet_about_indexes_not_built_here(metadata: sa.MetaData, dialect_name: str) -> None:
    """Alembic warns, before `built_here` can leave it out, that SQLite cannot compare an
    expression index; for an index never built on this backend that is noise, not news."""
    for table in metadata.tables.values():
        for index in table.indexes:
            if not built_on(index, dialect_name):
                warnings.filterwarnings(
                    "ignore",
                    message=f"autogenerate skipping .* index '{re.escape(str(index.name))}'",
                    category=UserWarning,
                )


def render_item(type_: str, obj: Any, autogen_context) -> str | Literal[False]:
    """Write app-only column types as plain SQLAlchemy ones, so revisions never import the app;
    and JSONB (the JSON columns' PostgreSQL variant) so it also renders when the revision is
    made on SQLite, whose renderer would leave `astext_type=Text()` undefined."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, postgresql.JSONB):
        autogen_context.imports.add("from sqlalchemy.dialects import postgresql")
        return "postgresql.JSONB(astext_type=sa.Text())"
    return False


def given_metadata() -> sa.MetaData | None:
    """Models a caller compares instead of the app's, as `config.attributes["target_metadata"]`
    (the tests hand in changed copies); None when not given or no Alembic command runs."""
    config = getattr(alembic.context, "config", None)  # set only while env.py runs
    return config.attributes.get("target_metadata") if config is not None else None


def read_project_settings(config):
    """Flask-Migrate reads only migrations/alembic.ini: add pyproject.toml's [tool.alembic],
    where plain `alembic` finds the same settings, so there is one copy of them."""
    config.toml_file_name = str(PYPROJECT)
    return config
