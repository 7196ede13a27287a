"""Every kind of model change, on SQLite and PostgreSQL: `flask db check` sees it in words,
`flask db migrate` writes it, the revision upgrades, the check then agrees, the database does
what the models say, and the downgrade brings back the schema it started from.

In-process for speed: Alembic's command API on a scratch copy of migrations/, with a changed
copy of the models handed in as `config.attributes["target_metadata"]` (see model_changes).
A few real `flask db migrate` runs on an edited model file live in test_drift_cli.py.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.util import CommandError as AlembicError

from pixcrawler.extensions import db
from pixcrawler.migrator.drift import drift_lines, schema_drift
from pixcrawler.migrator.lint import lint
from pixcrawler.migrator.state import app_alembic_config, script_directory
from tests.conftest import REPO_ROOT, make_app
from tests.databases import delete_all_rows, sqlite_url
from tests.migrations import model_changes as change

profiles = sa.table("profiles", sa.column("id", sa.Uuid), sa.column("email"))
projects = sa.table(
    "projects",
    sa.column("id"),
    sa.column("name"),
    sa.column("user_id", sa.Uuid),
    sa.column("status"),
    sa.column("description"),
)
crawl_jobs = sa.table(
    "crawl_jobs",
    sa.column("id"),
    sa.column("project_id"),
    sa.column("name"),
    sa.column("keywords", sa.JSON),
    sa.column("status"),
    sa.column("max_images"),
)


# --- the database each change starts from ----------------------------------------------------


@pytest.fixture(scope="module")
def template_url(backend, request, tmp_path_factory):
    """One database per backend at head, copied for every change (no upgrade per test)."""
    if backend == "sqlite":
        url = sqlite_url(tmp_path_factory.mktemp("template"))
    else:
        url = request.getfixturevalue("postgres").create()
    app = make_app(url)
    with app.app_context():
        command.upgrade(app_alembic_config(), "head")
        db.engine.dispose()
    return url


class Databases:
    """Where each change starts: a copy of the template at head. A PostgreSQL copy is used
    again by the next change when the last one ended back at the start (emptied of rows);
    making and dropping a database costs more than the change itself."""

    def __init__(self, template_url: str, backend: str, request):
        self.template_url = template_url
        self.postgres = request.getfixturevalue("postgres") if backend == "postgresql" else None
        self.reusable: str | None = None

    def take(self, folder: Path) -> str:
        if self.postgres is None:
            copy = folder / "start.sqlite3"
            shutil.copy(sa.engine.make_url(self.template_url).database, copy)
            return f"sqlite:///{copy}"
        url, self.reusable = self.reusable, None
        return url or self.postgres.create(template=self.template_url)

    def give_back(self, url: str, engine: sa.Engine, back_at_start: bool) -> None:
        if self.postgres is None:
            return
        if back_at_start:
            delete_all_rows(engine, db.metadata)
            self.reusable = url
        else:
            self.postgres.drop(url)

    def close(self) -> None:
        if self.reusable:
            self.postgres.drop(self.reusable)


@pytest.fixture(scope="module")
def databases(template_url, backend, request):
    found = Databases(template_url, backend, request)
    yield found
    found.close()


@dataclass
class Scratch:
    """An app on a copy of the database at head, with its own copy of migrations/."""

    folder: Path
    engine: sa.Engine
    back_at_start: bool = False  # set by a test that ended at the head it started from

    def config(self, metadata: sa.MetaData, *, autogenerate: bool = False, **attributes):
        config = app_alembic_config()
        config.attributes.update(target_metadata=metadata, configure_logging=False, **attributes)
        config.cmd_opts.autogenerate = autogenerate
        return config

    def drift(self, metadata: sa.MetaData) -> list[str]:
        """What `flask db check` prints; `flask check` and the admin must say the same."""
        lines = drift_lines(self.config(metadata))
        with self.engine.connect() as connection:
            assert schema_drift(connection, metadata) == lines
        return lines

    def migrate(self, metadata: sa.MetaData, message: str, renames=(), **attributes) -> str:
        """`flask db migrate -m MESSAGE [--rename …]`: the new revision's text."""
        before = set(self.versions())
        config = self.config(metadata, autogenerate=True, **attributes)
        config.cmd_opts.x = [f"rename={r}" for r in renames]
        command.revision(config, message=message, autogenerate=True)
        (new,) = set(self.versions()) - before
        return new.read_text()

    def newest(self) -> str:
        return script_directory().get_current_head()

    def versions(self) -> list[Path]:
        return list((self.folder / "versions").glob("*.py"))


@pytest.fixture
def scratch(databases, tmp_path):
    folder = tmp_path / "migrations"
    shutil.copytree(REPO_ROOT / "migrations", folder, ignore=shutil.ignore_patterns("__pycache__"))
    url = databases.take(tmp_path)
    app = make_app(url, MIGRATIONS_DIR=str(folder))
    with app.app_context():
        found = Scratch(folder, db.engine)
        yield found
        databases.give_back(url, db.engine, found.back_at_start)
        db.engine.dispose()


# --- behaviour ----------------------------------------------------------------------------


def accepts(engine: sa.Engine, write: Callable[[sa.Connection], object]) -> bool:
    """Whether the database takes `write`; rolled back either way, so nothing stays."""
    with engine.connect() as connection, connection.begin() as transaction:
        try:
            write(connection)
        except (sa.exc.IntegrityError, sa.exc.DataError):
            return False
        finally:
            transaction.rollback()
    return True


OMIT = object()  # leave the column out of the INSERT: its server default applies


def project(connection: sa.Connection, **values) -> int:
    user = uuid.uuid4()
    connection.execute(profiles.insert().values(id=user, email=f"{user.hex}@example.com"))
    values = {"name": "p", **values, "user_id": user}
    values = {k: v for k, v in values.items() if v is not OMIT}
    return connection.execute(projects.insert().values(**values).returning(projects.c.id)).scalar()


def job(connection: sa.Connection, **values) -> int:
    values = {"project_id": project(connection), "name": "j", "keywords": ["cats"], **values}
    return connection.execute(
        crawl_jobs.insert().values(**values).returning(crawl_jobs.c.id)
    ).scalar()


def row(engine: sa.Engine, query: str) -> tuple | None:
    with engine.connect() as connection:
        found = connection.execute(sa.text(query)).first()
    return tuple(found) if found is not None else None


def both(*checks: Callable[[sa.Engine], None]) -> Callable[[sa.Engine], None]:
    def run(engine: sa.Engine) -> None:
        for check in checks:
            check(engine)

    return run


def takes(write) -> Callable[[sa.Engine], None]:
    def check(engine: sa.Engine) -> None:
        assert accepts(engine, write), "the database refused what the models allow"

    return check


def refuses(write) -> Callable[[sa.Engine], None]:
    def check(engine: sa.Engine) -> None:
        assert not accepts(engine, write), "the database took what the models forbid"

    return check


def defaults_to(query: str, expected, write) -> Callable[[sa.Engine], None]:
    """After `write` (rolled back afterwards), `query` reads `expected`."""

    def check(engine: sa.Engine) -> None:
        seen = []

        def write_and_read(connection):
            write(connection)
            seen.append(connection.execute(sa.text(query)).scalar())

        assert accepts(engine, write_and_read)
        assert seen == [expected]

    return check


def has_index(table: str, name: str, present: bool = True) -> Callable[[sa.Engine], None]:
    def check(engine: sa.Engine) -> None:
        names = {ix["name"] for ix in sa.inspect(engine).get_indexes(table)}
        assert (name in names) == present, names

    return check


def column_type(table: str, column: str, expected: str) -> Callable[[sa.Engine], None]:
    def check(engine: sa.Engine) -> None:
        found = {c["name"]: c["type"] for c in sa.inspect(engine).get_columns(table)}
        assert found[column].compile(dialect=engine.dialect) == expected

    return check


def deleting_a_profile_with_a_project(connection: sa.Connection) -> None:
    [user] = connection.execute(
        sa.select(projects.c.user_id).where(projects.c.id == project(connection))
    ).one()
    connection.execute(profiles.delete().where(profiles.c.id == user))


def on_postgresql(check: Callable[[sa.Engine], None]) -> Callable[[sa.Engine], None]:
    """SQLite does not enforce VARCHAR lengths; PostgreSQL does."""

    def run(engine: sa.Engine) -> None:
        if engine.dialect.name == "postgresql":
            check(engine)

    return run


def stored(engine: sa.Engine, write) -> None:
    with engine.begin() as connection:
        write(connection)


def columns_of(table: str, engine: sa.Engine) -> set[str]:
    return {c["name"] for c in sa.inspect(engine).get_columns(table)}


# --- the corpus -----------------------------------------------------------------------------


@dataclass
class Change:
    id: str
    edit: Callable[[sa.MetaData], None]
    drift: list[str]  # what `flask db check` prints, line by line
    writes: list[str]  # in the new revision
    after: Callable[[sa.Engine], None]  # the database does what the changed models say
    undone: Callable[[sa.Engine], None]  # and, after the downgrade, what it did before
    before: Callable[[sa.Engine], None] | None = None  # rows written before the upgrade
    renames: tuple[str, ...] = ()  # --rename
    ask: Callable[[str], bool] | None = None  # the person at the terminal; None: nobody
    warns: str | None = None  # on stderr
    lint: bool = False  # the revision's PostgreSQL SQL passes `flask db lint`


def job_statuses(*, add=(), remove=()) -> Callable[[sa.MetaData], None]:
    def edit(metadata: sa.MetaData) -> None:
        new = change.job_statuses(add=add, remove=remove)
        change.replace_check(metadata.tables["crawl_jobs"], "ck_crawl_jobs_status", new)

    return edit


def checks(table: str, name: str, new: sa.CheckConstraint | None):
    def edit(metadata: sa.MetaData) -> None:
        if name:
            change.replace_check(metadata.tables[table], name, new)
        else:
            metadata.tables[table].append_constraint(new)

    return edit


def column_change(table: str, column: str, **changes):
    def edit(metadata: sa.MetaData) -> None:
        change.swap_column(metadata, table, column, **changes)

    return edit


def add_index(metadata: sa.MetaData) -> None:
    sa.Index("ix_images_format", metadata.tables["images"].c.format)


def drop_index(metadata: sa.MetaData) -> None:
    table = metadata.tables["job_chunks"]
    table.indexes.discard(
        next(i for i in table.indexes if i.name == "ix_job_chunks_priority_created_at")
    )


def rename_description(metadata: sa.MetaData) -> None:
    table = metadata.tables["projects"]
    summary = change.column(table, "description", name="summary")
    change.rebuild(
        metadata,
        "projects",
        columns=lambda cs: [summary if c.name == "description" else c for c in cs],
    )


def drop_description(metadata: sa.MetaData) -> None:
    change.rebuild(
        metadata, "projects", columns=lambda cs: [c for c in cs if c.name != "description"]
    )


def rename_activity_logs(metadata: sa.MetaData) -> None:
    change.rebuild(metadata, "activity_logs", new_name="audit_logs")


def answer(expected: str, yes: bool):
    def ask(question: str) -> bool:
        assert question == expected
        return yes

    return ask


def nobody_asks(question: str) -> bool:
    raise AssertionError(f"asked {question!r} though --rename answered it")


KEPT = "described before the change"
RENAME_WRITES = [  # op.alter_column('projects', 'description', … or batch_op.alter_column(…
    "alter_column(",
    "'description',\n               existing_type=sa.TEXT(),\n"
    "               new_column_name='summary',",
    "'summary',\n               existing_type=sa.TEXT(),\n"
    "               new_column_name='description',",
]


def with_description(engine: sa.Engine) -> None:
    stored(engine, lambda c: project(c, description=KEPT))


def reads(query: str, expected: tuple) -> Callable[[sa.Engine], None]:
    def check(engine: sa.Engine) -> None:
        assert row(engine, query) == expected

    return check


def has_columns(table: str, *present: str, absent: tuple[str, ...] = ()):
    def check(engine: sa.Engine) -> None:
        found = columns_of(table, engine)
        assert set(present) <= found and not set(absent) & found, found

    return check


activity = sa.table("activity_logs", sa.column("action"))
AUDIT_ROW = "login"


def with_activity(engine: sa.Engine) -> None:
    stored(engine, lambda c: c.execute(activity.insert().values(action=AUDIT_ROW)))


CHANGES = [
    Change(
        "enum value added",
        job_statuses(add=("paused",)),
        drift=[
            "crawl_jobs.status: CHECK ck_crawl_jobs_status allows 'paused' in the models, "
            "not in the database"
        ],
        writes=[
            "op.replace_check_constraint(",
            "\"status IN ('pending', 'running', 'completed', 'failed', 'cancelled', 'paused')\"",
            "previous=\"status IN ('pending', 'running', 'completed', 'failed', 'cancelled')\"",
        ],
        after=takes(lambda c: job(c, status="paused")),
        undone=refuses(lambda c: job(c, status="paused")),
        lint=True,
    ),
    Change(
        "enum value removed",
        job_statuses(remove=("cancelled",)),
        drift=[
            "crawl_jobs.status: CHECK ck_crawl_jobs_status allows 'cancelled' in the database, "
            "not in the models"
        ],
        writes=["op.replace_check_constraint("],
        after=refuses(lambda c: job(c, status="cancelled")),
        undone=takes(lambda c: job(c, status="cancelled")),
    ),
    Change(
        "check added",
        checks("projects", "", sa.CheckConstraint("length(name) > 0", name="name_not_empty")),
        drift=[
            "projects.name: CHECK ck_projects_name_not_empty (length(name) > 0) in the models, "
            "not in the database"
        ],
        writes=["'ck_projects_name_not_empty',", "'length(name) > 0',", "previous=None,"],
        after=refuses(lambda c: project(c, name="")),
        undone=takes(lambda c: project(c, name="")),
        lint=True,
    ),
    Change(
        "check changed",
        checks(
            "crawl_jobs",
            "ck_crawl_jobs_max_images_positive",
            sa.CheckConstraint("max_images >= 10", name="max_images_positive"),
        ),
        drift=[
            "crawl_jobs.max_images: CHECK ck_crawl_jobs_max_images_positive reads "
            "max_images >= 10 in the models, max_images > 0 in the database"
        ],
        writes=["'max_images >= 10',", "previous='max_images > 0',"],
        after=refuses(lambda c: job(c, max_images=5)),
        undone=takes(lambda c: job(c, max_images=5)),
        lint=True,
    ),
    Change(
        "check removed",
        checks("crawl_jobs", "ck_crawl_jobs_max_images_positive", None),
        drift=[
            "crawl_jobs.max_images: CHECK ck_crawl_jobs_max_images_positive (max_images > 0) "
            "in the database, not in the models"
        ],
        writes=["    None,", "previous='max_images > 0',"],
        after=takes(lambda c: job(c, max_images=0)),
        undone=refuses(lambda c: job(c, max_images=0)),
        lint=True,
    ),
    Change(
        "server default added",
        column_change("projects", "name", server_default="untitled"),
        drift=["projects.name: server default 'untitled' in the models, none in the database"],
        writes=["server_default='untitled'"],
        after=defaults_to(
            "SELECT name FROM projects", "untitled", lambda c: project(c, name=OMIT)
        ),
        undone=refuses(lambda c: project(c, name=OMIT)),
    ),
    Change(
        "server default changed",
        column_change("crawl_jobs", "max_images", server_default="500"),
        drift=["crawl_jobs.max_images: server default 500 in the models, 1000 in the database"],
        writes=["server_default='500'"],
        after=defaults_to("SELECT max_images FROM crawl_jobs", 500, job),
        undone=defaults_to("SELECT max_images FROM crawl_jobs", 1000, job),
    ),
    Change(
        "server default removed",
        column_change("projects", "status", server_default=None),
        drift=["projects.status: server default none in the models, 'active' in the database"],
        writes=["server_default=None"],
        after=refuses(lambda c: project(c, status=OMIT)),
        undone=defaults_to(
            "SELECT status FROM projects", "active", lambda c: project(c, status=OMIT)
        ),
    ),
    Change(
        "column type widened",
        column_change("projects", "name", type_=sa.String(255)),
        drift=["projects.name: type VARCHAR(255) in the models, VARCHAR(100) in the database"],
        writes=["type_=sa.String(length=255)"],
        after=both(
            column_type("projects", "name", "VARCHAR(255)"),
            takes(lambda c: project(c, name="x" * 200)),
        ),
        undone=both(
            column_type("projects", "name", "VARCHAR(100)"),
            on_postgresql(refuses(lambda c: project(c, name="x" * 200))),
        ),
    ),
    Change(
        "nullable changed",
        column_change("projects", "description", nullable=False),
        drift=["projects.description: NOT NULL in the models, NULL allowed in the database"],
        writes=["nullable=False"],
        after=refuses(lambda c: project(c)),
        undone=takes(lambda c: project(c)),
    ),
    Change(
        "index added",
        add_index,
        drift=["images: index ix_images_format (format) in the models, not in the database"],
        writes=["create_index(", "'ix_images_format'"],
        after=has_index("images", "ix_images_format"),
        undone=has_index("images", "ix_images_format", present=False),
    ),
    Change(
        "index removed",
        drop_index,
        drift=[
            "job_chunks: index ix_job_chunks_priority_created_at (priority, created_at) in the "
            "database, not in the models"
        ],
        writes=["ix_job_chunks_priority_created_at"],
        after=has_index("job_chunks", "ix_job_chunks_priority_created_at", present=False),
        undone=has_index("job_chunks", "ix_job_chunks_priority_created_at"),
    ),
    Change(
        "foreign key ondelete changed",
        column_change("projects", "user_id", ondelete="RESTRICT"),
        drift=[
            "projects: foreign key fk_projects_user_id_profiles ON DELETE CASCADE in the "
            "database, RESTRICT in the models"
        ],
        writes=["ondelete='RESTRICT'"],
        after=refuses(deleting_a_profile_with_a_project),
        undone=takes(deleting_a_profile_with_a_project),
    ),
    Change(
        "column renamed, the question answered yes",
        rename_description,
        drift=[
            "projects.summary: column (TEXT) in the models, not in the database",
            "projects.description: column (TEXT) in the database, not in the models",
        ],
        writes=RENAME_WRITES,
        before=with_description,
        after=reads("SELECT summary FROM projects", (KEPT,)),
        undone=reads("SELECT description FROM projects", (KEPT,)),
        ask=answer("Did you rename projects.description to projects.summary (a TEXT)?", True),
    ),
    Change(
        "column renamed with --rename",
        rename_description,
        drift=[
            "projects.summary: column (TEXT) in the models, not in the database",
            "projects.description: column (TEXT) in the database, not in the models",
        ],
        writes=RENAME_WRITES,
        before=with_description,
        after=reads("SELECT summary FROM projects", (KEPT,)),
        undone=reads("SELECT description FROM projects", (KEPT,)),
        renames=("projects.description=summary",),
        ask=nobody_asks,
    ),
    Change(
        "column renamed, nobody to ask",
        rename_description,
        drift=[
            "projects.summary: column (TEXT) in the models, not in the database",
            "projects.description: column (TEXT) in the database, not in the models",
        ],
        writes=[
            "# Deletes the column projects.description and all its data.",
            "# If projects.description was renamed to projects.summary, make this revision again "
            "with\n",
            "# `flask db migrate --rename projects.description=summary`: its data then stay.",
        ],
        before=with_description,
        # As warned: the drop and the add, so the description is gone for good.
        after=both(
            has_columns("projects", "summary", absent=("description",)),
            reads("SELECT summary FROM projects", (None,)),
        ),
        undone=reads("SELECT description FROM projects", (None,)),
        warns=(
            "Warning: projects.description is dropped and projects.summary (TEXT) added; if it "
            "was renamed, run again with --rename projects.description=summary to keep its data."
        ),
    ),
    Change(
        "table renamed",
        rename_activity_logs,
        drift=[
            "audit_logs: table in the models, not in the database",
            "activity_logs: table in the database, not in the models",
        ],
        writes=["op.rename_table('activity_logs', 'audit_logs')", "ix_audit_logs_user_id"],
        before=with_activity,
        after=reads("SELECT action FROM audit_logs", (AUDIT_ROW,)),
        undone=reads("SELECT action FROM activity_logs", (AUDIT_ROW,)),
        renames=("activity_logs=audit_logs",),
    ),
    Change(
        "table renamed, nobody to ask",
        rename_activity_logs,
        drift=[
            "audit_logs: table in the models, not in the database",
            "activity_logs: table in the database, not in the models",
        ],
        writes=[
            "# Deletes the table activity_logs and all its rows.\n"
            "    # If activity_logs was renamed to audit_logs, make this revision again with\n"
            "    # `flask db migrate --rename activity_logs=audit_logs`: its rows then stay.\n"
            "    op.drop_table('activity_logs')",
            "# Deletes the table audit_logs and all its rows.",  # in the downgrade
        ],
        before=with_activity,
        after=reads("SELECT count(*) FROM audit_logs", (0,)),
        undone=reads("SELECT count(*) FROM activity_logs", (0,)),
        warns=(
            "Warning: table activity_logs is dropped and audit_logs added; if it was renamed, "
            "run again with --rename activity_logs=audit_logs to keep its rows."
        ),
    ),
    Change(
        "column really dropped",
        drop_description,
        drift=["projects.description: column (TEXT) in the database, not in the models"],
        writes=["# Deletes the column projects.description and all its data."],
        before=with_description,
        after=has_columns("projects", absent=("description",)),
        undone=reads("SELECT description FROM projects", (None,)),
    ),
]


@pytest.mark.parametrize("case", CHANGES, ids=lambda c: c.id)
def test_a_model_change_is_seen_written_applied_and_undone(case: Change, scratch: Scratch, capsys):
    original = change.copy_of_models()
    metadata = change.copy_of_models()
    case.edit(metadata)
    assert scratch.drift(metadata) == case.drift
    if case.before:
        case.before(scratch.engine)
    capsys.readouterr()
    text = scratch.migrate(metadata, case.id, case.renames, ask_rename=case.ask)
    warnings = [
        line for line in capsys.readouterr().err.splitlines() if line.startswith("Warning")
    ]
    assert warnings == ([case.warns] if case.warns else [])
    for snippet in case.writes:
        assert snippet in text, text
    if case.lint:
        [result] = lint(scratch.newest())
        assert result.ok, result.violations
    config = scratch.config(metadata)
    command.upgrade(config, "head")
    assert drift_lines(scratch.config(metadata)) == []  # `flask db check` agrees
    case.after(scratch.engine)
    command.downgrade(config, "-1")
    with scratch.engine.connect() as connection:  # `flask db check` wants the head: ask directly
        assert schema_drift(connection, original) == []
    case.undone(scratch.engine)
    scratch.back_at_start = True


def test_no_difference_at_head(scratch: Scratch):
    """No false positive: the migrated schema is what the models declare, on both paths."""
    assert scratch.drift(change.copy_of_models()) == []
    assert scratch.drift(db.metadata) == []
    scratch.back_at_start = True


def test_rows_that_break_a_new_check_stop_the_upgrade_until_they_are_fixed(scratch: Scratch):
    """A status removed while rows still use it: the upgrade fails in one line and the database
    stays at the previous revision; once the rows are fixed, the same upgrade goes through."""
    metadata = change.copy_of_models()
    job_statuses(remove=("cancelled",))(metadata)
    stored(scratch.engine, lambda c: job(c, status="cancelled"))
    scratch.migrate(metadata, "no more cancelled")
    config = scratch.config(metadata)
    start = script_directory().get_revision(scratch.newest()).down_revision
    with pytest.raises(AlembicError) as failure:
        command.upgrade(config, "head")
    message = str(failure.value)
    assert (
        "ck_crawl_jobs_status" in message and f"the database stays at revision {start}" in message
    )
    stored(scratch.engine, lambda c: c.execute(crawl_jobs.update().values(status="failed")))
    command.upgrade(config, "head")
    assert drift_lines(scratch.config(metadata)) == []
    assert not accepts(scratch.engine, lambda c: job(c, status="cancelled"))
