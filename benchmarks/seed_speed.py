"""How fast does `flask seed` fill a database with a million images, and with what memory?

Goal (issue 3): `flask seed --images 1000000` finishes well under a minute on PostgreSQL, where
it streams the images with COPY and, into an empty table, builds their secondary indexes after
the load. SQLite (executemany batches) can be measured too, for comparison.

Not a test: run it by hand (README, "Benchmarks", has figures):

    .venv/bin/python benchmarks/seed_speed.py --images 1000000
    .venv/bin/python benchmarks/seed_speed.py --images 1000000 --backend sqlite

It runs the real `flask db upgrade` and `flask seed` in subprocesses against a database of its
own (created and dropped on the server named by --server, default TEST_DATABASE_URL, else
postgresql://postgres@127.0.0.1/postgres; a temporary file for SQLite). It prints the wall time,
images per second, the CPU time of the `flask` process and of the PostgreSQL backends that
served it (when the server runs on this machine), and the peak memory of `flask seed` next to
that of `flask --help` (the app's imports and nothing else), measured in the same run. Each
`flask` process starts afresh; the machine's file cache is warm after the first one.
"""

from __future__ import annotations

import argparse

from harness import DEFAULT_SERVER, print_footer, print_header, run_flask, scratch_database

GOAL_SECONDS = 60.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1_000_000, help="Images to seed.")
    parser.add_argument("--backend", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument(
        "--server", default=DEFAULT_SERVER, help="PostgreSQL server for the scratch database."
    )
    args = parser.parse_args()
    on_postgres = args.backend == "postgresql"
    title = f"flask seed --images {args.images} on {args.backend}"
    watch = print_header(title, args.server if on_postgres else None)
    with scratch_database(args.backend, args.server) as url:
        run_flask("db", "upgrade", database_url=url)
        help_run = run_flask("--help", database_url=url)
        seed = run_flask("seed", "--images", str(args.images), database_url=url, backend_cpu=True)
    print(seed.stdout.strip())
    rate = args.images / seed.seconds if seed.seconds else 0
    print(f"wall time: {seed.seconds:.1f} s ({rate:,.0f} images/s)")
    print(f"CPU time of the flask process: {seed.cpu_seconds:.1f} s")
    if seed.backend_cpu_seconds is not None:
        print(f"CPU time of the PostgreSQL backends serving it: {seed.backend_cpu_seconds:.1f} s")
    elif on_postgres:
        print("CPU time of the PostgreSQL backends: not measured (server not on this machine)")
    print(
        f"peak RSS: flask seed {seed.peak_mb:.0f} MB, flask --help {help_run.peak_mb:.0f} MB "
        f"(+{seed.peak_mb - help_run.peak_mb:.0f} MB for the seed's own work)"
    )
    if on_postgres and args.images >= 1_000_000:
        verdict = "met" if seed.seconds < GOAL_SECONDS else "MISSED"
        print(f"goal (< {GOAL_SECONDS:.0f} s for a million on PostgreSQL): {verdict}")
    print_footer(watch)


if __name__ == "__main__":
    main()
