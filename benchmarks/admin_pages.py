"""Does the admin stay fast on big tables, and does it leave the command line alone?

Goals (issue 4):
- the `images` list page with a million rows is at most 1.5x its time with a thousand (no COUNT
  over the table, keyset pages in the default order, no query per row);
- `flask db current` takes at most 1.1x its time without the admin registered.

Not a test: run it by hand on a quiet machine (README, "Admin", has figures):

    .venv/bin/python benchmarks/admin_pages.py

Images: for each size it makes a PostgreSQL database of its own (on --server, default
TEST_DATABASE_URL), runs the real `flask db upgrade` and `flask seed --images N`, logs a test
client in and times GET /admin/image/ (median of --runs), plus a keyset page from the middle of
the table, and prints PostgreSQL's plan for the page's query.

CLI: it times `flask db current` on an SQLite database at head, --cli-runs times per variant,
interleaved, like hyperfine: with the admin registered (the real wsgi.py), without it, and with
the admin built eagerly in the factory, and prints the medians and their ratios.
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
CLI_GOAL = 1.10
EMAIL, PASSWORD = "bench@example.com", "benchmark-password"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
CLI_VARIANTS = {
    "with the admin (wsgi.py)": "wsgi.py",
    "without the admin": "benchmarks/admin_cli_apps.py:without_admin()",
    "admin built eagerly": "benchmarks/admin_cli_apps.py:eager_admin()",
}


def flask(*args: str, database_url: str, app: str | None = None) -> tuple[float, float]:
    """Run `flask ARGS` in a new process: (wall seconds, its CPU seconds). Exits on failure.

    CPU time (user + system, from wait4) is what the ratio uses: on a shared machine the wall
    time mostly measures the neighbours.
    """
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


def measure_cli(runs: int) -> dict[str, tuple[float, float]]:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/cli.sqlite3"
        flask("db", "upgrade", database_url=url)
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in CLI_VARIANTS}
        for app in CLI_VARIANTS.values():  # warm-up: byte-code caches, disk cache
            flask("db", "current", database_url=url, app=app)
        for _ in range(runs):
            for name, app in CLI_VARIANTS.items():  # interleaved, so drift hits all alike
                times[name].append(flask("db", "current", database_url=url, app=app))
    return {
        name: (statistics.median(w for w, _ in values), statistics.median(c for _, c in values))
        for name, values in times.items()
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
    parser.add_argument("--cli-runs", type=int, default=15, help="`flask db current` runs.")
    parser.add_argument("--skip-pages", action="store_true", help="Only time the CLI.")
    parser.add_argument("--skip-cli", action="store_true", help="Only time the pages.")
    args = parser.parse_args()

    if not args.skip_pages:
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

    if not args.skip_cli:
        medians = measure_cli(args.cli_runs)
        base = medians["without the admin"][1]
        for name, (wall, cpu) in medians.items():
            print(
                f"flask db current, {name}: CPU {cpu * 1000:.0f} ms ({cpu / base:.2f}x), "
                f"wall {wall * 1000:.0f} ms (medians of {args.cli_runs})"
            )
        ratio = medians["with the admin (wsgi.py)"][1] / base
        verdict = "met" if ratio <= CLI_GOAL else "MISSED"
        print(f"ratio with/without the admin: {ratio:.3f} (goal <= {CLI_GOAL}): {verdict}")

    with suppress(OSError):
        print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
