"""The repository's own revisions, analysed as `flask db impact` analyses them before a deploy,
get the verdicts README gives them ("What a revision will do"), on both backends: 001 onwards
from an empty database, and 004 onwards again on a database with data, whose sizes the
PostgreSQL catalog gives. Every revision must be in README's table."""

from __future__ import annotations

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from pixcrawler.extensions import db
from pixcrawler.migrator.impact.analysis import analyse
from pixcrawler.migrator.impact.locks import Lock
from tests.commands.cli_helpers import revision_ids
from tests.test_readme import table_rows

README_TABLE = "| Revision | `flask db impact` says (004 to 006 on a database with data) |"


def readme_verdicts() -> dict[str, str]:
    return {row[0].strip("`"): row[1] for row in table_rows(README_TABLE)}


def test_every_revision_gets_the_verdict_readme_gives_it(app, backend):
    with app.app_context():
        from_nothing = {r.id: r.verdict for r in analyse().revisions}
        upgrade()
        db.engine.dispose()
    seeded = app.test_cli_runner().invoke(args=["seed", "--images", "3000"])
    assert seeded.exit_code == 0, seeded.output
    with app.app_context():
        downgrade(revision="003")
        if backend == "postgresql":  # as autovacuum would have by now
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.exec_driver_sql("VACUUM ANALYZE")
        report = analyse()
        db.engine.dispose()
    assert list(from_nothing) == revision_ids()
    with_data = {r.id: r for r in report.revisions}
    assert list(with_data) == revision_ids()[3:]
    verdicts = {**from_nothing, **{k: r.verdict for k, r in with_data.items()}}
    assert verdicts == readme_verdicts()
    # README: 004 is safe for writers. The one lock that would stop them, ACCESS EXCLUSIVE on
    # profiles, only covers catalog changes; the index on images is built under SHARE UPDATE
    # EXCLUSIVE, which lets writes through.
    locks = {
        (table.name, table.lock, statement.work)
        for statement in with_data["004"].statements
        for table in statement.tables
    }
    assert locks == {
        ("profiles", Lock.ACCESS_EXCLUSIVE, "catalog"),
        ("images", Lock.SHARE_UPDATE_EXCLUSIVE, "index build"),
        ("images", Lock.SHARE_UPDATE_EXCLUSIVE, "catalog"),
        ("profiles", Lock.SHARE_UPDATE_EXCLUSIVE, "scan"),
    }
    images = next(t for s in with_data["004"].statements for t in s.tables if t.name == "images")
    assert images.rows == (3000 if backend == "postgresql" else None)
    if backend == "postgresql":
        engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
        with engine.connect() as connection:
            size = connection.scalar(sa.text("SELECT pg_total_relation_size('images')"))
        engine.dispose()
        assert images.bytes == size
