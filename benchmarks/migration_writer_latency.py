"""How long do writers stall while `flask db upgrade` runs on a big PostgreSQL database?

A migration that waits for, or holds, a strong lock on a hot table makes every writer queue
behind it. This benchmark seeds a database with a million images (`flask seed`), brings it back
to revision 001, then keeps a writer busy inserting images and updating crawl jobs, first with
no migration running, then while `flask db upgrade` takes it from 001 to head (004 builds an
index on images CONCURRENTLY and adds a NOT NULL column to profiles). It prints the writer's
median, p99 and max latency for both phases. Goal: the worst insert during the upgrade stays
under 100 ms.

Not a test: run it by hand on a quiet machine (README, "Migrations in production", has figures):

    .venv/bin/python benchmarks/migration_writer_latency.py --images 1000000

It creates and drops its own database on the server named by --server (default:
TEST_DATABASE_URL, else postgresql://postgres@127.0.0.1/postgres).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from pixcrawler.database.urls import normalize_database_url

REPO_ROOT = Path(__file__).resolve().parent.parent
GOAL_MS = 100.0

images = sa.table(
    "images",
    sa.column("crawl_job_id"),
    sa.column("original_url"),
    sa.column("filename"),
    sa.column("hash"),
    sa.column("format"),
)
crawl_jobs = sa.table("crawl_jobs", sa.column("id"), sa.column("downloaded_images"))


@dataclass
class Latencies:
    """(finished at, milliseconds) per operation kind, for one phase."""

    samples: dict[str, list[tuple[float, float]]] = field(
        default_factory=lambda: {"insert": [], "update": []}
    )

    def summary(self, kind: str) -> tuple[int, float, float, float]:
        values = sorted(ms for _, ms in self.samples[kind])
        if not values:
            return 0, 0.0, 0.0, 0.0
        p99 = values[min(len(values) - 1, round(0.99 * (len(values) - 1)))]
        return len(values), statistics.median(values), p99, values[-1]


class Writer(threading.Thread):
    """Insert an image, then bump a crawl job's counter, each its own transaction, in a loop."""

    def __init__(self, engine: sa.Engine, job_ids: list[int]):
        super().__init__(name="writer", daemon=True)
        self.engine = engine
        self.job_ids = job_ids
        self.latencies = Latencies()
        self.stopped = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        n = 0
        try:
            while not self.stopped.is_set():
                job = self.job_ids[n % len(self.job_ids)]
                n += 1
                self._timed("insert", images.insert().values(
                    crawl_job_id=job,
                    original_url=f"https://bench.example.com/{n}.jpg",
                    filename=f"bench_{n}.jpg",
                    hash=uuid.uuid4().hex,
                    format="jpg",
                ))  # fmt: skip
                self._timed(
                    "update",
                    crawl_jobs.update()
                    .where(crawl_jobs.c.id == job)
                    .values(downloaded_images=crawl_jobs.c.downloaded_images + 1),
                )
                time.sleep(0.002)  # a busy but not saturating writer
        except BaseException as exc:  # reported by the main thread
            self.error = exc

    def _timed(self, kind: str, statement) -> None:
        started = time.perf_counter()
        with self.engine.begin() as connection:
            connection.execute(statement)  # the session is named, see WaitMonitor
        now = time.perf_counter()
        self.latencies.samples[kind].append((now, (now - started) * 1000))

    def stop(self) -> Latencies:
        self.stopped.set()
        self.join()
        if self.error is not None:
            raise RuntimeError(f"writer failed: {self.error}") from self.error
        return self.latencies


def flask(database_url: str, *args: str, steps: list | None = None) -> float:
    """Run `flask ARGS` on the benchmark database; returns seconds taken, exits on failure.

    With `steps`, each "Running upgrade" line is appended to it with the time it was printed.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "PIXCRAWLER_"))}
    env.update({"DATABASE_URL": database_url, "PIXCRAWLER_ENV": "testing"})
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", *args],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines = []
    for line in process.stderr:
        lines.append(line)
        if steps is not None and "Running upgrade" in line:
            steps.append((time.perf_counter(), line.split("Running upgrade", 1)[1].strip()))
    if process.wait() != 0:
        sys.exit(f"flask {' '.join(args)} failed:\n{''.join(lines)}")
    return time.perf_counter() - started


class WaitMonitor(threading.Thread):
    """Samples what the writer's session waits on (Lock, LWLock, IO, …) every few ms."""

    def __init__(self, engine: sa.Engine):
        super().__init__(name="wait-monitor", daemon=True)
        self.engine = engine
        self.waits: list[tuple[float, str]] = []
        self.stopped = threading.Event()

    def run(self) -> None:
        query = sa.text(
            "SELECT wait_event_type || ':' || wait_event FROM pg_stat_activity "
            "WHERE application_name = 'bench-writer' AND state = 'active' "
            "AND wait_event_type IN ('Lock', 'LWLock', 'IO', 'IPC')"
        )
        with self.engine.connect() as connection:
            connection.exec_driver_sql("SET application_name = 'bench-monitor'")
            while not self.stopped.wait(0.005):
                for (event,) in connection.execute(query):
                    self.waits.append((time.perf_counter(), event))
                connection.rollback()

    def stop(self) -> list[tuple[float, str]]:
        self.stopped.set()
        self.join()
        return self.waits


def phase(engine: sa.Engine, job_ids: list[int], during=None, seconds: float = 0) -> Latencies:
    """Run the writer while `during()` runs (or for `seconds`)."""
    writer = Writer(engine, job_ids)
    writer.start()
    time.sleep(1.0)  # warm up the pool and the caches before measuring what matters
    writer.latencies = Latencies()
    if during is not None:
        during()
    else:
        time.sleep(seconds)
    return writer.stop()


def slowest(migrating: Latencies, steps: list, waits: list, count: int = 5) -> None:
    """The worst writer operations during the upgrade, with the migration running at the time
    and what the writer's session was seen waiting on meanwhile."""
    worst = sorted(
        ((ms, at, kind) for kind, samples in migrating.samples.items() for at, ms in samples),
        reverse=True,
    )[:count]
    locked = [
        ms
        for samples in migrating.samples.values()
        for at, ms in samples
        if any(at - ms / 1000 <= t <= at and e.startswith("Lock:") for t, e in waits)
    ]
    worst_locked = f"worst {max(locked):.1f} ms" if locked else "none"
    print(f"\nwrites seen waiting on a lock during the upgrade: {len(locked)}, {worst_locked}")
    print("slowest writer operations during the upgrade:")
    for ms, at, kind in worst:
        running = [name for started, name in steps if started <= at]
        seen = sorted({event for t, event in waits if at - ms / 1000 <= t <= at})
        step = running[-1] if running else "(before the first migration)"
        print(f"  {kind:<7}{ms:8.1f} ms  during {step}; waited on: {', '.join(seen) or '-'}")


def report(baseline: Latencies, migrating: Latencies, upgrade_seconds: float) -> None:
    print(f"\nflask db upgrade 001 -> head took {upgrade_seconds:.1f} s")
    print(f"{'writer op':<10}{'phase':<22}{'ops':>8}{'median ms':>12}{'p99 ms':>10}{'max ms':>10}")
    for kind in ("insert", "update"):
        for name, latencies in (("no migration", baseline), ("during the upgrade", migrating)):
            count, median, p99, worst = latencies.summary(kind)
            print(f"{kind:<10}{name:<22}{count:>8}{median:>12.2f}{p99:>10.2f}{worst:>10.2f}")
    worst_insert = migrating.summary("insert")[3]
    verdict = "met" if worst_insert < GOAL_MS else "MISSED"
    goal = f"goal < {GOAL_MS:g} ms: {verdict}"
    print(f"\nworst insert during the upgrade: {worst_insert:.1f} ms ({goal})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default_server = os.environ.get(
        "TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1/postgres"
    )
    parser.add_argument("--server", default=default_server, help="PostgreSQL server URL.")
    parser.add_argument("--images", type=int, default=1_000_000, help="Images to seed.")
    parser.add_argument("--baseline-seconds", type=float, default=20, help="Writer-only phase.")
    parser.add_argument("--keep", action="store_true", help="Keep the benchmark database.")
    parser.add_argument("--reuse", help="URL of a database kept (--keep) by an earlier run.")
    args = parser.parse_args()
    if args.reuse:
        url = normalize_database_url(args.reuse)
        run(url, sa.create_engine(url, pool_size=2), args, seed=False)
        return

    server = sa.engine.make_url(normalize_database_url(args.server))
    name = f"pixcrawler_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = server.set(database=name).render_as_string(hide_password=False)
    engine = sa.create_engine(url, pool_size=2)
    try:
        run(url, engine, args, seed=True)
    finally:
        engine.dispose()
        if not args.keep:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def run(url: str, engine: sa.Engine, args: argparse.Namespace, seed: bool) -> None:
    """Seed (or reuse), go back to 001, measure the writer alone, then during the upgrade."""
    name = sa.engine.make_url(url).database
    if seed:
        print(f"database {name}: seeding {args.images} images …", flush=True)
        flask(url, "db", "upgrade")
        seeded = flask(url, "seed", "--images", str(args.images))
        print(f"seeded in {seeded:.0f} s", flush=True)
    print("back to revision 001 …", flush=True)
    flask(url, "db", "downgrade", "001")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE")  # as autovacuum would have by now
    with engine.begin() as connection:
        job_ids = list(connection.execute(sa.text("SELECT id FROM crawl_jobs")).scalars())
        count = connection.execute(sa.text("SELECT count(*) FROM images")).scalar()
    print(f"{count} images, {len(job_ids)} crawl jobs; writer without a migration …")
    writer_engine = sa.create_engine(
        url, pool_size=1, connect_args={"application_name": "bench-writer"}
    )
    try:
        baseline = phase(writer_engine, job_ids, seconds=args.baseline_seconds)
        print("writer during flask db upgrade …", flush=True)
        took: list[float] = []
        steps: list[tuple[float, str]] = []
        monitor = WaitMonitor(engine)
        monitor.start()
        migrating = phase(
            writer_engine,
            job_ids,
            during=lambda: took.append(flask(url, "db", "upgrade", steps=steps)),
        )
        waits = monitor.stop()
    finally:
        writer_engine.dispose()
    report(baseline, migrating, took[0])
    slowest(migrating, steps, waits)


if __name__ == "__main__":
    main()
