"""How the comparison treats the PostgreSQL server: it writes out the models' side in temporary
tables that do not outlive it, and a session that may not create them gets no false alarm."""

from __future__ import annotations

import logging
import uuid

import pytest
import sqlalchemy as sa

from pixcrawler.extensions import db
from pixcrawler.migrator.drift import schema_drift

pytestmark = pytest.mark.only_backend("postgresql")


def test_the_temporary_tables_do_not_outlive_the_comparison(migrated_app):
    with migrated_app.app_context(), db.engine.connect() as connection:
        assert schema_drift(connection) == []
        left = connection.execute(
            sa.text("SELECT count(*) FROM pg_class WHERE relname LIKE 'pixcrawler_model_%'")
        ).scalar()
    assert left == 0


@pytest.fixture
def role_without_temp(migrated_app, postgres):
    """A login role that may read the schema but not create temporary tables."""
    name = f"pixcrawler_test_{uuid.uuid4().hex[:8]}"
    with migrated_app.app_context():
        database = db.engine.url.database
    with postgres.admin.connect() as admin:
        admin.exec_driver_sql(f'CREATE ROLE "{name}" LOGIN')
        admin.exec_driver_sql(f'REVOKE TEMPORARY ON DATABASE "{database}" FROM PUBLIC')
    yield name
    with postgres.admin.connect() as admin:
        admin.exec_driver_sql(f'GRANT TEMPORARY ON DATABASE "{database}" TO PUBLIC')
        admin.exec_driver_sql(f'DROP OWNED BY "{name}"')
        admin.exec_driver_sql(f'DROP ROLE "{name}"')


def test_without_the_temp_privilege_nothing_is_called_different(
    migrated_app, role_without_temp, caplog
):
    with migrated_app.app_context():
        engine = sa.create_engine(db.engine.url.set(username=role_without_temp, password=None))
        try:
            with engine.connect() as connection, caplog.at_level(logging.WARNING):
                assert schema_drift(connection) == []
        finally:
            engine.dispose()
    assert "not compared: the server cannot write out the models' side" in caplog.text


# SQLAlchemy 2.1 warns while reflecting a NOT VALID CHECK into a Table (Alembic does that for
# every table it compares): it passes the reflected dialect_options on as an argument.
@pytest.mark.filterwarnings("ignore:Can't validate argument 'dialect_options'")
def test_a_check_left_not_valid_is_a_difference(migrated_app):
    """An interrupted `op.replace_check_constraint` leaves the new CHECK NOT VALID: rows from
    before it were never checked, though the models say every row obeys."""
    with migrated_app.app_context():
        with db.engine.begin() as connection:
            connection.exec_driver_sql(
                "ALTER TABLE crawl_jobs DROP CONSTRAINT ck_crawl_jobs_max_images_positive, "
                "ADD CONSTRAINT ck_crawl_jobs_max_images_positive CHECK (max_images > 0) NOT VALID"
            )
        try:
            with db.engine.connect() as connection:
                assert schema_drift(connection) == [
                    "crawl_jobs.max_images: CHECK ck_crawl_jobs_max_images_positive is valid in "
                    "the models, NOT VALID in the database (rows from before it were never "
                    "checked)"
                ]
        finally:
            with db.engine.begin() as connection:
                connection.exec_driver_sql(
                    "ALTER TABLE crawl_jobs VALIDATE CONSTRAINT ck_crawl_jobs_max_images_positive"
                )
