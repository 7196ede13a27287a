"""Lint migrations the way they will run in production: squawk over their PostgreSQL SQL.

Each revision's upgrade is rendered offline for PostgreSQL (whatever backend the app is on, so
this needs no server) and handed to squawk, the PostgreSQL migration linter, with the rule set
in `migrations/squawk.toml`. Downgrades are not linted: they drop what upgrades add on purpose,
and production asks before running one.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alembic.script import Script
from alembic.util import CommandError
from flask import current_app

from pixcrawler.migrator.sql import revision_sql
from pixcrawler.migrator.state import script_directory

CONFIG_NAME = "squawk.toml"


class LintError(Exception):
    """squawk could not run, or a range named no revision: one line for people."""


@dataclass(frozen=True)
class Violation:
    rule: str
    message: str
    line: int  # 1-based, in the revision's rendered SQL
    statement: str  # that line of SQL, for context
    help: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "message": self.message,
            "line": self.line,
            "statement": self.statement,
            "help": self.help,
        }


@dataclass(frozen=True)
class RevisionLint:
    revision: str
    message: str
    violations: tuple[Violation, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.violations

    def as_dict(self) -> dict[str, Any]:
        return {
            "revision": self.revision,
            "message": self.message,
            "ok": self.ok,
            "violations": [v.as_dict() for v in self.violations],
        }


def squawk_binary() -> str:
    """The squawk installed with this Python (the squawk-cli package), else one on PATH."""
    beside = Path(sys.executable).parent / "squawk"
    if beside.is_file():
        return str(beside)
    found = shutil.which("squawk")
    if found is None:
        raise LintError("squawk is not installed: pip install squawk-cli")
    return found


def config_path() -> Path:
    return Path(current_app.config["MIGRATIONS_DIR"]) / CONFIG_NAME


def revisions_in(spec: str | None) -> list[Script]:
    """Revisions named by RANGE, oldest first: all, one ("003"), or "[start]:[end]"."""
    scripts = script_directory()
    try:
        if not spec:
            found = list(scripts.walk_revisions())
        elif ":" in spec:
            start, end = spec.split(":", 1)
            found = list(scripts.walk_revisions(base=start or "base", head=end or "heads"))
        else:
            script = scripts.get_revision(spec)
            found = [script] if script is not None else []
    except CommandError as exc:
        raise LintError(str(exc)) from None
    if not found:
        raise LintError(f"no revision matches {spec!r}")
    return list(reversed(found))


def lint(spec: str | None = None) -> list[RevisionLint]:
    """Lint every revision in RANGE (all by default), oldest first."""
    binary = squawk_binary()
    config = config_path()
    if not config.is_file():
        raise LintError(f"squawk rule set not found: {config}")
    return [lint_revision(script, binary, config) for script in revisions_in(spec)]


def lint_revision(script: Script, binary: str, config: Path) -> RevisionLint:
    sql = revision_sql(script.revision, dialect="postgresql")
    name = Path(script.path).name.replace(".py", ".sql")
    result = subprocess.run(
        [binary, "--config", str(config), "--reporter", "json", "--stdin-filepath", name],
        input=sql,
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        reported = json.loads(result.stdout or "[]")
    except json.JSONDecodeError:
        reported = None
    if result.returncode not in (0, 1) or not isinstance(reported, list):
        reason = (result.stderr or result.stdout).strip().splitlines()
        raise LintError(f"squawk failed on {script.revision}: {reason[0] if reason else '?'}")
    lines = sql.splitlines()
    violations = tuple(_violation(item, lines) for item in reported)
    message = (script.doc or "").strip().splitlines()
    return RevisionLint(script.revision, message[0] if message else "", violations)


def _violation(item: dict[str, Any], lines: list[str]) -> Violation:
    line = int(item.get("line", 0))  # squawk counts lines from 0
    return Violation(
        rule=item.get("rule_name", "?"),
        message=item.get("message", ""),
        line=line + 1,
        statement=lines[line].strip() if 0 <= line < len(lines) else "",
        help=item.get("help"),
    )
