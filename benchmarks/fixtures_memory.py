"""Does memory stay flat when `flask dumpdata` and `flask loaddata` move a million images?

Both commands stream: dumpdata reads through a server-side cursor in primary-key order and
writes record by record; loaddata parses one record at a time and inserts batches (new rows by
COPY on PostgreSQL, executemany on SQLite). This benchmark seeds N images, then runs
dumpdata -> flush -> loaddata -> dumpdata, checks that the two dumps are byte-identical, and
prints each step's wall time, CPU time and peak RSS, next to the peak RSS of `flask --help`
(the app's imports alone) measured in the same run. Run it for two sizes to see that the
peak does not grow with the data:

    .venv/bin/python benchmarks/fixtures_memory.py --images 100000
    .venv/bin/python benchmarks/fixtures_memory.py --images 1000000

Same database options as benchmarks/seed_speed.py (--backend, --server). Not a test. Each
`flask` process starts afresh; the dump file and the database are in the machine's file cache
(warm) by the time they are read back.
"""

from __future__ import annotations

import argparse
import filecmp
import tempfile
from pathlib import Path

from harness import DEFAULT_SERVER, print_footer, print_header, run_flask, scratch_database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1_000_000, help="Images to seed.")
    parser.add_argument("--backend", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--format", choices=["jsonl", "json"], default="jsonl")
    parser.add_argument(
        "--server", default=DEFAULT_SERVER, help="PostgreSQL server for the scratch database."
    )
    args = parser.parse_args()
    title = f"dumpdata and loaddata of {args.images} images on {args.backend}, {args.format}"
    watch = print_header(title, args.server if args.backend == "postgresql" else None)
    with scratch_database(args.backend, args.server) as url, tempfile.TemporaryDirectory() as tmp:
        first, second = Path(tmp) / f"first.{args.format}", Path(tmp) / f"second.{args.format}"
        steps = [
            ("db upgrade", ["db", "upgrade"]),
            ("--help", ["--help"]),
            ("seed", ["seed", "--images", str(args.images)]),
            ("dumpdata", ["dumpdata", "-o", str(first), "--format", args.format]),
            ("flush", ["flush", "--no-input"]),
            ("loaddata", ["loaddata", str(first)]),
            ("dumpdata again", ["dumpdata", "-o", str(second), "--format", args.format]),
        ]
        print(f"  {'step':<15}{'wall':>9}{'CPU (flask)':>13}{'peak RSS':>11}")
        for label, command in steps:
            run = run_flask(*command, database_url=url)
            print(
                f"  {label:<15}{run.seconds:7.1f} s{run.cpu_seconds:11.1f} s{run.peak_mb:8.0f} MB",
                flush=True,
            )
        size_mb = first.stat().st_size / 1e6
        same = filecmp.cmp(first, second, shallow=False)
        print(f"  fixture {size_mb:.0f} MB; round trip byte-identical: {same}")
    print_footer(watch)


if __name__ == "__main__":
    main()
