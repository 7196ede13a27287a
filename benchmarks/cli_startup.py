"""Does `flask db …` start as fast as a stock Flask-Migrate app? (issue 9)

Goal: every `flask db` command takes at most 1.0x the time of the same command of a stock
Flask-Migrate app on the same PostgreSQL database. The stock app is
`benchmarks/stock_flask_migrate.py`: Flask, Flask-SQLAlchemy, `Migrate(app, db)` and
`pixcrawler.models`, nothing else, with Flask-Migrate's own template env.py.

Not a test: run it by hand, on a machine as quiet as you can get (README, "Benchmarks", has
the figures):

    .venv/bin/python benchmarks/cli_startup.py

It makes a PostgreSQL database of its own on --server (default TEST_DATABASE_URL), brings it
to head with the project's `flask db upgrade`, and builds the stock app's migrations folder
with the stock app's own `flask db init`, its `versions/` replaced by a link to the
repository's `migrations/versions`: both apps read the same revisions, and the stock one runs
them through Flask-Migrate's template env.py, untouched. Then, for each command, it runs three
`flask` processes in turn, A B C A B C …, one warm-up round and --pairs timed rounds, each
started from the repository root as a user types it:

- A, the project as shipped: `flask …` (Flask finds `wsgi.py`);
- B, the same app without `wsgi.py`'s garbage-collector handling: `flask --app pixcrawler …`
  (the factory itself), to show what that handling is worth;
- C, the stock app: `flask --app benchmarks/stock_flask_migrate.py:app …`.

    project                 stock app                              what runs
    flask db current        flask db current                       the app, env.py, a read
    flask db heads          flask db heads                         the app, the scripts
    flask db history        flask db history                       the app, the scripts
    flask db upgrade        flask db upgrade                       env.py at head: no work
    flask db check          flask db check                         env.py, a comparison
    flask --help            flask --help                           the app, its commands
    flask showmigrations    flask db history --indicate-current    the app, env.py, a read

Flask-Migrate has no showmigrations; `history --indicate-current` is its command that lists
the revisions and reads the current one. The project's `db upgrade` takes the runner lock and
its `db check` also compares CHECK constraints and server defaults, which the stock app does
not. Both apps pay for Flask-Limiter, which Flask loads as a `flask.commands` plugin in this
virtualenv.

Wall time is measured around each process; CPU time is the child's user + system time (from
wait4), which neighbours on a shared machine disturb less. It prints the medians, their ratio
to the stock app's, the machine (CPUs, load average before and after), PostgreSQL's version
and the date.

Bytecode: this machine sets PYTHONDONTWRITEBYTECODE, so every module outside site-packages
would be compiled from source in every run. By default all three run as after a normal
install instead: bytecode cached (PYTHONPYCACHEPREFIX, a temporary folder, filled by the
warm-up round). `--no-bytecode-cache` compiles every time, for all three alike.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import postgres_version, scratch_database  # benchmarks/ is on sys.path

REPO_ROOT = Path(__file__).resolve().parent.parent
FLASK = str(Path(sys.executable).with_name("flask"))
GOAL = 1.0

# Who runs each command: the arguments before the command's own.
VARIANTS = {
    "project": [],
    "without gc.freeze": ["--app", "pixcrawler"],
    "stock": ["--app", "benchmarks/stock_flask_migrate.py:app"],
}

# (label, the project's arguments, the stock app's arguments)
COMMANDS = [
    ("flask db current", ["db", "current"], ["db", "current"]),
    ("flask db heads", ["db", "heads"], ["db", "heads"]),
    ("flask db history", ["db", "history"], ["db", "history"]),
    ("flask db upgrade", ["db", "upgrade"], ["db", "upgrade"]),
    ("flask db check", ["db", "check"], ["db", "check"]),
    ("flask --help", ["--help"], ["--help"]),
    ("flask showmigrations", ["showmigrations"], ["db", "history", "--indicate-current"]),
]
# Commands whose output must be the same from every variant (a check that all ran alike).
SAME_OUTPUT = {"flask db current", "flask db heads", "flask db history"}


def run(arguments: list[str], env: dict[str, str], variant: str) -> tuple[float, float, str]:
    """One `flask` process: (wall seconds, CPU seconds, its stdout). Exits if it fails."""
    command = [FLASK, *VARIANTS[variant], *arguments]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        if os.waitstatus_to_exitcode(status):
            sys.exit(f"{' '.join(command)} failed:\n{err.read()}")
        return wall, usage.ru_utime + usage.ru_stime, out.read()


def environment(database_url: str, stock_migrations: Path, pycache: Path | None) -> dict:
    """The same environment for both apps: no FLASK_/PIXCRAWLER_ settings of the caller's."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("FLASK_", "PIXCRAWLER_", "PYTHONPYCACHEPREFIX"))
    }
    env.update(
        DATABASE_URL=database_url,
        PIXCRAWLER_ENV="development",
        STOCK_MIGRATIONS=str(stock_migrations),
    )
    if pycache is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def stock_migrations_folder(folder: Path, env: dict[str, str]) -> None:
    """The stock app's `flask db init`, with the repository's revisions as its versions/."""
    run(["db", "init", "-d", str(folder)], env, "stock")
    shutil.rmtree(folder / "versions")
    (folder / "versions").symlink_to(REPO_ROOT / "migrations" / "versions")


def measure(pairs: int, env: dict[str, str]) -> dict[str, dict[str, dict[str, list[float]]]]:
    """times[command][variant] = {"wall": [...], "cpu": [...]}, in seconds."""
    times: dict[str, dict[str, dict[str, list[float]]]] = {}
    for label, ours, theirs in COMMANDS:
        arguments = {variant: ours for variant in VARIANTS} | {"stock": theirs}
        # Warm-up round: bytecode caches, the disk cache; and all must answer alike.
        outputs = {run(arguments[v], env, v)[2] for v in VARIANTS}
        if label in SAME_OUTPUT and len(outputs) > 1:
            sys.exit(f"{label}: the apps disagree: {outputs!r}")
        result = times[label] = {v: {"wall": [], "cpu": []} for v in VARIANTS}
        for _ in range(pairs):
            for variant in VARIANTS:
                wall, cpu, _ = run(arguments[variant], env, variant)
                result[variant]["wall"].append(wall)
                result[variant]["cpu"].append(cpu)
    return times


def cell(median: dict[str, dict[str, float]], variant: str, kind: str) -> str:
    """`512 ms (0.93x)`: a median and its ratio to the stock app's."""
    value = median[variant][kind]
    if variant == "stock":
        return f"{value * 1000:.0f} ms"
    return f"{value * 1000:.0f} ms ({value / median['stock'][kind]:.2f}x)"


def report(times: dict[str, dict[str, dict[str, list[float]]]], pairs: int) -> None:
    print(f"medians of {pairs} rounds; in brackets, the ratio to the stock app's median")
    print(f"  {'':<27} {'project':>18} {'without gc.freeze':>23} {'stock app':>10}")
    worst = 0.0
    for label, result in times.items():
        median = {
            v: {k: statistics.median(values) for k, values in kinds.items()}
            for v, kinds in result.items()
        }
        for kind in ("wall", "cpu"):
            print(
                f"  {label if kind == 'wall' else '':<22} {kind:>4} "
                f"{cell(median, 'project', kind):>18} "
                f"{cell(median, 'without gc.freeze', kind):>23} "
                f"{cell(median, 'stock', kind):>10}"
            )
        if label.startswith("flask db"):
            ratios = (median["project"][k] / median["stock"][k] for k in ("wall", "cpu"))
            worst = max(worst, *ratios)
    verdict = "met" if worst <= GOAL else "MISSED"
    print(f"flask db commands, the project's worst ratio: {worst:.2f} (goal <= {GOAL}): {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--server",
        default=os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1/postgres"),
        help="PostgreSQL server to create the scratch database on.",
    )
    parser.add_argument(
        "--pairs", type=int, default=15, help="Timed rounds (A B C) per command, >= 15."
    )
    parser.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="Compile every module outside site-packages from source in every run.",
    )
    args = parser.parse_args()
    if args.pairs < 15:
        parser.error("--pairs must be at least 15")

    with (
        scratch_database("postgresql", args.server) as url,
        tempfile.TemporaryDirectory() as folder,
    ):
        pycache = None if args.no_bytecode_cache else Path(folder) / "pycache"
        env = environment(url, Path(folder) / "stock_migrations", pycache)
        run(["db", "upgrade"], env, "project")
        stock_migrations_folder(Path(folder) / "stock_migrations", env)
        version = f"PostgreSQL {postgres_version(url)}"
        load_before = os.getloadavg()
        times = measure(args.pairs, env)
        load_after = os.getloadavg()

    print(
        f"{datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}, {platform.node()}: "
        f"{os.cpu_count()} CPUs, load average {load_before[0]:.1f} before and "
        f"{load_after[0]:.1f} after (1 min), {version}, Python {platform.python_version()}, "
        f"bytecode {'compiled in every run' if pycache is None else 'cached'}"
    )
    report(times, args.pairs)


if __name__ == "__main__":
    main()
