"""How fast does `flask seed` fill a database with a million images?

Goal (issue 3): `flask seed --images 1000000` finishes well under a minute on PostgreSQL, where
it streams rows with COPY. SQLite (executemany batches) is measured too for comparison.

Not a test: run it by hand on a quiet machine (README, "Benchmarks", has figures):

    .venv/bin/python benchmarks/seed_speed.py --images 1000000
    .venv/bin/python benchmarks/seed_speed.py --images 1000000 --backend sqlite

It runs the real `flask db upgrade` and `flask seed` in subprocesses against a database of its
own (created and dropped on the server named by --server, default TEST_DATABASE_URL, else
postgresql://postgres@127.0.0.1/postgres; a temporary file for SQLite), and prints the wall
time, images per second and the seed process's peak memory.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from pixcrawler.database.urls import normalize_database_url

REPO_ROOT = Path(__file__).resolve().parent.parent
GOAL_SECONDS = 60.0


def run_flask(*args: str, database_url: str) -> tuple[float, float, str]:
    """Run `flask ARGS`; (seconds, that process's peak RSS in MB, stdout). Exits on failure."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_")}
    env.update({"DATABASE_URL": database_url, "PIXCRAWLER_ENV": "development"})
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", *args], cwd=REPO_ROOT, env=env, stdout=out, stderr=err
        )
        # wait4 gives this child's own resource usage, not a maximum over all children.
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        elapsed = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        if process.returncode:
            sys.exit(f"flask {' '.join(args)} failed:\n{err.read()}")
        return elapsed, usage.ru_maxrss / 1024, out.read()


@contextmanager
def scratch_database(backend: str, server: str) -> Iterator[str]:
    """A new empty database, dropped afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/seed.sqlite3"
        return
    admin = sa.create_engine(normalize_database_url(server), isolation_level="AUTOCOMMIT")
    name = f"pixcrawler_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1_000_000, help="Images to seed.")
    parser.add_argument("--backend", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument(
        "--server",
        default=os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1/postgres"),
        help="PostgreSQL server to create the scratch database on.",
    )
    args = parser.parse_args()
    with scratch_database(args.backend, args.server) as url:
        run_flask("db", "upgrade", database_url=url)
        seconds, peak_mb, output = run_flask(
            "seed", "--images", str(args.images), database_url=url
        )
    rate = args.images / seconds if seconds else 0
    print(output.strip())
    print(
        f"flask seed --images {args.images} on {args.backend}: {seconds:.1f} s wall "
        f"({rate:,.0f} images/s), peak RSS {peak_mb:.0f} MB"
    )
    try:
        load = os.getloadavg()[0]
        print(f"load average while measuring: {load:.1f} on {os.cpu_count()} CPUs")
    except OSError:
        pass
    if args.backend == "postgresql" and args.images >= 1_000_000:
        verdict = "met" if seconds < GOAL_SECONDS else "MISSED"
        print(f"goal (< {GOAL_SECONDS:.0f} s for a million on PostgreSQL): {verdict}")


if __name__ == "__main__":
    main()
