"""Does the admin export a million images in a stream, with the server's memory flat?

Goal (issue 9): the CSV export (and the JSON one) of the images list sends every row, and the
server's memory grows by less than 150 MB while it sends a million of them.

Not a test: run it by hand on a quiet machine (README, "Admin", has figures):

    .venv/bin/python benchmarks/admin_exports.py --images 1000000

It makes a PostgreSQL database of its own (on --server, default TEST_DATABASE_URL), runs the
real `flask db upgrade` and `flask seed --images N`, adds an admin account, starts a real
`flask run` server and logs in over HTTP. Then it downloads GET /admin/image/export/csv/ and
/export/json/ in turn, counting the rows as they arrive, and prints for each: rows, seconds,
rows per second, megabytes sent, and the server process's resident memory before the download
and its peak during it (Linux's VmHWM, reset before each download through /proc/<pid>/clear_refs;
where that cannot be reset, the highest VmRSS sampled every 20 ms).
"""

from __future__ import annotations

import argparse
import http.cookiejar
import re
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import sqlalchemy as sa
from harness import (
    DEFAULT_SERVER,
    REPO_ROOT,
    flask_server,
    print_footer,
    print_header,
    run_flask,
    scratch_database,
)

sys.path.insert(0, str(REPO_ROOT))

from pixcrawler import create_app
from pixcrawler.extensions import db
from pixcrawler.services import accounts

GOAL_MB = 150
EMAIL, PASSWORD = "bench@example.com", "benchmark-password"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
# How each format starts a row: CSV rows end with CRLF, JSON objects start with the Id key.
ROW_MARKS = {"csv": b"\r\n", "json": b'{"Id": "'}


def add_admin(url: str) -> int:
    """The admin account to log in with, and the number of images seeded."""
    app = create_app({"ENV_NAME": "development", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        accounts.create_superuser(EMAIL, PASSWORD)
        db.session.commit()
        count = db.session.execute(sa.text("SELECT count(*) FROM images")).scalar()
        db.engine.dispose()
    return count


def logged_in_opener(base: str) -> urllib.request.OpenerDirector:
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    page = opener.open(f"{base}/login").read().decode()
    form = {"email": EMAIL, "password": PASSWORD, "csrf_token": CSRF.search(page).group(1)}
    opener.open(f"{base}/login", data=urllib.parse.urlencode(form).encode()).read()
    listed = opener.open(f"{base}/admin/image/").read().decode()  # builds the admin, warms up
    assert "/admin/image/details/" in listed, "not logged in"
    return opener


def memory_kb(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0])
    return fields


class PeakRSS:
    """The server's peak resident memory during one download."""

    def __init__(self, pid: int):
        self.pid = pid
        self.before = memory_kb(pid)["VmRSS"]
        try:  # "5" resets VmHWM to the current RSS (Linux 4.0+)
            Path(f"/proc/{pid}/clear_refs").write_text("5")
            self.reset = True
        except OSError:
            self.reset = False
        self.sampled = self.before
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stopped.wait(0.02):
            self.sampled = max(self.sampled, memory_kb(self.pid)["VmRSS"])

    def stop(self) -> int:
        self._stopped.set()
        self._thread.join()
        peak = memory_kb(self.pid)["VmHWM"] if self.reset else 0
        return max(peak, self.sampled)


def download(opener, base: str, kind: str, pid: int) -> dict[str, float]:
    """Stream one export, counting rows as they arrive; the server's memory meanwhile."""
    mark = ROW_MARKS[kind]
    watch = PeakRSS(pid)
    started = time.perf_counter()
    rows = size = chunks = 0
    first_byte = 0.0
    tail = b""
    with opener.open(f"{base}/admin/image/export/{kind}/") as response:
        while chunk := response.read(1 << 16):
            data = tail + chunk
            rows += data.count(mark)
            tail = data[-(len(mark) - 1) :]  # too short to hold a mark; the start of a split one
            size += len(chunk)
            chunks += 1
            if chunks == 1:
                first_byte = time.perf_counter() - started
    seconds = time.perf_counter() - started
    peak = watch.stop()
    if kind == "csv":
        rows -= 1  # the titles
    return {
        "rows": rows,
        "seconds": seconds,
        "first_byte": first_byte,
        "mb": size / 1e6,
        "before_mb": watch.before / 1024,
        "peak_mb": peak / 1024,
        "growth_mb": (peak - watch.before) / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1_000_000, help="Images to seed.")
    parser.add_argument(
        "--server", default=DEFAULT_SERVER, help="PostgreSQL server for the scratch database."
    )
    args = parser.parse_args()
    watch = print_header(f"admin exports of {args.images:,} images over HTTP", args.server)
    with scratch_database("postgresql", args.server) as url:
        run_flask("db", "upgrade", database_url=url)
        seeded = run_flask("seed", "--images", str(args.images), database_url=url)
        count = add_admin(url)
        print(f"  seeded {count:,} images in {seeded.seconds:.1f} s")
        with flask_server(url) as server:
            opener = logged_in_opener(server.base)
            results = {kind: download(opener, server.base, kind, server.pid) for kind in ROW_MARKS}
    print()
    print(
        "| export | rows | seconds | rows/s | first byte | sent | server RSS before | peak |"
        " growth |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for kind, r in results.items():
        print(
            f"| {kind.upper()} | {r['rows']:,} | {r['seconds']:.1f}"
            f" | {r['rows'] / r['seconds']:,.0f}"
            f" | {r['first_byte'] * 1000:.0f} ms | {r['mb']:.0f} MB | {r['before_mb']:.0f} MB"
            f" | {r['peak_mb']:.0f} MB | {r['growth_mb']:+.1f} MB |"
        )
    complete = all(r["rows"] == count for r in results.values())
    flat = all(r["growth_mb"] < GOAL_MB for r in results.values())
    print(f"  every row sent: {'yes' if complete else 'NO'} ({count:,} in the table)")
    print(f"  server memory growth under {GOAL_MB} MB: {'met' if flat else 'MISSED'}")
    print_footer(watch)


if __name__ == "__main__":
    main()
