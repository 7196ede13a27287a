"""How long do writers stall while `flask db upgrade` runs on a big PostgreSQL database?

A migration that waits for, or holds, a strong lock on a hot table makes every writer queue
behind it. This benchmark seeds a database with a million images (`flask seed`), then, for
each round, brings it back to revision 001 and keeps a writer busy with three kinds of short
transactions: inserting an image, bumping a crawl job's counter, and updating a profile. The
writer runs first with no migration (A), then while `flask db upgrade` takes the database
from 001 to head (B); rounds alternate A B A B, so both phases see the same machine. Between
001 and head, 004 adds a NOT NULL column and a CHECK to `profiles` (ACCESS EXCLUSIVE, briefly)
and builds an index on `images` CONCURRENTLY; 005 creates `admin_sessions`.

It prints, per round and over all rounds, the writer's median, p99 and max latency in each
phase, the worst write during each migration step, and what the slowest writes waited on
(sampled from pg_stat_activity every 5 ms). Goal: the worst insert during the upgrade stays
under 100 ms. The figures are warm: the writer runs for a second before timing starts, and
the table was just seeded and VACUUMed, so its pages are in memory.

Not a test: run it by hand (README, "Migrations in production", has figures):

    .venv/bin/python benchmarks/migration_writer_latency.py --images 1000000

It creates and drops its own database on the server named by --server (default:
TEST_DATABASE_URL, else postgresql://postgres@127.0.0.1/postgres).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field

import sqlalchemy as sa
from harness import DEFAULT_SERVER, REPO_ROOT, flask_env, print_footer, print_header

from pixcrawler.database.urls import normalize_database_url

GOAL_MS = 100.0
KINDS = ("insert", "update", "profile")  # image insert, crawl-job update, profile update

images = sa.table(
    "images",
    sa.column("crawl_job_id"),
    sa.column("original_url"),
    sa.column("filename"),
    sa.column("hash"),
    sa.column("format"),
)
crawl_jobs = sa.table("crawl_jobs", sa.column("id"), sa.column("downloaded_images"))
UPDATE_PROFILE = sa.text("UPDATE profiles SET full_name = :name WHERE id = CAST(:id AS uuid)")


@dataclass
class Latencies:
    """(started at, milliseconds) per kind of write, for one phase."""

    samples: dict[str, list[tuple[float, float]]] = field(
        default_factory=lambda: {kind: [] for kind in KINDS}
    )

    def add(self, other: Latencies) -> None:
        for kind in KINDS:
            self.samples[kind] += other.samples[kind]

    def summary(self, kind: str, since: float = -1, until: float = float("inf")):
        """(count, median, p99, max) of the writes of `kind` that started in [since, until)."""
        values = sorted(ms for at, ms in self.samples[kind] if since <= at < until)
        if not values:
            return 0, 0.0, 0.0, 0.0
        p99 = values[min(len(values) - 1, round(0.99 * (len(values) - 1)))]
        return len(values), statistics.median(values), p99, values[-1]


class Writer(threading.Thread):
    """Insert an image, bump a crawl job's counter, update a profile: each its own transaction,
    in a loop, with a short pause (a busy but not saturating application)."""

    def __init__(self, engine: sa.Engine, job_ids: list[int], profile_ids: list[str]):
        super().__init__(name="writer", daemon=True)
        self.engine = engine
        self.job_ids = job_ids
        self.profile_ids = profile_ids
        self.latencies = Latencies()
        self.stopped = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        n = 0
        try:
            while not self.stopped.is_set():
                job = self.job_ids[n % len(self.job_ids)]
                profile = self.profile_ids[n % len(self.profile_ids)]
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
                self._timed("profile", UPDATE_PROFILE, {"name": f"writer {n}", "id": profile})
                time.sleep(0.002)
        except BaseException as exc:  # reported by the main thread
            self.error = exc

    def _timed(self, kind: str, statement, parameters=None) -> None:
        started = time.perf_counter()
        with self.engine.begin() as connection:
            connection.execute(statement, parameters)  # the session is named, see WaitMonitor
        self.latencies.samples[kind].append((started, (time.perf_counter() - started) * 1000))

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
    env = flask_env(database_url, "testing")
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
            step = line.split("Running upgrade", 1)[1].split(",", 1)[0].strip()
            steps.append((time.perf_counter(), step))
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


@dataclass
class Round:
    """One A B pair: the writer alone, then during the upgrade."""

    alone: Latencies
    upgrading: Latencies
    upgrade_seconds: float
    steps: list[tuple[float, str]]
    waits: list[tuple[float, str]]


def writer_phase(engine, job_ids, profile_ids, during=None, seconds: float = 0) -> Latencies:
    """Run the writer while `during()` runs (or for `seconds`)."""
    writer = Writer(engine, job_ids, profile_ids)
    writer.start()
    time.sleep(1.0)  # warm up the pool and the caches before measuring what matters
    writer.latencies = Latencies()
    if during is not None:
        during()
    else:
        time.sleep(seconds)
    return writer.stop()


def one_round(url: str, engine: sa.Engine, args: argparse.Namespace) -> Round:
    flask(url, "db", "downgrade", "001")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE")  # as autovacuum would have by now
    with engine.begin() as connection:
        job_ids = list(connection.execute(sa.text("SELECT id FROM crawl_jobs")).scalars())
        profile_ids = list(
            connection.execute(sa.text("SELECT CAST(id AS text) FROM profiles")).scalars()
        )
    writer_engine = sa.create_engine(
        url, pool_size=1, connect_args={"application_name": "bench-writer"}
    )
    try:
        alone = writer_phase(writer_engine, job_ids, profile_ids, seconds=args.baseline_seconds)
        took: list[float] = []
        steps: list[tuple[float, str]] = []
        monitor = WaitMonitor(engine)
        monitor.start()
        upgrading = writer_phase(
            writer_engine,
            job_ids,
            profile_ids,
            during=lambda: took.append(flask(url, "db", "upgrade", steps=steps)),
        )
        waits = monitor.stop()
    finally:
        writer_engine.dispose()
    return Round(alone, upgrading, took[0], steps, waits)


def print_phases(alone: Latencies, upgrading: Latencies) -> None:
    print(f"  {'write':<9}{'phase':<22}{'ops':>7}{'median ms':>11}{'p99 ms':>9}{'max ms':>9}")
    for kind in KINDS:
        for name, latencies in (("no migration", alone), ("during the upgrade", upgrading)):
            count, median, p99, worst = latencies.summary(kind)
            print(f"  {kind:<9}{name:<22}{count:>7}{median:>11.2f}{p99:>9.2f}{worst:>9.2f}")


def print_steps(round_: Round) -> None:
    """The worst write of each kind that started during each migration step."""
    print(f"  {'during':<24}" + "".join(f"{'max ' + kind + ' ms':>18}" for kind in KINDS))
    bounds = [(-1.0, "(flask starting)"), *round_.steps]
    for i, (since, name) in enumerate(bounds):
        until = bounds[i + 1][0] if i + 1 < len(bounds) else float("inf")
        cells = []
        for kind in KINDS:
            count, _, _, worst = round_.upgrading.summary(kind, since, until)
            cells.append(f"{worst:>10.1f} ({count:>4})" if count else f"{'-':>17}")
        print(f"  {name:<24}" + "".join(f"{cell:>18}" for cell in cells))


def print_slowest(round_: Round, count: int = 5) -> None:
    """The slowest writes during the upgrade, the step running then and what they waited on."""
    samples = round_.upgrading.samples
    worst = sorted(((ms, at, k) for k in KINDS for at, ms in samples[k]), reverse=True)[:count]
    locked = [
        ms
        for kind in KINDS
        for at, ms in samples[kind]
        if any(at <= t <= at + ms / 1000 and e.startswith("Lock:") for t, e in round_.waits)
    ]
    worst_locked = f", worst {max(locked):.1f} ms" if locked else ""
    print(f"  writes seen waiting on a lock during the upgrade: {len(locked)}{worst_locked}")
    for ms, at, kind in worst:
        running = [name for started, name in round_.steps if started <= at]
        seen = sorted({e for t, e in round_.waits if at <= t <= at + ms / 1000})
        step = running[-1] if running else "(flask starting)"
        print(f"    {kind:<8}{ms:8.1f} ms during {step}; waited on: {', '.join(seen) or '-'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default=DEFAULT_SERVER, help="PostgreSQL server URL.")
    parser.add_argument("--images", type=int, default=1_000_000, help="Images to seed.")
    parser.add_argument("--rounds", type=int, default=3, help="A B pairs, interleaved.")
    parser.add_argument("--baseline-seconds", type=float, default=15, help="Writer-only phase.")
    parser.add_argument("--keep", action="store_true", help="Keep the benchmark database.")
    parser.add_argument("--reuse", help="URL of a database kept (--keep) by an earlier run.")
    args = parser.parse_args()
    watch = print_header(
        f"writer latency during flask db upgrade 001 -> head, {args.rounds} rounds",
        args.reuse or args.server,
    )
    if args.reuse:
        url = normalize_database_url(args.reuse)
        run(url, args, seed=False)
    else:
        server = sa.engine.make_url(normalize_database_url(args.server))
        name = f"pixcrawler_bench_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            run(server.set(database=name).render_as_string(hide_password=False), args, seed=True)
        finally:
            if not args.keep:
                with admin.connect() as connection:
                    connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()
    print_footer(watch)


def run(url: str, args: argparse.Namespace, seed: bool) -> None:
    """Seed (or reuse), then the rounds, then what they add up to."""
    engine = sa.create_engine(url, pool_size=2)
    try:
        if seed:
            print(f"  seeding {args.images} images …", flush=True)
            flask(url, "db", "upgrade")
            print(f"  seeded in {flask(url, 'seed', '--images', str(args.images)):.0f} s")
        rounds = []
        for number in range(1, args.rounds + 1):
            round_ = one_round(url, engine, args)
            rounds.append(round_)
            took = round_.upgrade_seconds
            print(f"\nround {number}: flask db upgrade 001 -> head took {took:.1f} s")
            print_phases(round_.alone, round_.upgrading)
            print_steps(round_)
            print_slowest(round_)
    finally:
        engine.dispose()
    alone, upgrading = Latencies(), Latencies()
    for round_ in rounds:
        alone.add(round_.alone)
        upgrading.add(round_.upgrading)
    print(f"\nall {len(rounds)} rounds:")
    print_phases(alone, upgrading)
    worst = [r.upgrading.summary("insert")[3] for r in rounds]
    shown = ", ".join(f"{w:.1f}" for w in worst)
    verdict = "met" if max(worst) < GOAL_MS else "MISSED"
    print(f"worst insert during each upgrade: {shown} ms (goal < {GOAL_MS:g} ms: {verdict})")


if __name__ == "__main__":
    main()
