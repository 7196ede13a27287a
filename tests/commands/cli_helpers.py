"""What the command tests share: result checks, the revision list, a scratch migrations copy
with two heads, and a pseudo-terminal to type into prompts as a person does."""

from __future__ import annotations

import os
import pty
import select
import shutil
import subprocess
import sys
import termios
import time
from pathlib import Path

from tests.conftest import REPO_ROOT

UNREACHABLE = "postgresql://postgres@127.0.0.1:1/nowhere"


def ok(result):
    """A click Result or a CompletedProcess that succeeded; returned for chaining."""
    code = getattr(result, "exit_code", getattr(result, "returncode", None))
    assert code == 0, result.stdout + (result.stderr or "")
    return result


def one_error_line(result) -> str:
    """A user's mistake: exit 1 (README), exactly one line on stderr, no traceback."""
    code = getattr(result, "exit_code", getattr(result, "returncode", None))
    assert code == 1, result.stderr
    assert getattr(result, "exception", None) is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    return lines[0]


def revision_ids(directory: Path = REPO_ROOT / "migrations") -> list[str]:
    """The numbered revisions in the folder, oldest first (the chain is linear in the repo)."""
    return sorted(p.name.split("_", 1)[0] for p in (directory / "versions").glob("[0-9]*.py"))


def migrations_with_two_heads(tmp_path: Path) -> tuple[Path, str]:
    """A copy of migrations/ with one more revision branching off 001, made by the real
    `flask db revision --head 001 --splice`; returns the folder and the new revision's id."""
    target = tmp_path / "migrations"
    shutil.copytree(REPO_ROOT / "migrations", target, ignore=shutil.ignore_patterns("__pycache__"))
    before = set(revision_ids(target))
    result = run_plain_flask(
        "db", "revision", "-m", "side branch", "--head", "001", "--splice", "-d", str(target)
    )
    assert result.returncode == 0, result.stderr
    (new,) = set(revision_ids(target)) - before
    return target, new


def flask_env(database_url: str, env: dict[str, str] | None = None) -> dict[str, str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "PIXCRAWLER_"))}
    full.update({"DATABASE_URL": database_url, "PIXCRAWLER_ENV": "testing"})
    full.update(env or {})
    return full


def run_plain_flask(*args: str, database_url: str = "sqlite://", env=None):
    return subprocess.run(
        [sys.executable, "-m", "flask", *args],
        cwd=REPO_ROOT,
        env=flask_env(database_url, env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def run_in_terminal(
    *args: str,
    database_url: str,
    answers: list[tuple[str, str]],
    env: dict[str, str] | None = None,
    timeout: float = 60,
) -> tuple[int, str]:
    """Run `flask ARGS` on a pseudo-terminal; answer each (prompt, text) in turn as it shows.

    Hidden prompts switch the terminal's echo off, which also discards anything typed
    earlier; so an answer is typed only once its prompt shows and, for a hidden prompt,
    echo is off. Returns the exit code and everything the terminal showed.
    """
    master, slave = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", *args],
        cwd=REPO_ROOT,
        env=flask_env(database_url, env),
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,  # no controlling terminal: the prompts use this pty
    )
    os.close(slave)
    shown = b""
    seen = 0
    pending = list(answers)
    deadline = time.monotonic() + timeout
    try:
        while True:
            if time.monotonic() > deadline:
                raise AssertionError(f"no exit after {timeout}s; the terminal shows {shown!r}")
            if pending:
                prompt, text = pending[0]
                at = shown.find(prompt.encode(), seen)
                hidden = "password" in prompt.lower()
                if at >= 0 and (not hidden or not echo_on(master)):
                    os.write(master, text.encode() + b"\r")
                    seen = at + len(prompt)
                    pending.pop(0)
                    continue
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # EIO: the process closed the terminal
                    chunk = b""
                if not chunk:
                    break
                shown += chunk
            elif process.poll() is not None and not pending:
                break
        return process.wait(timeout=timeout), shown.decode(errors="replace")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(master)


def echo_on(master: int) -> bool:
    return bool(termios.tcgetattr(master)[3] & termios.ECHO)
