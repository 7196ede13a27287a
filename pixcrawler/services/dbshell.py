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
    """sqlite3 on the database file."""
    if not url.database or url.database == ":memory:":
        raise ClientError("the database is an in-memory SQLite one: no client can open it")
    return ClientCommand("sqlite3", (*extra, url.database))


def _single(value: str | tuple[str, ...] | None) -> str | None:
    if isinstance(value, tuple):
        return value[0] if value else None
    return value
