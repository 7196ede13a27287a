"""What the benchmarks share: scratch databases, timed `flask` processes, the CPU time of the
PostgreSQL backends serving them, and the facts a figure needs to be reproduced.

A figure in README means something only with the machine it came from, the load on it, the
PostgreSQL version and the date; `Machine` collects those and every benchmark prints them
(`print_header` before, `print_footer` after, with the load average seen meanwhile).
"""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from pixcrawler.database.urls import normalize_database_url

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SERVER = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1/postgres")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# --- the machine ----------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def postgres_version(server: str) -> str:
    engine = sa.create_engine(normalize_database_url(server))
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text("SHOW server_version")).scalar()
    except sa.exc.DBAPIError:
        return "not reachable"
    finally:
        engine.dispose()


class LoadWatch:
    """The 1-minute load average, sampled every few seconds while a benchmark runs."""

    def __init__(self, every: float = 5.0):
        self.every = every
        self.samples: list[float] = [os.getloadavg()[0]]
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="load-watch", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stopped.wait(self.every):
            self.samples.append(os.getloadavg()[0])

    def stop(self) -> str:
        self._stopped.set()
        self._thread.join()
        self.samples.append(os.getloadavg()[0])
        low, high = min(self.samples), max(self.samples)
        return f"{low:.1f} to {high:.1f}" if round(low, 1) != round(high, 1) else f"{low:.1f}"


def print_header(title: str, server: str | None) -> LoadWatch:
    """Date, machine, PostgreSQL version and load before a run; starts watching the load."""
    one, five, fifteen = os.getloadavg()
    print(title)
    print(f"  date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"  machine: {os.cpu_count()} cores, {cpu_model()}, Python {platform.python_version()}")
    if server is not None:
        print(f"  PostgreSQL: {postgres_version(server)}")
    print(f"  load average before: {one:.2f} {five:.2f} {fifteen:.2f} (1, 5, 15 min)")
    sys.stdout.flush()
    return LoadWatch()


def print_footer(watch: LoadWatch) -> None:
    """The load average (1 min) seen while measuring: other work on the machine shows here."""
    print(f"  load average while measuring (1 min, sampled every 5 s): {watch.stop()}")


# --- scratch databases ------------------------------------------------------------------------


@contextmanager
def scratch_database(backend: str, server: str) -> Iterator[str]:
    """A new empty database, dropped afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/bench.sqlite3"
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


# --- flask processes and the backends serving them --------------------------------------------


@dataclass
class Run:
    """One `flask` process: wall time, its own CPU time and peak RSS, and (PostgreSQL on this
    machine) the CPU time of the server backends that served its database meanwhile."""

    seconds: float
    cpu_seconds: float
    peak_mb: float
    stdout: str
    backend_cpu_seconds: float | None = None


def flask_env(database_url: str, env_name: str = "development") -> dict[str, str]:
    """The environment of a `flask` process on `database_url`: this one's, without any FLASK_
    or PIXCRAWLER_ setting of the shell that would change what is measured."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "PIXCRAWLER_"))}
    env.update({"DATABASE_URL": database_url, "PIXCRAWLER_ENV": env_name})
    return env


def run_flask(*args: str, database_url: str, backend_cpu: bool = False) -> Run:
    """Run `flask ARGS` in the repo root; exits on failure."""
    env = flask_env(database_url)
    watch = BackendCPU(database_url) if backend_cpu else None
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", *args], cwd=REPO_ROOT, env=env, stdout=out, stderr=err
        )
        # wait4 gives this child's own resource usage, not a maximum over all children.
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        backend_seconds = watch.stop() if watch is not None else None
        out.seek(0)
        err.seek(0)
        if process.returncode:
            sys.exit(f"flask {' '.join(args)} failed:\n{err.read()}")
        return Run(
            seconds=elapsed,
            cpu_seconds=usage.ru_utime + usage.ru_stime,
            peak_mb=usage.ru_maxrss / 1024,
            stdout=out.read(),
            backend_cpu_seconds=backend_seconds,
        )


@dataclass
class BackendCPU:
    """CPU time of the PostgreSQL processes serving one database (client backends and their
    parallel workers), read from /proc/<pid>/stat every 50 ms while they live.

    Works only when the server runs on this machine and /proc shows its processes (as root, or
    as the server's user); `stop` returns None otherwise. A backend's last 50 ms can be missed.
    """

    database_url: str
    seen: dict[int, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        url = sa.engine.make_url(normalize_database_url(self.database_url))
        self.database = url.database
        self.engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="backend-cpu", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        query = sa.text(
            "SELECT pid FROM pg_stat_activity WHERE datname = :db AND pid <> pg_backend_pid() "
            "AND backend_type IN ('client backend', 'parallel worker')"
        )
        with self.engine.connect() as connection:
            while True:
                pids = connection.execute(query, {"db": self.database}).scalars().all()
                connection.rollback()
                for pid in pids:
                    seconds = process_cpu_seconds(pid)  # None: gone meanwhile, or not shown
                    if seconds is not None:
                        self.seen[pid] = max(seconds, self.seen.get(pid, 0.0))
                if self._stopped.wait(0.05):
                    return

    def stop(self) -> float | None:
        self._stopped.set()
        self._thread.join()
        self.engine.dispose()
        return sum(self.seen.values()) if self.seen else None


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a process, or None if /proc does not show it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


# --- a server over HTTP -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    """A running `flask run`: where it answers, and its process (for its memory)."""

    base: str
    pid: int


@contextmanager
def flask_server(database_url: str) -> Iterator[Server]:
    """A real `flask run` (no reloader, no debugger) on a free port, answering /healthz;
    stopped afterwards, also on Ctrl-C."""
    port = free_port()
    env = flask_env(database_url)
    command = [
        sys.executable,
        "-m",
        "flask",
        "run",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-reload",
        "--no-debugger",
    ]
    with tempfile.TemporaryFile("w+") as log:
        server = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches this script only, which stops the server
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                if server.poll() is not None:
                    log.seek(0)
                    sys.exit(f"flask run exited with {server.returncode}:\n{log.read()}")
                try:
                    with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                        if response.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    sys.exit("flask run did not answer /healthz within 60 s")
                time.sleep(0.1)
            yield Server(base, server.pid)
        finally:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
