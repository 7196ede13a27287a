"""What env.py adds to Alembic: safe SQLite batch mode, atomic SQLite migrations, and only the
app's own schema compared (a Supabase database has auth, storage, … beside it)."""

import shutil
import textwrap

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from pixcrawler.extensions import db
from pixcrawler.migrator.state import migration_state
from pixcrawler.models import Profile, Project
from tests.conftest import REPO_ROOT, make_app


@pytest.fixture
def scripts(tmp_path):
    """A scratch copy of migrations/ to add revisions to."""
    folder = tmp_path / "migrations"
    shutil.copytree(REPO_ROOT / "migrations", folder)
    return folder


def add_revision(folder, rev, body):
    with make_app("sqlite://").app_context():
        head = migration_state().heads[0]
    source = f'''
        """scratch {rev}"""
        import sqlalchemy as sa
        from alembic import op

        revision = "{rev}"
        down_revision = "{head}"
        branch_labels = None
        depends_on = None

    '''
    path = folder / "versions" / f"{rev}_scratch.py"
    path.write_text(textwrap.dedent(source) + textwrap.dedent(body))
    return head


@pytest.mark.only_backend("sqlite")
def test_a_batch_migration_on_sqlite_does_not_cascade_into_child_rows(database_url, scripts):
    head = add_revision(
        scripts,
        "900",
        """
        def upgrade():
            # Recreates profiles: copy, drop the old table, rename. With enforcement on, the
            # drop would delete every project through ON DELETE CASCADE.
            with op.batch_alter_table("profiles", recreate="always") as batch:
                batch.alter_column("full_name", type_=sa.String(200))

        def downgrade():
            with op.batch_alter_table("profiles", recreate="always") as batch:
                batch.alter_column("full_name", type_=sa.String(100))
        """,
    )
    app = make_app(database_url, MIGRATIONS_DIR=str(scripts))
    with app.app_context():
        upgrade(revision=head)
        owner = Profile(email="owner@example.com")
        db.session.add(Project(name="Kept", owner=owner))
        db.session.commit()
        upgrade()
        assert migration_state().current == ("900",)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Project)) == 1
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        db.engine.dispose()


@pytest.mark.only_backend("sqlite")
def test_a_failing_migration_on_sqlite_rolls_back_completely(database_url, scripts):
    head = add_revision(
        scripts,
        "901",
        """
        def upgrade():
            op.create_table("half_done", sa.Column("id", sa.Integer, primary_key=True))
            op.execute("INSERT INTO no_such_table VALUES (1)")

        def downgrade():
            op.drop_table("half_done")
        """,
    )
    app = make_app(database_url, MIGRATIONS_DIR=str(scripts))
    with app.app_context():
        upgrade(revision=head)
        with pytest.raises(SystemExit):
            upgrade()
        db.engine.dispose()
        assert "half_done" not in sa.inspect(db.engine).get_table_names()
        assert migration_state().current == (head,)


@pytest.mark.only_backend("postgresql")
def test_schemas_the_app_does_not_own_are_never_compared(database_url, flask_cli):
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:
        for schema in ("auth", "storage", "extensions"):
            connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
        connection.exec_driver_sql("CREATE TABLE auth.users (id uuid PRIMARY KEY, email text)")
        connection.exec_driver_sql("CREATE TABLE storage.objects (id bigserial PRIMARY KEY)")
    engine.dispose()
    assert flask_cli("db", "upgrade").returncode == 0
    result = flask_cli("db", "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No new upgrade operations detected" in result.stdout
