"""`flask dumpdata`: the app's rows as a fixture file (JSON Lines or JSON), streamed."""

from __future__ import annotations

import io
import os
import sys

import click
from flask.cli import with_appcontext

from pixcrawler.commands._errors import CommandError
from pixcrawler.commands._progress import progress_bar
from pixcrawler.services import fixtures
from pixcrawler.services.app_tables import SchemaMissingError


def dump_to_stdout(options: dict) -> fixtures.DumpResult:
    """Dump as UTF-8 with \\n line ends whatever the locale: the same bytes as with -o."""
    sys.stdout.flush()
    stream = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="\n")
    try:
        return fixtures.dump(stream, **options)
    finally:
        stream.flush()
        stream.detach()  # leave the process's stdout open


@click.command(
    help="""Write the app's rows as fixtures for `flask loaddata`.

    Records are {"table": ..., "row": {...}}: one a line (JSON Lines, the default) or in a JSON
    array (--format json, --indent, or an -o file ending in .json). Tables come in foreign-key
    order, rows by primary key, so the same data always gives the same bytes. With no TABLE,
    every app table but admin_accounts, whose password hashes are dumped only when it is named;
    the file is made readable by its owner only. alembic_version is never dumped.

    \b
    Examples:
      flask dumpdata -o fixtures.jsonl
      flask dumpdata profiles projects --format json --indent 2 > demo.json
    """
)
@click.argument("tables", nargs=-1, metavar="[TABLE]...")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="File to write; it appears only once complete. Default: standard output.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(fixtures.FORMATS),
    help="jsonl or json. Default: json for an -o file ending in .json or with --indent, "
    "else jsonl.",
)
@click.option(
    "--indent",
    type=click.IntRange(min=0),
    help="Pretty-print each record with this many spaces (JSON format only).",
)
@with_appcontext
def command(tables: tuple[str, ...], output: str | None, fmt: str | None, indent: int | None):
    if fmt is None and indent is not None:
        fmt = "json"
    fmt = fixtures.format_for(output, fmt)
    try:
        selected = fixtures.select_tables(tables)
        with progress_bar("Dumping", lambda: fixtures.count_rows(selected)) as progress:
            options = {"tables": selected, "fmt": fmt, "indent": indent, "progress": progress}
            if output in (None, "-"):
                result = dump_to_stdout(options)
            else:
                result = fixtures.dump_to_path(output, **options)
    except (fixtures.FixtureError, SchemaMissingError) as exc:
        raise CommandError(str(exc)) from None
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, as other Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(1) from None
    except OSError as exc:
        target = output if output not in (None, "-") else "standard output"
        raise CommandError(f"cannot write {target}: {exc.strerror}") from None
    if output not in (None, "-"):
        rows = sum(result.counts.values())
        note = ""
        if not tables:
            names = ", ".join(sorted(fixtures.DUMPED_ONLY_WHEN_NAMED))
            note = f"; {names} left out (name it to dump it)"
        click.echo(f"Dumped {rows} rows from {len(result.counts)} tables to {output}{note}.")
