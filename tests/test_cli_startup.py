"""What a `flask` process imports: the command it runs, not the others (issue 9; README,
"Management commands").

Each test runs one real `flask` process, as typed in the repo root, and records `sys.modules`
as the process exits: start-up is what only a real process shows. That the listing and the
one-line errors stay right with commands loaded late is `tests/commands/test_lazy_commands.py`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from pixcrawler.cli import command_modules
from pixcrawler.commands._db import subcommand_modules
from tests.commands.cli_helpers import flask_env, revision_ids
from tests.conftest import REPO_ROOT

# `flask …`, run by Flask's own entry point, writing what it imported to the file named first.
PROBE = textwrap.dedent(
    """
    import atexit, gc, json, sys

    out = sys.argv.pop(1)
    sys.argv[0] = "flask"

    def record():
        with open(out, "w") as file:
            json.dump({"modules": sorted(sys.modules), "gc": gc.isenabled(),
                       "frozen": gc.get_freeze_count()}, file)

    atexit.register(record)
    from flask.cli import main
    main()
    """
)

# Never needed to start `flask`: the admin's stack (built on the first request) ...
WEB_ONLY = ["flask_admin", "flask_login", "flask_wtf", "wtforms", "pixcrawler.admin."]
# ... and what only some commands use: the services, the migration state and its drift, the
# comparison's words and SQL reading, renames, squawk's lint, offline SQL, the admin's upgrade.
COMMAND_ONLY = [
    "pixcrawler.services",
    *(
        f"pixcrawler.migrator.{name}"
        for name in (
            "state",
            "drift",
            "differences",
            "sql_meaning",
            "renames",
            "lint",
            "sql",
            "sqlite_offline",
            "upgrade",
        )
    ),
]


def run_probe(tmp_path, database_url: str, *args: str) -> tuple[subprocess.CompletedProcess, dict]:
    out = tmp_path / "imported.json"
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(out), *args],
        cwd=REPO_ROOT,
        env=flask_env(database_url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result, json.loads(out.read_text())


def loaded(modules: list[str], names: list[str]) -> list[str]:
    """The modules that are one of `names` or inside one (a name ending in `.`: inside only)."""

    def matches(module: str, name: str) -> bool:
        if name.endswith("."):
            return module.startswith(name)
        return module == name or module.startswith(name + ".")

    return [m for m in modules if any(matches(m, name) for name in names)]


def command_module_names(but: str | None = None) -> list[str]:
    """Every command module of ours, top-level and `flask db`, except `but`."""
    names = [f"pixcrawler.commands.{name}" for name in command_modules()]
    names += [f"pixcrawler.commands._db.{name}" for name in subcommand_modules()]
    return [name for name in names if name != but]


def test_flask_db_current_imports_no_command_module_and_nothing_heavy(tmp_path, head_database_url):
    result, seen = run_probe(tmp_path, head_database_url, "db", "current")
    assert result.stdout == f"{revision_ids()[-1]} (head)\n"
    modules = seen["modules"]
    # env.py ran, and with it what every revision may call (op.replace_check_constraint).
    assert "pixcrawler.migrator.environment" in modules
    assert "pixcrawler.migrator.operations" in modules
    assert loaded(modules, command_module_names()) == []
    assert loaded(modules, WEB_ONLY + COMMAND_ONLY) == []
    if head_database_url.startswith("postgresql"):
        assert loaded(modules, ["sqlite3", "sqlalchemy.dialects.sqlite"]) == []
    # wsgi.py froze what the app's start-up built, and left the collector on.
    assert seen["gc"] is True
    assert seen["frozen"] > 10_000


def test_a_command_imports_its_own_module_only(tmp_path, head_database_url):
    result, seen = run_probe(tmp_path, head_database_url, "showmigrations", "--plan")
    assert result.stdout.startswith("Nothing to apply")
    modules = seen["modules"]
    assert "pixcrawler.commands.showmigrations" in modules
    assert "pixcrawler.migrator.state" in modules
    assert loaded(modules, command_module_names(but="pixcrawler.commands.showmigrations")) == []
    assert loaded(modules, [*WEB_ONLY, "pixcrawler.services"]) == []


@pytest.mark.only_backend("sqlite")  # the listing is the same on both
def test_flask_help_lists_every_command_and_imports_none(tmp_path, head_database_url):
    result, seen = run_probe(tmp_path, head_database_url, "--help")
    listed = result.stdout.split("Commands:", 1)[1]
    for name in command_modules():
        assert f"\n  {name} " in listed, name
    assert loaded(seen["modules"], command_module_names()) == []
    assert loaded(seen["modules"], WEB_ONLY + COMMAND_ONLY) == []
