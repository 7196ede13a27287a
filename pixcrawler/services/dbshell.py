"""The command line that opens a database's own client (psql, sqlite3) on the app's database.

Built here, apart from `flask dbshell`, so that what reaches the client's argument list, and
what goes through its environment instead, can be tested without starting it. The password
travels only in PGPASSWORD: an argument would be visible to every user in `ps`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

# libpq reads these from the environment; URL query options we pass on to psql that way.
LIBPQ_ENVIRONMENT = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "options": "PGOPTIONS",
    "application_name": "PGAPPNAME",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
}


# sqlite3's options that take values (`sqlite3 -help`), and how many. `-A…` (archive) is left
# out: it takes every argument after it, and comes after the file.
SQLITE3_OPTION_VALUES = {
    "-cmd": 1,
    "-init": 1,
    "-newline": 1,
    "-nonce": 1,
    "-nullvalue": 1,
    "-separator": 1,
    "-vfs": 1,
    "-maxsize": 1,
    "-mmap": 1,
    "-lookaside": 2,
    "-pagecache": 2,
}


class ClientError(ValueError):
    """The database cannot be opened in a client (in-memory SQLite, an unknown backend)."""


@dataclass(frozen=True)
class ClientCommand:
    """A client program, its arguments, and the variables to add to its environment."""

    program: str
    arguments: tuple[str, ...]  # without the program name
    environment: dict[str, str] = field(default_factory=dict)  # added to the current one

    @property
    def argv(self) -> list[str]:
        return [self.program, *self.arguments]


def client_command(database_url: str, extra: tuple[str, ...] = ()) -> ClientCommand:
    """How to open `database_url` in its command-line client; `extra` goes to the client."""
    url = sa.engine.make_url(database_url)
    backend = url.get_backend_name()
    if backend == "postgresql":
        return psql_command(url, extra)
    if backend == "sqlite":
        return sqlite3_command(url, extra)
    raise ClientError(f"no command-line client is known for {backend} databases")


def psql_command(url: sa.engine.URL, extra: tuple[str, ...]) -> ClientCommand:
    """psql with host, port, user and database as flags; secrets and TLS in PG* variables."""
    arguments: list[str] = []
    environment: dict[str, str] = {}
    host = url.host or _single(url.query.get("host"))  # ?host=/run/postgresql: a socket
    if host:
        arguments += ["-h", host]
    if url.port:
        arguments += ["-p", str(url.port)]
    if url.username:
        arguments += ["-U", url.username]
    if url.password:
        environment["PGPASSWORD"] = str(url.password)
    for option, variable in LIBPQ_ENVIRONMENT.items():
        value = _single(url.query.get(option))
        if value:
            environment[variable] = value
    arguments += [*extra, url.database or "postgres"]
    return ClientCommand("psql", tuple(arguments), environment)


def sqlite3_command(url: sa.engine.URL, extra: tuple[str, ...]) -> ClientCommand:
    """`sqlite3 [OPTIONS] FILE [SQL]`: the leading options of `extra` before the database file,
    the rest (SQL, say) after it, so that nothing the user typed is taken for the file."""
    if not url.database or url.database == ":memory:" or url.query.get("mode") == "memory":
        raise ClientError("the database is an in-memory SQLite one: no client can open it")
    database = url.database
    if url.query.get("uri") == "true":  # a `file:` URI; its query (mode=ro, …) travels with it
        query = "&".join(f"{k}={v}" for k, v in url.query.items() if k != "uri")
        database = f"{database}?{query}" if query else database
    count = sqlite3_option_count(extra)
    return ClientCommand("sqlite3", (*extra[:count], database, *extra[count:]))


def sqlite3_option_count(arguments: tuple[str, ...]) -> int:
    """How many leading arguments are sqlite3 options, their values included."""
    index = 0
    while index < len(arguments):
        argument = arguments[index]
        name = argument[1:] if argument.startswith("--") else argument
        if not name.startswith("-") or name == "-" or name.startswith("-A"):
            break
        index += 1 + SQLITE3_OPTION_VALUES.get(name, 0)
    return min(index, len(arguments))


def _single(value: str | tuple[str, ...] | None) -> str | None:
    if isinstance(value, tuple):
        return value[0] if value else None
    return value
