"""The one-line help of each command, so that `flask --help` and `flask db --help` list every
command without importing any (a command's module is imported when it runs: `_lazy`).

Each line is the first sentence of the command's own help, which is all that click shows in a
listing. `tests/commands/test_lazy_commands.py` compares them, so a command whose help changes
fails that test until its line here is changed too. A command module without a line still
works and is listed: it is then imported at start-up, and the same test asks for its line.
A `flask db` subcommand that adjusts one of Flask-Migrate's and keeps its help needs no line.
"""

COMMANDS = {
    "changepassword": "Set a new password for the admin account EMAIL; this also clears a login "
    "lockout.",
    "check": "Run the system checks: database reachable, migrations at a single head and all "
    "applied, models matching the tables; with --deploy also the production settings.",
    "createsuperuser": "Create an admin account that can log into the admin UI.",
    "dbshell": "Open psql (PostgreSQL) or sqlite3 (SQLite) on the app's database: the one the "
    "app itself uses (a relative SQLite path is in the instance folder).",
    "dumpdata": "Write the app's rows as fixtures for `flask loaddata`.",
    "flush": "Delete every row of every app table; the schema and alembic_version stay.",
    "loaddata": "Load fixture files written by `flask dumpdata` (JSON Lines or JSON).",
    "seed": "Add realistic demo data: profiles, projects, crawl jobs with their images, "
    "validation and export jobs, activity logs.",
    "showmigrations": "List every migration, oldest first: [X] applied, [ ] pending, with the "
    "head(s) and the database's current revision marked.",
    "sqlmigrate": "Print the SQL of migration REV (offline: the database is not read or changed).",
}

DB_COMMANDS = {
    "check": "Compare the models with the database: one line per difference, exit 1 if any.",
    "impact": "What each revision's SQL will do on PostgreSQL: per statement the tables, the "
    "lock on each and what it blocks, the work (catalog, scan, rewrite, index build, data), the "
    "tables' sizes and an estimated duration; then a verdict per revision.",
    "lint": "Lint migrations with squawk (rules in migrations/squawk.toml); exit 1 on violations.",
    "merge": "Merge revisions into a new revision; with none given, all the current heads.",
    "migrate": "Autogenerate a new revision from the model changes.",
}
