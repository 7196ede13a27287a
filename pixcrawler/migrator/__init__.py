"""The migration machinery: how Alembic runs inside PixCrawler, one module per role.

Running (what `migrations/env.py` delegates to):

- `environment`: `run_migrations` offline, online, or on an Engine or Connection handed over;
  read-only commands apart, the guarded run under the lock; staying in a caller's transaction;
  SQLite's foreign-key switch and check; `init_app`, called by the app factory;
- `options`: what every Alembic run of the app is configured with (`context_options`);
- `lock`: one runner at a time; `guard`: timeouts, retries, one transaction per revision;
- `sqlite_offline`: SQLite's batch operations rendered without a database.

Writing revisions and comparing the schema:

- `new_revisions`: numbered ids (001, 002, …) and merges;
- `compare`: CHECK constraints and server defaults, compared as autogenerate plugins;
- `operations`: `op.replace_check_constraint`, renames, the comment above each drop;
- `renames`: asking about a rename rather than dropping a column or a table;
- `sql_meaning`: whether two spellings of a SQL condition or default mean the same;
- `differences`: each difference in words; `drift`: the drift lines themselves.

What the command line, the admin and `/readyz` read:

- `state`: where the database stands (current, heads, pending, drift), one computation;
- `sql`: one revision's SQL, rendered offline (`flask sqlmigrate`, the admin);
- `lint`: squawk over each revision's PostgreSQL SQL (`flask db lint`);
- `upgrade`: the upgrade the admin's button runs, through `flask db upgrade`'s own code;
- `impact/`: the locks, blocking and rewrites each pending statement would cause on the live
  tables, and for how long (`flask db impact`, the admin's Migrations page).

Layers: above the models and the extensions, below the services, the commands and the admin,
which call it; it imports nothing from them (pyproject.toml's import contracts). The
`flask db` subcommands themselves are command-line code: `pixcrawler/commands/_db/`.

This file imports nothing, so importing one module of the package costs only that module.
env.py runs for every `flask db` command, `current` included, so what it loads is kept to
what every run needs, plus `operations`, which any revision may call. What only some commands
use (`differences` and `sql_meaning` for a comparison, `renames` for autogenerate,
`sqlite_offline` for SQLite's offline SQL) is imported by the function that uses it;
`tests/test_cli_startup.py` checks which modules `flask db current` loads.
"""
