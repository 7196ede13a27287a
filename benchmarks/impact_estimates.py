"""How close are `flask db impact`'s estimates to what the statements really take?

Seeds PostgreSQL with images (`flask seed`), adds a scratch revision that rewrites `images`
(width int -> bigint) and builds a plain index on it, asks the real `flask db impact --json`
for its estimates, then runs each statement itself, timed, in a transaction that is rolled
back (so every round starts from the same table). Prints each statement's estimate beside its
measured time, for several rounds, then the machine (cores, load average), PostgreSQL's version
and settings, and the date. Goal: every rewrite and index-build estimate within 2x of the
measured time. With --spread, also a plain index on each of several columns, to show how the
estimate of an index build varies with the data.

Not a test: run it by hand when nothing else needs the machine (README has figures):

    .venv/bin/python benchmarks/impact_estimates.py --images 1000000

It creates and drops its own database on the server named by --server (default:
TEST_DATABASE_URL, else postgresql://postgres@127.0.0.1/postgres).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from harness import REPO_ROOT, flask_env  # benchmarks/ is on sys.path

from pixcrawler.database.urls import normalize_database_url

GOAL = 2.0
TIMED = ("rewrite", "index build")
REVISION = """\"\"\"widen image width and index it

Revision ID: {rev}
Revises: {down}
\"\"\"

import sqlalchemy as sa
from alembic import op

revision = {rev!r}
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade():
{body}


def downgrade():
    pass
"""
WIDEN_AND_INDEX = (
    "    op.alter_column('images', 'width', type_=sa.BigInteger(), existing_type=sa.Integer())\n"
    "    op.create_index('ix_images_downloaded_at', 'images', ['downloaded_at'])"
)
SPREAD_COLUMNS = (
    "format",
    "hash",
    "created_at",
    "downloaded_at",
    "file_size",
    "width",
    "original_url",
    "crawl_job_id",
)


def flask(database_url: str, migrations: Path | None, *args: str) -> subprocess.CompletedProcess:
    env = flask_env(database_url, "testing")
    if migrations is not None:
        env["PIXCRAWLER_MIGRATIONS_DIR"] = str(migrations)
    return subprocess.run(
        [sys.executable, "-m", "flask", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def scratch_migrations(folder: Path, body: str) -> Path:
    """A copy of migrations/ with one more revision after head, whose upgrade is `body`."""
    target = folder / "migrations"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(REPO_ROOT / "migrations", target, ignore=shutil.ignore_patterns("__pycache__"))
    heads = sorted(p.name.split("_", 1)[0] for p in (target / "versions").glob("[0-9]*.py"))
    down = heads[-1]
    rev = f"{int(down) + 1:03d}"
    source = REVISION.format(rev=rev, down=down, body=body)
    (target / "versions" / f"{rev}_bench.py").write_text(source)
    return target


def estimates(url: str, migrations: Path) -> tuple[list[dict], str]:
    """The statements of the pending revision, from the real command, and its notes."""
    result = flask(url, migrations, "db", "impact", "--json")
    if result.returncode != 0:
        sys.exit(f"flask db impact failed:\n{result.stderr}")
    (revision,) = json.loads(result.stdout)["revisions"]
    return revision["statements"], result.stderr.strip()


def measured(engine: sa.Engine, statements: list[dict]) -> list[float]:
    """Seconds each statement takes, in one transaction rolled back afterwards."""
    took = []
    with engine.connect() as connection, connection.begin() as transaction:
        for statement in statements:
            started = time.perf_counter()
            connection.exec_driver_sql(statement["sql"])
            took.append(time.perf_counter() - started)
        transaction.rollback()
    return took


def machine(engine: sa.Engine) -> list[str]:
    with engine.connect() as connection:
        version = connection.exec_driver_sql("SHOW server_version").scalar()
        settings = {
            name: connection.exec_driver_sql(f"SHOW {name}").scalar()
            for name in (
                "shared_buffers",
                "maintenance_work_mem",
                "max_parallel_maintenance_workers",
            )
        }
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return [
        f"date: {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}",
        f"machine: {os.cpu_count()} cores, load average {load}",
        f"PostgreSQL {version}; "
        + ", ".join(f"{name} {value}" for name, value in settings.items()),
    ]


def compare(url: str, engine: sa.Engine, migrations: Path, label: str) -> list[float]:
    """One round: estimates, then the real thing; returns the ratios of the timed work."""
    found, notes = estimates(url, migrations)
    took = measured(engine, found)
    print(f"\n{label}\n  {notes}")
    print(f"  {'work':12s} {'estimate':>9s} {'measured':>9s} {'ratio':>6s}  statement")
    ratios = []
    for statement, seconds in zip(found, took, strict=True):
        estimate = statement["estimated_seconds"]
        ratio = estimate / seconds if estimate is not None and seconds > 0 else None
        if statement["work"] in TIMED and ratio is not None:
            ratios.append(ratio)
        shown = "unknown" if estimate is None else f"{estimate:.2f} s"
        print(
            f"  {statement['work']:12s} {shown:>9s} {seconds:8.2f} s "
            f"{'' if ratio is None else f'{ratio:5.2f}x'}  {statement['sql'][:70]}"
        )
    return ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default_server = os.environ.get(
        "TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1/postgres"
    )
    parser.add_argument("--server", default=default_server, help="PostgreSQL server URL.")
    parser.add_argument("--images", type=int, default=1_000_000, help="Images to seed.")
    parser.add_argument("--rounds", type=int, default=3, help="Estimate-and-measure rounds.")
    parser.add_argument("--spread", action="store_true", help="Also a plain index per column.")
    parser.add_argument("--keep", action="store_true", help="Keep the benchmark database.")
    parser.add_argument("--reuse", help="URL of a database kept (--keep) by an earlier run.")
    args = parser.parse_args()
    server = sa.engine.make_url(normalize_database_url(args.server))
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    name = None
    if args.reuse:
        url = normalize_database_url(args.reuse)
    else:
        name = f"pixcrawler_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        url = server.set(database=name).render_as_string(hide_password=False)
    engine = sa.create_engine(url, pool_size=1)
    try:
        run(url, engine, args, seed=not args.reuse)
    finally:
        engine.dispose()
        if name and not args.keep:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def run(url: str, engine: sa.Engine, args: argparse.Namespace, seed: bool) -> None:
    before = machine(engine)
    if seed:
        print(f"seeding {args.images:,} images …", flush=True)
        for step in (("db", "upgrade"), ("seed", "--images", str(args.images))):
            result = flask(url, None, *step)
            if result.returncode != 0:
                sys.exit(f"flask {' '.join(step)} failed:\n{result.stderr}")
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")  # as autovacuum would have by now
    with tempfile.TemporaryDirectory() as folder:
        migrations = scratch_migrations(Path(folder), WIDEN_AND_INDEX)
        ratios = []
        for round_ in range(1, args.rounds + 1):
            ratios += compare(url, engine, migrations, f"round {round_}")
        spread = []
        if args.spread:
            for column in SPREAD_COLUMNS:
                body = f"    op.create_index('ix_bench_{column}', 'images', [{column!r}])"
                migrations = scratch_migrations(Path(folder), body)
                spread += compare(url, engine, migrations, f"plain index on images.{column}")
    within = all(1 / GOAL <= r <= GOAL for r in ratios)
    print(
        f"\nrewrite and index-build estimates / measured: {', '.join(f'{r:.2f}' for r in ratios)}"
    )
    print(f"goal (each within {GOAL:g}x of the measured time): {'met' if within else 'missed'}")
    if spread:
        print(f"plain index per column, estimate / measured: {min(spread):.2f}-{max(spread):.2f}")
    print("\n".join(["", "before:", *before, "after:", *machine(engine)]))


if __name__ == "__main__":
    main()
