"""Does the admin stay fast on big tables?

Goal (issue 4): the `images` list page with a million rows is at most 1.5x its time with a
thousand (no COUNT over the table, keyset pages in the default order, no query per row).
The command line's start-up, admin or not, is `benchmarks/cli_startup.py`.

Not a test: run it by hand on a quiet machine (README, "Admin", has figures):

    .venv/bin/python benchmarks/admin_pages.py

Images: for each size it makes a PostgreSQL database of its own (on --server, default
TEST_DATABASE_URL), runs the real `flask db upgrade` and `flask seed --images N`, logs a test
client in and times GET /admin/image/ (median of --runs), plus a keyset page from the middle of
the table, and prints PostgreSQL's plan for the page's query.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import suppress
from pathlib import Path

import sqlalchemy as sa

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from seed_speed import scratch_database  # noqa: E402  (benchmarks/ is on sys.path)

from pixcrawler import create_app  # noqa: E402
from pixcrawler.extensions import db  # noqa: E402
from pixcrawler.services import accounts  # noqa: E402

PAGE_GOAL = 1.5
EMAIL, PASSWORD = "bench@example.com", "benchmark-password"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def flask(*args: str, database_url: str, app: str | None = None) -> tuple[float, float]:
    """Run `flask ARGS` in a new process: (wall seconds, its CPU seconds). Exits on failure."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "PIXCRAWLER_"))}
    env.update({"DATABASE_URL": database_url, "PIXCRAWLER_ENV": "development"})
    command = [sys.executable, "-m", "flask", *(["--app", app] if app else []), *args]
    with tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err
        )
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status):
            err.seek(0)
            sys.exit(f"flask {' '.join(args)} failed:\n{err.read()}")
    return wall, usage.ru_utime + usage.ru_stime


def logged_in_client(app):
    with app.app_context():
        accounts.create_superuser(EMAIL, PASSWORD)
        db.session.commit()
    client = app.test_client()
    token = CSRF.search(client.get("/login").get_data(as_text=True)).group(1)
    response = client.post(
        "/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def median_seconds(client, url: str, runs: int) -> float:
    for _ in range(2):  # warm-up: first-request setup, caches
        assert client.get(url).status_code == 200
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200
    return statistics.median(times)


def page_plan(app, client, url: str) -> list[str]:
    """PostgreSQL's plan (EXPLAIN ANALYZE) for the query that lists the page's images."""
    captured: list[tuple[str, object]] = []
    with app.app_context():
        engine = db.engine

    def record(conn, cursor, statement, parameters, context, executemany):
        if "FROM images" in statement and "LIMIT" in statement:
            captured.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        client.get(url)
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    statement, parameters = captured[-1]
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + statement, parameters)
        return [row[0] for row in cursor.fetchall()]
    finally:
        raw.close()


def measure_images_page(server: str, images: int, runs: int) -> dict[str, object]:
    with scratch_database("postgresql", server) as url:
        flask("db", "upgrade", database_url=url)
        started = time.perf_counter()
        flask("seed", "--images", str(images), database_url=url)
        seeded = time.perf_counter() - started
        app = create_app({"ENV_NAME": "development", "SQLALCHEMY_DATABASE_URI": url})
        try:
            with app.app_context(), db.engine.begin() as connection:
                connection.exec_driver_sql("ANALYZE")
                count = connection.exec_driver_sql("SELECT count(*) FROM images").scalar()
                middle = connection.exec_driver_sql(
                    "SELECT id FROM images ORDER BY id"
                    " OFFSET (SELECT count(*) / 2 FROM images) LIMIT 1"
                ).scalar()
            client = logged_in_client(app)
            first = median_seconds(client, "/admin/image/", runs)
            deep = median_seconds(client, f"/admin/image/?after={middle}", runs)
            plan = page_plan(app, client, "/admin/image/")
            deep_plan = page_plan(app, client, f"/admin/image/?after={middle}")
        finally:
            with app.app_context():
                db.engine.dispose()
    return {
        "rows": count,
        "seeded": seeded,
        "first": first,
        "deep": deep,
        "plan": plan,
        "deep_plan": deep_plan,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--server",
        default=os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1/postgres"),
        help="PostgreSQL server to create the scratch databases on.",
    )
    parser.add_argument("--small", type=int, default=1_000, help="Images in the small table.")
    parser.add_argument("--large", type=int, default=1_000_000, help="Images in the big table.")
    parser.add_argument("--runs", type=int, default=30, help="Page loads timed per size.")
    args = parser.parse_args()

    results = {}
    for size in (args.small, args.large):
        results[size] = result = measure_images_page(args.server, size, args.runs)
        print(
            f"images list, {result['rows']:,} rows (seeded in {result['seeded']:.1f} s): "
            f"first page {result['first'] * 1000:.1f} ms, "
            f"keyset page from the middle {result['deep'] * 1000:.1f} ms "
            f"(median of {args.runs})"
        )
    big = results[args.large]
    print("plan of the first page's query at the large size:")
    print("\n".join("    " + line for line in big["plan"]))
    print("plan of the middle keyset page's query at the large size:")
    print("\n".join("    " + line for line in big["deep_plan"]))
    ratio = big["first"] / results[args.small]["first"]
    deep_ratio = big["deep"] / results[args.small]["first"]
    verdict = "met" if ratio <= PAGE_GOAL else "MISSED"
    print(
        f"ratio large/small: first page {ratio:.2f}, middle page {deep_ratio:.2f} "
        f"(goal <= {PAGE_GOAL}): {verdict}"
    )

    with suppress(OSError):
        print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
