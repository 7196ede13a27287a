"""The migrations themselves, on SQLite and PostgreSQL: every revision up and down, the schema
at head against the models and the issue's index list, and Alembic driven without `flask`."""

import ast
import configparser

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from flask_migrate import downgrade, upgrade

from pixcrawler.extensions import db
from pixcrawler.migrator.options import built_on
from pixcrawler.migrator.state import app_alembic_config, migration_state, script_directory
from tests.conftest import REPO_ROOT, run_alembic

# The seed's indexes plus one on every foreign key no other index leads with.
REQUIRED_INDEXES = {
    ("projects", ("user_id",)),
    ("crawl_jobs", ("status",)),
    ("crawl_jobs", ("project_id", "status")),
    ("images", ("crawl_job_id",)),
    ("activity_logs", ("user_id",)),
    ("activity_logs", ("timestamp",)),
    ("validation_jobs", ("status",)),
    ("validation_jobs", ("crawl_job_id",)),
    ("export_jobs", ("status",)),
    ("export_jobs", ("user_id",)),
    ("export_jobs", ("crawl_job_id",)),
}

ON_DELETE = {
    ("projects", "user_id"): "CASCADE",
    ("crawl_jobs", "project_id"): "CASCADE",
    ("images", "crawl_job_id"): "CASCADE",
    ("activity_logs", "user_id"): "SET NULL",
    ("validation_jobs", "crawl_job_id"): "CASCADE",
    ("export_jobs", "crawl_job_id"): "CASCADE",
    ("export_jobs", "user_id"): "CASCADE",
    ("admin_accounts", "profile_id"): "CASCADE",
}


def current_revisions() -> set[str]:
    return set(migration_state().current)


def table_names() -> set[str]:
    return set(sa.inspect(db.engine).get_table_names())


def test_every_revision_goes_up_down_and_up_again(app):
    with app.app_context():
        revisions = [r.id for r in migration_state().revisions]
        assert revisions[:2] == ["001", "002"]
        previous = "base"
        for rev in revisions:
            upgrade(revision=rev)
            assert current_revisions() == {rev}
            downgrade(revision=previous)
            assert current_revisions() == (set() if previous == "base" else {previous})
            upgrade(revision=rev)
            assert current_revisions() == {rev}
            previous = rev
        assert migration_state().at_head


def test_downgrade_base_leaves_only_alembic_version(app):
    with app.app_context():
        upgrade()
        assert set(db.metadata.tables) <= table_names()
        downgrade(revision="base")
        db.engine.dispose()
        assert table_names() == {"alembic_version"}
        assert current_revisions() == set()


def test_the_schema_at_head_equals_the_models(flask_cli):
    assert flask_cli("db", "upgrade").returncode == 0
    result = flask_cli("db", "check")
    assert result.returncode == 0, result.stderr
    assert "No new upgrade operations detected" in result.stdout


def own_indexes(inspector, table):
    """Indexes created as such, not the ones PostgreSQL builds behind a unique constraint."""
    return [ix for ix in inspector.get_indexes(table) if not ix.get("duplicates_constraint")]


def reflected_indexes(inspector, table):
    found = {tuple(ix["column_names"]) for ix in own_indexes(inspector, table)}
    unique = {tuple(uq["column_names"]) for uq in inspector.get_unique_constraints(table)}
    primary = tuple(inspector.get_pk_constraint(table)["constrained_columns"])
    return found, unique | {primary}


def test_revision_001_creates_exactly_the_required_indexes(app):
    with app.app_context():
        upgrade(revision="001")
        inspector = sa.inspect(db.engine)
        found = {
            (table, columns)
            for table in inspector.get_table_names()
            for columns in reflected_indexes(inspector, table)[0]
        }
        assert found == REQUIRED_INDEXES


def test_at_head_every_required_index_is_served_and_none_is_redundant(migrated_app):
    with migrated_app.app_context():
        inspector = sa.inspect(db.engine)
        for table, columns in sorted(REQUIRED_INDEXES):
            # Later revisions may replace an index by a wider one that leads with it.
            indexes, _ = reflected_indexes(inspector, table)
            assert any(ix[: len(columns)] == columns for ix in indexes), f"{table}{columns}"
        for table in db.metadata.tables:
            indexes, keys = reflected_indexes(inspector, table)
            for columns in indexes:
                longer = [o for o in (indexes | keys) - {columns} if o[: len(columns)] == columns]
                assert not longer, f"index {table}{columns} is covered by {longer}"
            # Every foreign key is served by an index that leads with it, so cascades never scan.
            for fk in inspector.get_foreign_keys(table):
                cols = tuple(fk["constrained_columns"])
                assert any(o[: len(cols)] == cols for o in indexes | keys), f"{table}{cols}"
        email_indexes, email_keys = reflected_indexes(inspector, "profiles")
        assert ("email",) in email_keys and ("email",) not in email_indexes


def test_foreign_keys_have_the_intended_on_delete_rules(migrated_app):
    with migrated_app.app_context():
        inspector = sa.inspect(db.engine)
        found = {}
        for table in db.metadata.tables:
            for fk in inspector.get_foreign_keys(table):
                rule = (fk.get("options") or {}).get("ondelete")
                found[(table, fk["constrained_columns"][0])] = (rule or "").upper()
        for key, rule in ON_DELETE.items():
            assert found[key] == rule, key


def test_constraint_names_in_the_database_follow_the_models(migrated_app):
    """Names must match, or a later migration that drops a constraint by name breaks."""
    with migrated_app.app_context():
        inspector = sa.inspect(db.engine)
        for name, table in db.metadata.tables.items():
            expected = {c.name for c in table.constraints if isinstance(c, sa.CheckConstraint)}
            assert {c["name"] for c in inspector.get_check_constraints(name)} == expected, name
            expected = {c.name for c in table.foreign_key_constraints}
            assert {c["name"] for c in inspector.get_foreign_keys(name)} == expected, name
            expected = {ix.name for ix in table.indexes if built_on(ix, db.engine.dialect.name)}
            assert {ix["name"] for ix in own_indexes(inspector, name)} == expected, name
            expected = {c.name for c in table.constraints if isinstance(c, sa.UniqueConstraint)}
            assert {c["name"] for c in inspector.get_unique_constraints(name)} == expected, name


def test_plain_alembic_builds_the_app_itself(database_url):
    result = run_alembic("upgrade", "head", database_url=database_url)
    assert result.returncode == 0, result.stderr
    result = run_alembic("current", database_url=database_url)
    assert "(head)" in result.stdout


def test_alembic_settings_are_kept_once_in_pyproject(app):
    """migrations/alembic.ini names its folder only; every runner reads [tool.alembic]."""
    ini = configparser.RawConfigParser()
    ini.read(REPO_ROOT / "migrations" / "alembic.ini")
    assert ini.options("alembic") == ["script_location"]
    with app.app_context():
        config = app_alembic_config()  # what flask db uses
    assert config.toml_file_name == str(REPO_ROOT / "pyproject.toml")
    assert config.get_alembic_option("revision_environment") is True
    assert config.get_alembic_option("file_template") == "%(rev)s_%(slug)s"


def test_an_engine_handed_over_in_config_attributes_is_connected(app):
    """pytest-alembic hands over its engine, not a connection."""
    with app.app_context():
        config = app_alembic_config()
        config.attributes["connection"] = db.engine
        config.attributes["configure_logging"] = False
        command.upgrade(config, "001")
        assert current_revisions() == {"001"}


def test_a_connection_handed_over_in_config_attributes_is_used(app):
    with app.app_context(), db.engine.connect() as connection:
        config = Config(str(REPO_ROOT / "migrations" / "alembic.ini"))
        config.set_main_option("script_location", str(REPO_ROOT / "migrations"))
        config.attributes["connection"] = connection
        config.attributes["configure_logging"] = False
        command.upgrade(config, "001")
        connection.commit()
        version = connection.execute(sa.text("SELECT version_num FROM alembic_version"))
        assert version.scalar_one() == "001"
    with app.app_context():
        assert current_revisions() == {"001"}


def test_scripts_have_one_head_and_numbered_ids(app):
    with app.app_context():
        scripts = script_directory()
        assert len(scripts.get_heads()) == 1
        ids = [r.revision for r in scripts.walk_revisions()]
        assert all(i.isdigit() and len(i) == 3 for i in ids)
        assert sorted(ids) == [f"{n:03d}" for n in range(1, len(ids) + 1)]


def test_revisions_import_no_app_code():
    """A revision runs against the schema of its own time: importing today's models (or any
    app code) would break it when they change. env.py may; the revisions may not."""
    for path in sorted((REPO_ROOT / "migrations" / "versions").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            else:
                continue
            app_code = [m for m in modules if m.split(".")[0] in ("pixcrawler", "wsgi")]
            assert not app_code, f"{path.name} imports {app_code}"
