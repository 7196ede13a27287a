"""Does memory stay flat when `flask dumpdata` and `flask loaddata` move a million images?

Both commands stream: dumpdata reads through a server-side cursor in primary-key order and
writes record by record; loaddata parses one record at a time and inserts batches (COPY on
PostgreSQL, executemany on SQLite).
This benchmark seeds N images, then runs dumpdata -> flush -> loaddata -> dumpdata, checks the
two dumps are byte-identical, and prints each step's time and peak RSS. Run it for two sizes
to see that the peak does not grow with the data:

    .venv/bin/python benchmarks/fixtures_memory.py --images 100000
    .venv/bin/python benchmarks/fixtures_memory.py --images 1000000

Same database options as benchmarks/seed_speed.py (--backend, --server). Not a test.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import tempfile
from pathlib import Path

from seed_speed import run_flask, scratch_database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1_000_000, help="Images to seed.")
    parser.add_argument("--backend", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--format", choices=["jsonl", "json"], default="jsonl")
    parser.add_argument(
        "--server",
        default=os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1/postgres"),
        help="PostgreSQL server to create the scratch database on.",
    )
    args = parser.parse_args()
    with scratch_database(args.backend, args.server) as url, tempfile.TemporaryDirectory() as tmp:
        first, second = Path(tmp) / f"first.{args.format}", Path(tmp) / f"second.{args.format}"
        steps = [
            ("db upgrade", ["db", "upgrade"]),
            ("seed", ["seed", "--images", str(args.images)]),
            ("dumpdata", ["dumpdata", "-o", str(first), "--format", args.format]),
            ("flush", ["flush", "--no-input"]),
            ("loaddata", ["loaddata", str(first)]),
            ("dumpdata again", ["dumpdata", "-o", str(second), "--format", args.format]),
        ]
        print(f"{args.images} images on {args.backend}, {args.format}:")
        for label, command in steps:
            seconds, peak_mb, _ = run_flask(*command, database_url=url)
            print(f"  {label:<15} {seconds:7.1f} s   peak RSS {peak_mb:6.0f} MB")
        size_mb = first.stat().st_size / 1e6
        same = filecmp.cmp(first, second, shallow=False)
        print(f"  fixture {size_mb:.0f} MB; round trip byte-identical: {same}")
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
